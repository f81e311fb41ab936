// The harnesses reach Coffer's internals through @testable imports, which only debug builds (and
// scripts/fuzz's instrumented debug build) allow: a release build of the package compiles none of this.
#if DEBUG
@testable import CofferCore
@testable import CofferEngine
@testable import CofferIAM
@testable import CofferServer
import CofferPolicy
import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import TOTP
import StrictJSON
import WebAuthn

/// Every parser of outside input, each behind one name. A harness feeds arbitrary bytes to its
/// parser and asks only that it returns or throws — a Swift trap (overflow, out-of-range index,
/// force unwrap) is a crash libFuzzer reports, and in the server it would be a remote kill.
enum Harness: String, CaseIterable {
    case dates, range, target, endpoint, sigv4, sigv2, chunked, mfa, xml, versioning, complete, delete, bucket,
         form, base32, keyuri, tokens, policy, console, webauthn, codec, json, phone

    func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .policy:
            // A policy document of either kind, then evaluated (conditions, variables, wildcards)
            // against a request whose keys come from the same bytes.
            for kind in [PolicyDocument.Kind.identity, .resource] {
                guard let document = try? PolicyDocument(json: bytes, kind: kind) else { continue }
                let keys = ["aws:username": [text], "aws:sourceip": ["192.0.2.1"], "s3:prefix": [text],
                            "aws:multifactorauthage": ["30"], "aws:currenttime": ["2026-11-29T00:00:00Z"]]
                _ = PolicyEvaluator.evaluate(identity: kind == .identity ? [("p", document)] : [],
                                             resource: kind == .resource ? ("b", document) : nil,
                                             context: RequestContext(action: "s3:GetObject", resource: "arn:aws:s3:::b/" + text,
                                                                     principalArn: "arn:aws:iam::123456789012:user/u",
                                                                     principalAccount: "123456789012", keys: keys))
            }
        case .dates:
            _ = HTTPDate.parse(text)
            _ = SigV4Verifier.parseAmzDate(text)
        case .range:
            // The first eight bytes pick the object's size; the rest is the header.
            let size = Int64(bitPattern: bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) & Int64.max
            let header = String(decoding: bytes.dropFirst(8), as: UTF8.self)
            _ = try? S3Responder.parseRange(header, size: size)
            _ = try? S3Responder.parseCopySourceRange(header, size: size)
        case .target:
            if let target = try? RequestTarget(text, virtualHostBucket: nil) {
                _ = try? SigV4Verifier.canonicalRequest(method: "GET", target: target, includeSignature: false,
                                                        head: HTTPRequest(method: .get, scheme: nil, authority: "h", path: "/"),
                                                        signedHeaders: "host", payloadHash: "UNSIGNED-PAYLOAD")
                // The canonical query taken as sent (canonical and sorted) is the general path's.
                for includeSignature in [false, true] {
                    var fast: [UInt8] = [], general: [UInt8] = []
                    let fastResult = Result { try SigV4Verifier.appendCanonicalQuery(target.rawQuery, includeSignature: includeSignature, to: &fast) }
                    let generalResult = Result {
                        try SigV4Verifier.appendCanonicalQuery(target.rawQuery, includeSignature: includeSignature, to: &general, inPlace: false)
                    }
                    let fastRead = (try? fastResult.get()) != nil, generalRead = (try? generalResult.get()) != nil
                    precondition(fast == general && fastRead == generalRead,
                                 "canonical query: the in-place path differs from the general one")
                }
            }
            _ = Percent.decode(text, plusAsSpace: true)
            _ = try? S3Responder.parseCopySource(text)
            _ = RequestTarget.virtualHostBucket(authority: text, domain: "example.com")
            _ = HostHeader.split(text)
            _ = IPLiteral.isLoopback(text)
        case .endpoint:
            // The first byte picks the method; the rest is the request target.
            let methods = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]
            let method = methods[Int(bytes.first ?? 0) % methods.count]
            if let target = try? RequestTarget(String(decoding: bytes.dropFirst(), as: UTF8.self)) {
                // The typed request, its authorization table and condition keys.
                var headers = HTTPFields()
                if (bytes.first ?? 0) & 0x80 != 0 { headers[S3Responder.copySource] = target["copy"] ?? "src/key?versionId=v" }
                if let request = try? S3Request(method: method, target: target, headers: headers) {
                    _ = request.access
                    _ = request.conditionKeys
                    _ = request.operation.mfaRule
                }
            }
        case .sigv4, .sigv2:
            guard let (head, target) = Self.request(bytes) else { return }
            for service in ["s3", "iam", "sts"] {
                _ = try? Self.verifier.authenticate(head, target: target, service: service,
                                                    bodySHA256: service == "s3" ? nil : Self.emptyHash)
            }
        case .chunked:
            // Unsigned and signed framing, fed in pieces whose sizes the input's first byte picks.
            let step = Int(bytes.first ?? 1) % 97 + 1
            let key = SymmetricKey(data: [UInt8](repeating: 7, count: 32))
            for signing in [nil, StreamingPayload.Signing(seedSignature: String(repeating: "0", count: 64), key: key,
                                                          scope: "20260101/us-east-1/s3/aws4_request",
                                                          amzDate: "20260101T000000Z")] {
                var decoder = AWSChunkedDecoder(payload: StreamingPayload(signing: signing, hasTrailer: bytes.count % 2 == 0))
                var offset = 0
                while offset < bytes.count {
                    let end = min(bytes.count, offset + step)
                    let failed = bytes[offset..<end].withUnsafeBytes { raw in
                        (try? decoder.feed(raw) { _ in }) == nil
                    }
                    if failed { break }
                    offset = end
                }
            }
        case .mfa:
            _ = PresentedMFA(header: text)
            _ = Names.isWellFormedSerial(text)
        case .xml:
            _ = try? XMLParser.parse(bytes)
        case .versioning:
            _ = try? S3Responder.versioningRequest(bytes)
        case .complete:
            _ = try? S3Responder.completedParts(bytes)
        case .delete:
            _ = try? S3Responder.deleteRequest(bytes)
        case .bucket:
            _ = try? S3Responder.bucketRegion(bytes, default: "us-east-1")
            _ = try? BucketName.validate(text)
        case .form:
            if let form = try? QueryAPI.parseForm(bytes) {
                let call = QueryCall(action: IAMAction(rawValue: form["Action"] ?? "") ?? .getCallerIdentity, form: form,
                                     caller: Principal(userName: "root"), info: Registry.RequestInfo(source: nil, requestID: nil))
                _ = try? call.maxItems()
                _ = call.tags()
                _ = call.list("TagKeys")
                _ = try? form["DurationSeconds"].map(QueryAPI.integer)
            }
        case .console:
            // The console's parsers: a path's names (as the router's parameters reach the
            // handlers, percent-decoded), forms, queries, cookies, and the throttle's address key.
            for segment in text.split(separator: "/") { _ = Percent.decode(segment) }
            _ = ConsoleResponder.hostName(text)
            _ = ConsoleResponder.trail(text)
            _ = ConsoleResponder.pairs(text)
            _ = ConsoleResponder.query(text)
            _ = ConsoleResponder.cookieValues(text)
            _ = SignInThrottle.network(text)
        case .codec:
            // Whatever NIO's decoder reads, `HTTPTypesCodec` must turn into the request the
            // swift-nio-extras codec makes of it (its only job is to do that more cheaply).
            let channel = EmbeddedChannel()
            defer { _ = try? channel.finish() }
            try! channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
            _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
            while case .head(let head)? = try? channel.readInbound(as: HTTPServerRequestPart.self) {
                let theirs = try? HTTPRequest(head, secure: false, splitCookie: false)
                let ours = try? HTTPTypesCodec.request(head)
                precondition(ours == theirs, "HTTPTypesCodec and NIO read different requests: \(String(describing: ours)) "
                             + "vs \(String(describing: theirs)) from \(text.debugDescription)")
                var fields = HTTPFields()
                for (name, value) in head.headers {
                    if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
                }
                precondition(HTTPTypesCodec.headers(fields) == HTTPHeaders(fields),
                             "HTTPTypesCodec wrote different headers from \(text.debugDescription)")
            }
        case .phone:
            // A phone number as typed into the SMS wizard: whatever is accepted is E.164, reads the
            // same again, and masks to bullets and its last four digits only.
            guard let phone = PhoneNumber(text) else { return }
            let digits = phone.e164.dropFirst()
            guard phone.e164.first == "+", (8...15).contains(digits.count), digits.first != "0",
                  digits.allSatisfy({ $0.isASCII && $0.isNumber }), PhoneNumber(phone.e164) == phone
            else { fatalError("PhoneNumber accepted \(text.debugDescription) as \(phone.e164)") }
            let masked = phone.masked
            guard masked.count == phone.e164.count, masked.hasSuffix(String(digits.suffix(4))),
                  masked.dropFirst().dropLast(4).allSatisfy({ $0 == "•" })
            else { fatalError("PhoneNumber masked \(phone.e164) as \(masked)") }
        case .json:
            // RFC 8259, strictly: whatever is accepted reads the same once written back out.
            guard let value = try? JSON.parse(bytes) else { return }
            let again = Self.encode(value)
            guard (try? JSON.parse(Array(again.utf8))) == value else {
                fatalError("StrictJSON read its own output differently: \(text.debugDescription)")
            }
        case .webauthn:
            // CBOR, and everything built on it: COSE keys, authenticator data, attestation objects
            // (with client data that names the challenge, so the parsing past it is reached).
            _ = try? CBORDecoder.decode(bytes)
            _ = try? CBORDecoder.decodePrefix(bytes)
            _ = try? COSEKey(encoded: bytes)
            _ = try? AuthenticatorData(bytes)
            _ = try? ClientData(json: bytes)
            let challenge = [UInt8](repeating: 7, count: 32)
            let client = Array(#"{"type":"webauthn.create","challenge":"\#(Base64URL.encode(challenge))","origin":"http://localhost:9001"}"#.utf8)
            _ = try? WebAuthnVerifier.register(attestationObject: bytes, clientDataJSON: client, challenge: challenge,
                                               rp: RelyingParty(id: "localhost", origins: ["http://localhost:9001"]))
            _ = Base64URL.decode(text)
        case .base32:
            _ = try? Base32.decode(text)
        case .keyuri:
            _ = try? KeyURI(parsing: text)
        case .tokens:
            _ = try? HardwareTokens.parse(text)
        }
    }

    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// A verifier with fixed root keys and a clock at the corpus's signing day.
    static let verifier = SigV4Verifier(
        credentials: RegistryCredentialStore(rootAccessKey: "AKIAFUZZROOTKEY00001", rootSecretKey: "fuzz-secret", registry: nil),
        now: { 1_767_225_600 })  // 2026-01-01T00:00:00Z

    /// `METHOD TARGET\nName: value\n…` → a request head and its parsed target.
    /// A JSON value written out (escaping every control character), for the `json` harness.
    static func encode(_ value: JSON) -> String {
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        switch value {
        case .object(let object): return "{" + object.members.map { quoted($0.key) + ":" + encode($0.value) }.joined(separator: ",") + "}"
        case .array(let items): return "[" + items.map(encode).joined(separator: ",") + "]"
        case .string(let text): return quoted(text)
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        }
    }

    static func request(_ bytes: [UInt8]) -> (HTTPRequest, RequestTarget)? {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first else { return nil }
        let parts = first.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let target = try? RequestTarget(String(parts[1])) else { return nil }
        var fields = HTTPFields()
        var authority = "localhost"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "host" { authority = value; continue }
            guard let fieldName = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        let head = HTTPRequest(method: HTTPRequest.Method(String(parts[0])) ?? .get, scheme: "http",
                               authority: authority, path: String(parts[1]), headerFields: fields)
        return (head, target)
    }
}
#endif
