import CofferServer
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Requests through the real application (router level, no sockets), signed by a minimal
/// SigV4 signer written here from the specification, independent of the server's verifier.
@Suite("HTTP through the application")
struct ApplicationTests {
    static let accessKey = "AKIAAPPTESTROOT00001"
    static let secret = "app-test-secret"

    func withApp(maxObjectSize: Int64? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var options = ServerOptions(dataFolder: FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-app-\(UUID().uuidString)"))
        options.rootAccessKey = Self.accessKey
        options.rootSecretKey = Self.secret
        options.port = 0
        if let maxObjectSize { options.maxObjectSize = maxObjectSize }
        let instance = try CofferInstance(options: options)
        let app = try instance.makeApplication(logger: Logger(label: "test"))
        try await app.test(.router) { client in try await body(client) }
        try instance.store.close()
    }

    /// Signs like botocore: host, x-amz-content-sha256, x-amz-date and every `x-amz-*` header of
    /// `extra` (which the result then carries too); path and query as given.
    static func signed(_ method: HTTPRequest.Method, _ path: String, body: [UInt8] = [], extra: HTTPFields = [:]) -> HTTPFields {
        let now = Date()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = formatter.string(from: now)
        let day = String(amzDate.prefix(8))
        let payload = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let parts = path.split(separator: "?", maxSplits: 1)
        let query = parts.count > 1 ? parts[1].split(separator: "&").map { item -> String in
            item.contains("=") ? String(item) : "\(item)="
        }.sorted().joined(separator: "&") : ""
        var signedFields = [("host", "localhost"), ("x-amz-content-sha256", payload), ("x-amz-date", amzDate)]
        for field in extra where field.name.canonicalName.hasPrefix("x-amz-") {
            signedFields.append((field.name.canonicalName, field.value))
        }
        signedFields.sort { $0.0 < $1.0 }
        let signedNames = signedFields.map(\.0).joined(separator: ";")
        let canonical = [method.rawValue, String(parts[0]), query]
            + signedFields.map { "\($0.0):\($0.1)" } + ["", signedNames, payload]
        let canonicalText = canonical.joined(separator: "\n")
        let scope = "\(day)/us-east-1/s3/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n"
            + SHA256.hash(data: Array(canonicalText.utf8)).map { String(format: "%02x", $0) }.joined()
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [day, "us-east-1", "s3", "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key)
            .map { String(format: "%02x", $0) }.joined()
        var fields = HTTPFields()
        fields[.authorization] = "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), "
            + "SignedHeaders=\(signedNames), Signature=\(signature)"
        fields[HTTPField.Name("x-amz-date")!] = amzDate
        fields[HTTPField.Name("x-amz-content-sha256")!] = payload
        fields.append(contentsOf: extra)
        return fields
    }

    @Test("A body one byte over the largest object is EntityTooLarge and stores nothing; one at the limit is stored")
    func entityTooLarge() async throws {
        let limit = 300_000
        try await withApp(maxObjectSize: Int64(limit)) { client in
            try await client.execute(uri: "/big-bucket", method: .put, headers: Self.signed(.put, "/big-bucket")) {
                #expect($0.status == .ok)
            }
            for (size, fits) in [(limit, true), (limit + 1, false), (3 * limit, false)] {
                let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ size) }
                try await client.execute(uri: "/big-bucket/k", method: .put, headers: Self.signed(.put, "/big-bucket/k", body: body),
                                         body: ByteBuffer(bytes: body)) { response in
                    #expect(response.status == (fits ? .ok : .badRequest))
                    if !fits {
                        let text = String(buffer: response.body)
                        #expect(text.contains("<Code>EntityTooLarge</Code>") && text.contains("<MaxSizeAllowed>\(limit)</MaxSizeAllowed>"))
                    }
                }
                // What is stored is the body that fit, whole.
                try await client.execute(uri: "/big-bucket/k", method: .get, headers: Self.signed(.get, "/big-bucket/k")) { response in
                    #expect(response.status == .ok)
                    // Compared outside #expect: a failure there would diff 300,000 bytes.
                    let whole = Array(buffer: response.body) == (0..<limit).map { UInt8(truncatingIfNeeded: $0 &+ limit) }
                    #expect(whole, "the stored body is not the one that fit")
                }
            }
        }
    }

    @Test("Health probe and anonymous requests")
    func unauthenticated() async throws {
        try await withApp { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
            }
            // Anonymous, refused by the authorization point; the bucket does not exist, which is no
            // secret (AWS): NoSuchBucket.
            try await client.execute(uri: "/some-bucket", method: .get) { response in
                #expect(response.status == .notFound)
                let body = String(buffer: response.body)
                #expect(body.contains("<Code>NoSuchBucket</Code>") && body.contains("<Resource>/some-bucket</Resource>"))
                let requestID = try #require(response.headers[HTTPField.Name("x-amz-request-id")!])
                #expect(body.contains("<RequestId>\(requestID)</RequestId>"))
            }
        }
    }

    @Test("Bucket, object and error round trip with signed requests")
    func signedRoundTrip() async throws {
        try await withApp { client in
            try await client.execute(uri: "/app-bucket", method: .put, headers: Self.signed(.put, "/app-bucket")) {
                #expect($0.status == .ok)
            }
            let body = Array("hello application".utf8)
            try await client.execute(uri: "/app-bucket/greeting.txt", method: .put,
                                     headers: Self.signed(.put, "/app-bucket/greeting.txt", body: body),
                                     body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] == "\"" + Insecure.MD5.hash(data: body).map { String(format: "%02x", $0) }.joined() + "\"")
            }
            try await client.execute(uri: "/app-bucket/greeting.txt", method: .get,
                                     headers: Self.signed(.get, "/app-bucket/greeting.txt")) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "hello application")
            }
            try await client.execute(uri: "/app-bucket/missing", method: .get,
                                     headers: Self.signed(.get, "/app-bucket/missing")) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing</Key>"))
            }
            try await client.execute(uri: "/app-bucket?tagging", method: .get,
                                     headers: Self.signed(.get, "/app-bucket?tagging")) { response in
                #expect(response.status == .notImplemented)
            }
            // A tampered body: the signed payload hash no longer matches, nothing is stored.
            try await client.execute(uri: "/app-bucket/tampered", method: .put,
                                     headers: Self.signed(.put, "/app-bucket/tampered", body: Array("a".utf8)),
                                     body: ByteBuffer(string: "b")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("XAmzContentSHA256Mismatch"))
            }
            try await client.execute(uri: "/app-bucket/tampered", method: .head,
                                     headers: Self.signed(.head, "/app-bucket/tampered")) { response in
                #expect(response.status == .notFound)
                #expect(response.body.readableBytes == 0)
            }
        }
    }
}
