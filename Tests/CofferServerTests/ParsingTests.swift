import Foundation
import HTTPTypes
import CofferCore
import Testing
@testable import CofferServer

@Suite("Request parsing, XML and dates")
struct ParsingTests {
    @Test("Targets keep the raw path and decode bucket, key and query")
    func targets() throws {
        let target = try RequestTarget("/bkt/a%20b/%2B//c%C3%BC?versions&prefix=x%2Fy&max-keys=2")
        #expect(target.rawPath == "/bkt/a%20b/%2B//c%C3%BC")
        #expect(target.bucket == "bkt")
        #expect(target.key == "a b/+//cü")
        #expect(target["versions"] == "" && target["prefix"] == "x/y" && target["max-keys"] == "2")
        #expect(try RequestTarget("/").bucket == nil)
        #expect(try RequestTarget("/bkt/").key == nil)
        #expect(throws: S3Error.self) { try RequestTarget("/bkt/%ZZ") }
        #expect(throws: S3Error.self) { try RequestTarget("/bkt/%FF") }
    }

    @Test("Query items: empty items, bare names, '=' in values, escapes, '+'; SigV4's canonical query")
    func queryItems() throws {
        let target = try RequestTarget("/b/k?z=1&&a&c=d=e&%41=%2b+&=v&ü=%C3%BC&")
        #expect(target.query.map(\.name) == ["z", "a", "c", "A", "", "ü"])
        // '+' is a plus, as the signature has it (%2B), not a space.
        #expect(target.query.map(\.value) == ["1", "", "d=e", "++", "v", "ü"])
        let head = HTTPRequest(method: .get, scheme: nil, authority: "h", path: "/b/k")
        let canonical = try SigV4Verifier.canonicalRequest(method: "GET", target: target, includeSignature: false, head: head,
                                                           signedHeaders: "host", payloadHash: "UNSIGNED-PAYLOAD")
        let lines = String(decoding: canonical, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[2] == "=v&%C3%BC=%C3%BC&A=%2B%2B&a=&c=d%3De&z=1")  // sorted by the encoded bytes
        let signed = try RequestTarget("/b/k?X-Amz-Signature=abc&x=%7e")
        let withoutSignature = try SigV4Verifier.canonicalRequest(method: "GET", target: signed, includeSignature: false,
                                                                  head: head, signedHeaders: "host", payloadHash: "")
        #expect(String(decoding: withoutSignature, as: UTF8.self).split(separator: "\n")[2] == "x=~")
        // A name that is a prefix of another comes first; a repeated name is ordered by value.
        let repeated = try RequestTarget("/b/k?ab=1&a=2&a=1&a=10&b")
        let sorted = try SigV4Verifier.canonicalRequest(method: "GET", target: repeated, includeSignature: true,
                                                        head: head, signedHeaders: "host", payloadHash: "")
        #expect(String(decoding: sorted, as: UTF8.self).split(separator: "\n")[2] == "a=1&a=10&a=2&ab=1&b=")
        // A query sent canonical is taken as it stands (sorted in place); one that is not, rewritten.
        func canonicalQuery(_ query: Substring, includeSignature: Bool = false, inPlace: Bool = true) throws -> String {
            var output: [UInt8] = []
            try SigV4Verifier.appendCanonicalQuery(query, includeSignature: includeSignature, to: &output, inPlace: inPlace)
            return String(decoding: output, as: UTF8.self)
        }
        for (query, expected) in [
            ("X-Amz-Algorithm=A&X-Amz-Credential=K%2Fd&X-Amz-Signature=s&X-Amz-SignedHeaders=host",
             "X-Amz-Algorithm=A&X-Amz-Credential=K%2Fd&X-Amz-SignedHeaders=host"),
            ("a=%2f&b=1", "a=%2F&b=1"),  // lowercase hex
            ("a=%41&b=1", "a=A&b=1"),  // an unreserved byte escaped
            ("b=1&a=2", "a=2&b=1"),  // out of order
            // botocore's presigned order: canonical, not sorted.
            ("X-Amz-Date=d&X-Amz-SignedHeaders=host&X-Amz-Expires=1&X-Amz-Signature=s",
             "X-Amz-Date=d&X-Amz-Expires=1&X-Amz-SignedHeaders=host"),
            ("X-Amz-Signatur%65=abc&x=1", "x=1"),  // the signature by its decoded name
            ("a=1&a=1&a", "a=&a=1&a=1"),
        ] as [(Substring, String)] {
            #expect(try canonicalQuery(query) == expected)
            #expect(try canonicalQuery(query, inPlace: false) == expected)
        }
        #expect(try canonicalQuery("a=1&X-Amz-Signature=s", includeSignature: true) == "X-Amz-Signature=s&a=1")
        #expect(throws: S3Error.self) { try canonicalQuery("a=%zz") }
        // A broken signature item is refused by both paths, though it is left out of the result.
        #expect(throws: S3Error.self) { try canonicalQuery("X-Amz-Signature=%zz&a=1") }
        #expect(throws: S3Error.self) { try canonicalQuery("X-Amz-Signature=%zz&a=1", inPlace: false) }
        // RFC 3986's unreserved bytes, and only they, stay as they are.
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let everyByte: [UInt8] = (0...255).map { UInt8($0) }
        let kept: [UInt8] = everyByte.filter { Percent.isUnreserved($0) }
        let expected: [UInt8] = everyByte.filter { unreserved.contains($0) }
        #expect(kept == expected)
        #expect(throws: S3Error.self) { try RequestTarget("/b/k?a=%zz") }
        #expect(throws: S3Error.self) { try RequestTarget("/b/k?a=%41%") }
        #expect(throws: S3Error.self) { try RequestTarget("/b/k?a=%4") }
        // Form decoding (the IAM Query API's body): a raw '+' is a space, an escaped one a plus.
        #expect(Percent.decode("a+b%2Bc%20d", plusAsSpace: true) == "a b+c d")
        #expect(Percent.decode("a%2", plusAsSpace: true) == nil)
        #expect(Percent.decode("%FF") == nil)  // not UTF-8
    }

