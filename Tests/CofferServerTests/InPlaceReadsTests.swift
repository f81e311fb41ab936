import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// GET and HEAD answered in the channel pipeline (`InPlaceReads`) against the same requests on
/// Hummingbird's general path: two live servers on loopback over one data folder, one with
/// in-place reads off. Every answer must be the same but for the request id and the date.
@Suite("In-place reads")
struct InPlaceReadsTests {
    typealias Client = any TestClientProtocol

    func withServers(_ body: @Sendable (Client, Client) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-inplace-\(UUID().uuidString)")
        func instance(inPlace: Bool) throws -> CofferInstance {
            var options = ServerOptions(dataFolder: folder)
            options.rootAccessKey = ApplicationTests.accessKey
            options.rootSecretKey = ApplicationTests.secret
            options.port = 0
            options.inPlaceReads = inPlace
            return try CofferInstance(options: options)
        }
        let general = try instance(inPlace: false)
        let inPlace = try instance(inPlace: true)
        let generalApp = try general.makeApplication(logger: Logger(label: "general"))
        let inPlaceApp = try inPlace.makeApplication(logger: Logger(label: "in-place"))
        try await generalApp.test(.live) { generalClient in
            try await inPlaceApp.test(.live) { inPlaceClient in
                try await body(generalClient, inPlaceClient)
            }
        }
        try inPlace.store.close()
        try general.store.close()
    }