    @Test("Routing: one operation per method and sub-resource; unimplemented ones are 501")
    func endpoints() throws {
        func operation(_ method: String, _ target: String) throws -> S3Operation {
            try S3Request(method: method, target: RequestTarget(target), headers: HTTPFields()).operation
        }
        #expect(try operation("GET", "/") == .listBuckets)
        #expect(try operation("PUT", "/b") == .createBucket)
        #expect(try operation("GET", "/b?versioning") == .getBucketVersioning)
        #expect(try operation("PUT", "/b?versioning") == .putBucketVersioning)
        #expect(try operation("GET", "/b?versions") == .listObjectVersions)
        #expect(try operation("GET", "/b?list-type=2") == .listObjectsV2)
        #expect(try operation("GET", "/b") == .listObjects)
        #expect(try operation("POST", "/b?delete") == .deleteObjects)
        #expect(try operation("DELETE", "/b/k") == .deleteObject)
        #expect(try operation("GET", "/b/k?acl") == .getObjectAcl)
        #expect(try operation("POST", "/b/k?uploads") == .createMultipartUpload)
        #expect(try operation("PUT", "/b/k?partNumber=1&uploadId=u") == .uploadPart)
        #expect(try S3Request(method: "PUT", target: RequestTarget("/b/k?partNumber=1&uploadId=u"),
                              headers: [S3Responder.copySource: "/src/key"]).operation == .uploadPartCopy)
        #expect(try operation("POST", "/b/k?uploadId=u") == .completeMultipartUpload)
        #expect(try operation("DELETE", "/b/k?uploadId=u") == .abortMultipartUpload)
        #expect(try operation("GET", "/b/k?uploadId=u") == .listParts)
        #expect(try operation("GET", "/b?uploads") == .listMultipartUploads)
        #expect(try operation("GET", "/b/k?partNumber=1") == .getObject)
        #expect(try operation("GET", "/b?list-type=2&prefix=&delimiter=&x-id=ListObjectsV2") == .listObjectsV2)
        #expect(try operation("GET", "/b/k?unknown=value") == .getObject)  // valued unknowns are ignored
        // A sub-resource the operation does not define, or an unknown valueless one, never falls
        // through to the base operation.
        for (method, target) in [("GET", "/b?tagging"), ("PUT", "/b/k?uploads"), ("PATCH", "/b/k"), ("POST", "/b"),
                                 ("POST", "/b/k"), ("DELETE", "/b?metadataConfiguration"), ("DELETE", "/b?versioning"),
                                 ("DELETE", "/b?versioning=x"), ("GET", "/b?delete"), ("DELETE", "/b/k?versions"),
                                 ("PUT", "/b/k?notAThing"), ("HEAD", "/b?acl"), ("GET", "/b/k?uploads")] {
            #expect(throws: S3Error.self, "\(method) \(target)") { try operation(method, target) }
        }
    }

    @Test("XML parser: elements, entities, CDATA; refuses DOCTYPE and broken documents")
    func xml() throws {
        let node = try XMLParser.parse(Array("""
            <?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><!-- c -->
            <Object><Key>a &amp; b&#x20;&lt;c&gt;</Key></Object><Object><Key><![CDATA[x<y]]></Key></Object>
            <Quiet>true</Quiet></Delete>
            """.utf8))
        #expect(node.name == "Delete")
        #expect(node.all("Object").compactMap { $0.child("Key")?.text } == ["a & b <c>", "x<y"])
        #expect(node.child("Quiet")?.text == "true")
        for bad in ["<a>", "<a></b>", "<a/><b/>", "<!DOCTYPE a><a/>", "<a>&bogus;</a>", "text", "", "<a>&#0;</a>",
                    "<a>\u{0}</a>", "<a>&#x110000;</a>", "<a>&#99999999999999999999;</a>",
                    String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)] {
            #expect(throws: XMLParseError.self) { try XMLParser.parse(Array(bad.utf8)) }
        }
        var writer = XMLWriter()
        writer.document("R") { $0.element("K", "a<b>&\"'\u{1}") }
        #expect(writer.text.hasSuffix("<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><K>a&lt;b&gt;&amp;&quot;&apos;&#1;</K></R>"))
    }

    @Test("HTTP dates and ISO 8601 timestamps")
    func dates() {
        #expect(HTTPDate.format(milliseconds: 784_111_777_000) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.iso8601(milliseconds: 1_255_369_830_123) == "2009-10-12T17:50:30.123Z")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777_000)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777_000)
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.format(milliseconds: 4_102_444_800_000) == "Fri, 01 Jan 2100 00:00:00 GMT")
        #expect(SigV4Verifier.amzDateString(1_369_353_600) == "20130524T000000Z")
        #expect(SigV4Verifier.parseAmzDate("20130524T000000Z") == 1_369_353_600)
        #expect(HTTPDate.parse("sun, 06 NOV 1994 08:49:37 gmt") == 784_111_777_000)
        #expect(HTTPDate.parse("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799_000)
    }

    /// Each of these trapped on arithmetic overflow (a one-request kill) before: every number
    /// in a date is now bounded before any arithmetic.
    @Test("Hostile dates are refused, never a trap", arguments: [
        "Thu, 01 Jan 300000000000 00:00:00 GMT", "Thu, 01 Jan 9223372036854775807 00:00:00 GMT",
        "Thu, 99999999999999999999 Jan 2020 00:00:00 GMT", "Sun Nov  6 08:49:37 300000000000",
        "Thu, 01 Jan 10000 00:00:00 GMT", "Thu, 01 Jan 2020 99:00:00 GMT",
        String(repeating: "9", count: 5000), "Thu, 01 Jan \u{0665}\u{0660}\u{0662}\u{0660} 00:00:00 GMT",
    ])
    func hostileDates(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test("x-amz-date takes exactly sixteen ASCII characters of digits", arguments: [
        "+0130524T000000Z", "-0130524T000000Z", "2013+524T000000Z", "20130524T0000+0Z", "99999999T999999Z",
    ])
    func hostileAmzDates(_ text: String) {
        #expect(SigV4Verifier.parseAmzDate(text) == nil)
    }

    @Test("Request ids: 16 uppercase hex digits, never repeated")
    func requestIDs() {
        let ids = (0..<20_000).map { _ in RequestID.make() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.utf8.count == 16 && $0.utf8.allSatisfy { Array("0123456789ABCDEF".utf8).contains($0) } })
        // Consecutive ids share no obvious pattern (the counter is mixed): their first digits vary.
        #expect(Set(ids.prefix(64).map { $0.prefix(1) }).count > 8)
    }

    @Test("Byte ranges", arguments: [
        ("bytes=0-9", Int64(100), 0...9 as ClosedRange<Int64>?), ("bytes=90-", 100, 90...99), ("bytes=-10", 100, 90...99),
        ("bytes=-200", 100, 0...99), ("bytes=5-500", 100, 5...99), ("bytes=9-3", 100, nil), ("bytes=0-1,3-4", 100, nil),
        ("items=0-1", 100, nil), ("bytes=x-1", 100, nil),
    ])
    func ranges(header: String, size: Int64, expected: ClosedRange<Int64>?) throws {
        #expect(try S3Responder.parseRange(header, size: size) == expected)
    }

    @Test("Unsatisfiable ranges", arguments: ["bytes=100-", "bytes=100-200", "bytes=-0"])
    func unsatisfiable(header: String) {
        #expect(throws: S3Error.self) { try S3Responder.parseRange(header, size: 100) }
    }
}