    static func put(_ client: Client, _ path: String, _ body: [UInt8], headers extra: HTTPFields = [:]) async throws
        -> String? {
        let headers = ApplicationTests.signed(.put, path, body: body, extra: extra)
        return try await client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: body)) {
            #expect($0.status == .ok, "PUT \(path)")
            return $0.headers[HTTPField.Name("x-amz-version-id")!]
        }
    }

    /// Status, headers (without the per-response ones) and body (with the request id taken out).
    static func answer(_ client: Client, _ method: HTTPRequest.Method, _ path: String, extra: HTTPFields = [:])
        async throws -> (HTTPResponse.Status, [String: String], [UInt8]) {
        let headers = ApplicationTests.signed(method, path, extra: extra)
        return try await client.execute(uri: path, method: method, headers: headers) { response in
            var fields: [String: String] = [:]
            for field in response.headers {
                let name = field.name.canonicalName
                if ["x-amz-request-id", "x-amz-id-2", "date"].contains(name) { continue }
                fields[name, default: ""] += field.value
            }
            // Error bodies carry the request id.
            let id = response.headers[HTTPField.Name("x-amz-request-id")!] ?? "-"
            return (response.status, fields, Array(String(buffer: response.body).replacingOccurrences(of: id, with: "ID").utf8))
        }
    }

    static func inPlaceCount(_ client: Client) async throws -> Int {
        try await client.execute(uri: "/metrics", method: .get) { response in
            let line = String(buffer: response.body).split(separator: "\n")
                .first { $0.hasPrefix("coffer_in_place_reads_total ") }
            return line.flatMap { Int($0.split(separator: " ")[1]) } ?? -1
        }
    }

    @Test("Every GET and HEAD answers as the general path does; successes of small objects go in place")
    func sameAnswers() async throws {
        try await withServers { general, inPlace in
            try await general.execute(uri: "/in-place", method: .put, headers: ApplicationTests.signed(.put, "/in-place")) {
                #expect($0.status == .ok)
            }
            let versioning = Array("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>".utf8)
            try await general.execute(uri: "/in-place?versioning", method: .put,
                                      headers: ApplicationTests.signed(.put, "/in-place?versioning", body: versioning),
                                      body: ByteBuffer(bytes: versioning)) { #expect($0.status == .ok) }
            let first = try await Self.put(general, "/in-place/small.txt", Array("first version".utf8))
            var meta = HTTPFields()
            meta[HTTPField.Name("x-amz-meta-colour")!] = "blue"
            meta[.contentType] = "text/plain"
            meta[HTTPField.Name("Cache-Control")!] = "max-age=60"
            _ = try await Self.put(general, "/in-place/small.txt", Array("second version, with metadata".utf8), headers: meta)
            _ = try await Self.put(general, "/in-place/empty", [])
            let large = [UInt8](repeating: 0x61, count: 70 * 1024)  // above the inline limit: a blob file
            _ = try await Self.put(general, "/in-place/large.bin", large)
            let firstID = try #require(first)

            var range = HTTPFields()
            range[.range] = "bytes=3-9"
            var notMatching = HTTPFields()
            notMatching[.ifNoneMatch] = "\"0123\""
            var matching = HTTPFields()
            matching[.ifMatch] = "\"0123\""
            var badRange = HTTPFields()
            badRange[.range] = "bytes=500-600"
            // (method, path, extra headers, answered in place?)
            let cases: [(HTTPRequest.Method, String, HTTPFields, Bool)] = [
                (.get, "/in-place/small.txt", [:], true),
                (.head, "/in-place/small.txt", [:], true),
                (.get, "/in-place/small.txt?versionId=\(firstID)", [:], true),
                (.get, "/in-place/small.txt", range, true),
                (.get, "/in-place/small.txt?response-content-type=image%2Fpng&response-cache-control=no-store", [:], true),
                (.get, "/in-place/small.txt", notMatching, true),
                (.get, "/in-place/empty", [:], true),
                (.head, "/in-place/large.bin", [:], true),
                (.get, "/in-place/large.bin", [:], false),
                (.get, "/in-place/small.txt", matching, false),
                (.get, "/in-place/small.txt", badRange, false),
                (.get, "/in-place/missing", [:], false),
                (.head, "/in-place/missing", [:], false),
                (.get, "/in-place/small.txt?versionId=nonsense", [:], false),
                (.get, "/no-such-bucket/key", [:], false),
                (.get, "/in-place", [:], false),
            ]
            let before = try await Self.inPlaceCount(inPlace)
            for (method, path, extra, _) in cases {
                let expected = try await Self.answer(general, method, path, extra: extra)
                let actual = try await Self.answer(inPlace, method, path, extra: extra)
                #expect(actual.0 == expected.0, "\(method) \(path)")
                #expect(actual.1 == expected.1, "\(method) \(path)")
                #expect(actual.2 == expected.2, "\(method) \(path)")
            }
            // Unsigned: the general path's AccessDenied.
            let anonymous = try await inPlace.execute(uri: "/in-place/small.txt", method: .get) { $0.status }
            #expect(anonymous == .forbidden)
            let after = try await Self.inPlaceCount(inPlace)
            #expect(after - before == cases.filter(\.3).count)
            #expect(try await Self.inPlaceCount(general) == 0)
        }
    }

    @Test("A plain GET's prepared answer is rebuilt after any write to its object; a conditional or ranged GET never gets it")
    func preparedAnswers() async throws {
        try await withServers { general, inPlace in
            try await general.execute(uri: "/prepared", method: .put, headers: ApplicationTests.signed(.put, "/prepared")) {
                #expect($0.status == .ok)
            }
            _ = try await Self.put(general, "/prepared/hot.txt", Array("first body".utf8))
            let first = try await Self.answer(inPlace, .get, "/prepared/hot.txt")
            #expect(first.0 == .ok && first.2 == Array("first body".utf8))
            #expect(try await Self.answer(inPlace, .get, "/prepared/hot.txt") == first)  // the prepared answer
            _ = try await Self.answer(inPlace, .head, "/prepared/hot.txt")

            // Overwritten through the other server: the next GET and HEAD here answer the new object.
            var typed = HTTPFields()
            typed[.contentType] = "text/csv"
            _ = try await Self.put(general, "/prepared/hot.txt", Array("a second, longer body".utf8), headers: typed)
            let second = try await Self.answer(inPlace, .get, "/prepared/hot.txt")
            #expect(second.0 == .ok && second.2 == Array("a second, longer body".utf8))
            #expect(second.1["content-type"] == "text/csv" && second.1["etag"] != first.1["etag"])
            let head = try await Self.answer(inPlace, .head, "/prepared/hot.txt")
            #expect(head.1["content-length"] == "21" && head.2.isEmpty)

            // A condition or a range is decided on the request, not taken from the prepared answer.
            var unchanged = HTTPFields()
            unchanged[.ifNoneMatch] = second.1["etag"]
            #expect(try await Self.answer(inPlace, .get, "/prepared/hot.txt", extra: unchanged).0 == .notModified)
            var range = HTTPFields()
            range[.range] = "bytes=0-4"
            let ranged = try await Self.answer(inPlace, .get, "/prepared/hot.txt", extra: range)
            #expect(ranged.0 == .partialContent && ranged.2 == Array("a sec".utf8))
            #expect(try await Self.answer(inPlace, .get, "/prepared/hot.txt?response-content-type=image%2Fpng").1["content-type"]
                == "image/png")

            // Deleted: not found here either.
            try await general.execute(uri: "/prepared/hot.txt", method: .delete,
                                      headers: ApplicationTests.signed(.delete, "/prepared/hot.txt")) {
                #expect($0.status == .noContent)
            }
            #expect(try await Self.answer(inPlace, .get, "/prepared/hot.txt").0 == .notFound)
        }
    }
}