@Suite("Flexible-checksum CRCs")
struct CRCTests {
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        bytes.withUnsafeBytes { crc.update($0) }
        return crc.value
    }

    static func crc64(_ bytes: [UInt8]) -> UInt64 {
        var crc = CRC64NVME()
        bytes.withUnsafeBytes { crc.update($0) }
        return crc.value
    }

    @Test("Check values and published digests")
    func checkValues() {
        #expect(Self.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(Self.crc64(Array("123456789".utf8)) == 0xAE8B_1486_0A79_9888)
        var crc = CRC64NVME()
        Array("Hello, World!\n".utf8).withUnsafeBytes { crc.update($0) }
        #expect(Data(crc.digest).base64EncodedString() == "SoXXbx67KpE=")  // as AWS returned for that file
        #expect(Self.crc32c([]) == 0 && Self.crc64([]) == 0)
    }

    @Test("Incremental updates in any split equal one update (slice-by-8 and byte paths agree)")
    func incremental() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole32 = Self.crc32c(bytes), whole64 = Self.crc64(bytes)
        for split in [1, 3, 7, 8, 9, 500, 999] {
            var a = CRC32C(), b = CRC64NVME()
            bytes[..<split].withUnsafeBytes { a.update($0); b.update($0) }
            bytes[split...].withUnsafeBytes { a.update($0); b.update($0) }
            #expect(a.value == whole32 && b.value == whole64, "split at \(split)")
        }
    }
}
