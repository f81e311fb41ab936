import CofferCore
import CofferIAM
import CofferStore
import Crypto
import Foundation
import HTTPTypes
import Synchronization

/// What a verified request promised about its body.
enum PayloadHash: Sendable, Equatable {
    /// The hex SHA-256 the body must have.
    case sha256(String)
    case unsigned
    /// An aws-chunked body (`STREAMING-…`).
    case streaming(StreamingPayload)
}

/// The outcome of authentication.
struct Authentication: Sendable {
    var credential: Credential
    var payload: PayloadHash
}

/// AWS Signature Version 4, verified exactly as botocore signs: the raw path, the canonical query,
/// the client's SignedHeaders list, and the literal `x-amz-content-sha256` value.
final class SigV4Verifier: Sendable {
    let credentials: any CredentialStore
    let maxSkew: Int64
    /// The region a credential scope must name (the server's `--region`).
    let region: String
    let now: @Sendable () -> Int64
    /// Signing keys by scope, per thread (`PerThread`): no lock and no shared reference counts.
    private let signings = PerThread { SigningCache() }

    private final class SigningCache {
        var entries: [SigningScope: Signing] = [:]
        /// The entry used last, as one reference: checking it retains nothing else.
        var last: Last?
    }

    private final class Last {
        let scope: SigningScope
        let signing: Signing
        init(_ scope: SigningScope, _ signing: Signing) { (self.scope, self.signing) = (scope, signing) }
    }

    init(credentials: any CredentialStore, region: String = "us-east-1", maxSkew: Int64 = 15 * 60,
         now: @escaping @Sendable () -> Int64) {
        self.credentials = credentials
        self.region = region
        self.maxSkew = maxSkew
        self.now = now
    }

    /// The regions a scope may name for `service`: the server's; IAM is global, and every AWS
    /// client signs it for us-east-1, so that is accepted too.
    func acceptsRegion(_ scopeRegion: String, service: String) -> Bool {
        scopeRegion == region || (service == "iam" && scopeRegion == "us-east-1")
    }

    /// Authenticates a request by its Authorization header or its presigned query.
    /// `bodySHA256` is the hash of an already-read body, for services (IAM, STS) whose clients
    /// send no `x-amz-content-sha256` header.
    func authenticate(_ head: HTTPRequest, target: RequestTarget, service: String,
                      bodySHA256: String? = nil) throws -> Authentication {
        let authentication = try verify(head, target: target, service: service, bodySHA256: bodySHA256)
        credentials.noteUse(authentication.credential, service: service, region: service == "s3" ? region : "us-east-1")
        return authentication
    }

    private func verify(_ head: HTTPRequest, target: RequestTarget, service: String,
                        bodySHA256: String?) throws -> Authentication {
        if let authorization = head.headerFields.value(.authorization) {
            return try verifyHeader(authorization, head: head, target: target, service: service,
                                          bodySHA256: bodySHA256)
        }
        if target.has("X-Amz-Signature") || target.has("X-Amz-Credential") {
            return try verifyPresigned(head: head, target: target, service: service, bodySHA256: bodySHA256)
        }
        if service == "s3", target.has("Signature"), target.has("AWSAccessKeyId") {
            return try verifySigV2Query(head: head, target: target)
        }
        throw S3Error(.accessDenied, "Anonymous access is not allowed: sign the request with an access key.")
    }

    // MARK: Authorization header

    private func verifyHeader(_ authorization: String, head: HTTPRequest, target: RequestTarget,
                              service: String, bodySHA256: String?) throws -> Authentication {
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            if authorization.hasPrefix("AWS ") {
                throw S3Error(.invalidRequest,
                              "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
            }
            throw S3Error(.authorizationHeaderMalformed)
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let equals = item.firstIndex(of: "=") else { throw S3Error(.authorizationHeaderMalformed) }
            fields[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        guard let credentialText = fields["Credential"], let signedText = fields["SignedHeaders"],
              let signature = fields["Signature"]
        else { throw S3Error(.authorizationHeaderMalformed) }
        let scope = try checkedScope(credentialText, service: service, signedHeaders: signedText, head: head,
                                     presigned: false)
        guard let amzDate = head.headerFields.value(Self.amzDate) ?? head.headerFields.value(.date),
              let requestTime = Self.parseAmzDate(amzDate) ?? HTTPDate.parse(amzDate).map({ $0 / 1000 })
        else { throw S3Error(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header") }
        try checkSkew(requestTime)
        guard Self.amzDateString(requestTime).hasPrefix(scope.date) else {
            throw S3Error(.authorizationHeaderMalformed, "The credential scope date does not match the request date.")
        }

        let payload: PayloadHash
        let payloadText: String
        if let declared = head.headerFields.value(Self.contentSHA256) {
            payloadText = declared
            if declared == "UNSIGNED-PAYLOAD" {
                payload = .unsigned
            } else if declared.utf8.count == 64, declared.utf8.allSatisfy({ Percent.hexValue($0) != nil }) {
                payload = .sha256(declared.lowercased())
            } else if declared.hasPrefix("STREAMING-") {
                payload = .unsigned  // replaced below, once the signature is known to be good
            } else {
                throw S3Error(.invalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest.",
                              details: [("ArgumentName", "x-amz-content-sha256")])
            }
        } else if let bodySHA256 {
            payloadText = bodySHA256
            payload = .sha256(bodySHA256)
        } else {
            throw S3Error(.invalidRequest, "Missing required header for this request: x-amz-content-sha256")
        }

        let canonical = try Self.canonicalRequest(method: head.method.rawValue, target: target,
                                                  includeSignature: true, head: head,
                                                  signedHeaders: signedText, payloadHash: payloadText)
        let credential = try lookUp(scope.accessKey)
        let amzDateText = Self.amzDateString(requestTime)
        try verifySignature(signature, canonicalRequest: canonical, amzDate: amzDateText, scope: scope,
                            secret: credential.secretKey)
        try checkSessionToken(credential, presented: head.headerFields.value(Self.securityToken))
        if payloadText.hasPrefix("STREAMING-") {
            let signing = StreamingPayload.Signing(seedSignature: signature, key: signingKey(secret: credential.secretKey,
                                                                                            scope: scope),
                                                   scope: scope.text, amzDate: amzDateText)
            switch payloadText {
            case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
                return Authentication(credential: credential, payload: .streaming(.init(signing: nil, hasTrailer: true)))
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
                return Authentication(credential: credential, payload: .streaming(.init(signing: signing, hasTrailer: false)))
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
                return Authentication(credential: credential, payload: .streaming(.init(signing: signing, hasTrailer: true)))
            default:
                throw S3Error(.notImplemented, "\(payloadText) (SigV4a) is not implemented.")
            }
        }
        return Authentication(credential: credential, payload: payload)
    }

    // MARK: Presigned query

    private func checkTime(signedAt: Int64, expires: Int64) throws {
        let current = now()
        guard signedAt - maxSkew <= current else { throw S3Error(.requestTimeTooSkewed) }
        guard current <= signedAt + expires else { throw S3Error(.accessDenied, "Request has expired") }
    }

    private func verifyPresigned(head: HTTPRequest, target: RequestTarget, service: String,
                                 bodySHA256: String?) throws -> Authentication {
        guard target["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" else {
            throw S3Error(.authorizationQueryParametersError, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        }
        guard let credentialText = target["X-Amz-Credential"], let dateText = target["X-Amz-Date"],
              let expiresText = target["X-Amz-Expires"], let signedText = target["X-Amz-SignedHeaders"],
              let signature = target["X-Amz-Signature"]
        else {
            throw S3Error(.authorizationQueryParametersError,
                          "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        }
        let scope = try checkedScope(credentialText, service: service, signedHeaders: signedText, head: head,
                                     presigned: true)
        guard let signedAt = Self.parseAmzDate(dateText), sameBytes(Substring(dateText.utf8.prefix(8)), scope.date) else {
            throw S3Error(.authorizationQueryParametersError, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        guard let expires = Int64(expiresText), (1...604_800).contains(expires) else {
            throw S3Error(.authorizationQueryParametersError,
                          "X-Amz-Expires must be a number of seconds from 1 to 604800 (seven days).")
        }
        try checkTime(signedAt: signedAt, expires: expires)

        // S3 presigns UNSIGNED-PAYLOAD; the other services sign the body's hash.
        let payloadText = head.headerFields.value(Self.contentSHA256) ?? bodySHA256 ?? "UNSIGNED-PAYLOAD"
        let payload: PayloadHash = payloadText == "UNSIGNED-PAYLOAD" ? .unsigned : .sha256(payloadText.lowercased())
        let canonical = try Self.canonicalRequest(method: head.method.rawValue, target: target,
                                                  includeSignature: false, head: head,
                                                  signedHeaders: signedText, payloadHash: payloadText)
        let credential = try lookUp(scope.accessKey)
        try verifySignature(signature, canonicalRequest: canonical, amzDate: dateText, scope: scope,
                            secret: credential.secretKey)
        try checkSessionToken(credential, presented: target["X-Amz-Security-Token"])
        return Authentication(credential: credential, payload: payload)
    }

    // MARK: Pieces

    struct Scope {
        let accessKey: String
        let date: String
        let region: String
        let service: String
        var text: String { "\(date)/\(region)/\(service)/aws4_request" }

        init(_ credential: String, service expected: String, error: S3ErrorCode) throws {
            // Five parts split at the first four slashes (the last keeps any further slash, and so
            // is not "aws4_request"), read from the bytes in place.
            var credential = credential
            let parts: (String, String, String, String)? = credential.withUTF8 { bytes in
                // Where each part starts; the next part's start, less its slash, is where it ends.
                var starts = (0, 0, 0, 0, 0)
                var found = 0
                var index = 0
                while index < bytes.count, found < 4 {
                    if bytes[index] == UInt8(ascii: "/") {
                        found += 1
                        switch found {
                        case 1: starts.1 = index + 1
                        case 2: starts.2 = index + 1
                        case 3: starts.3 = index + 1
                        default: starts.4 = index + 1
                        }
                    }
                    index += 1
                }
                guard found == 4 else { return nil }
                func part(_ start: Int, _ next: Int) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: bytes[start..<(next - 1)])
                }
                let last = UnsafeBufferPointer(rebasing: bytes[starts.4...])
                guard last.count == 12, memcmp(last.baseAddress!, "aws4_request", 12) == 0,
                      starts.2 - starts.1 == 9, starts.1 > 1
                else { return nil }
                func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
                return (text(part(0, starts.1)), text(part(starts.1, starts.2)), text(part(starts.2, starts.3)),
                        text(part(starts.3, starts.4)))
            }
            guard let parts else {
                throw S3Error(error, "The credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
            }
            guard sameBytes(parts.3, expected) else {
                throw S3Error(error, "The credential is for service '\(parts.3)'; this endpoint expects '\(expected)'.")
            }
            (accessKey, date, region, service) = parts
        }
    }

    /// The credential scope, checked: well formed, for this endpoint's service and the server's
    /// region; and the signed headers cover `host` and every `x-amz-*` header. Errors in the
    /// words of the header form or the presigned form.
    private func checkedScope(_ credential: String, service: String, signedHeaders: String, head: HTTPRequest,
                              presigned: Bool) throws -> Scope {
        let code: S3ErrorCode = presigned ? .authorizationQueryParametersError : .authorizationHeaderMalformed
        let scope = try Scope(credential, service: service, error: code)
        guard acceptsRegion(scope.region, service: service) else {
            let what = presigned ? "Error parsing the X-Amz-Credential parameter" : "The authorization header is malformed"
            throw S3Error(code, "\(what); the region '\(scope.region)' is wrong; expecting '\(region)'",
                          details: [("Region", region)])
        }
        try Self.requireSigned(signedHeaders, head: head)
        return scope
    }

    /// `host` and every `x-amz-*` header the request carries must be in SignedHeaders: an unsigned
    /// header could otherwise be added to a presigned URL (or a signed request) and act — an
    /// `x-amz-copy-source` turning a drop-box PUT into a read of any object.
    static func requireSigned(_ signedHeaders: String, head: HTTPRequest) throws {
        func isSigned(_ name: String) -> Bool {
            var rest = Substring(signedHeaders)
            while !rest.isEmpty {
                let end = rest.utf8.firstIndex(of: UInt8(ascii: ";")) ?? rest.endIndex
                if sameBytes(rest[..<end], name) { return true }
                rest = end == rest.endIndex ? "" : rest[rest.utf8.index(after: end)...]
            }
            return false
        }
        var unsigned: [String] = []
        if !isSigned("host") { unsigned.append("host") }
        for field in head.headerFields {
            let name = field.name.canonicalName
            if hasBytePrefix(name, "x-amz-"), !isSigned(name), !unsigned.contains(name) { unsigned.append(name) }
        }
        guard unsigned.isEmpty else {
            throw S3Error(.accessDenied, "There were headers present in the request which were not signed",
                          details: [("HeadersNotSigned", unsigned.joined(separator: ", "))])
        }
    }

    private func lookUp(_ accessKey: String) throws -> Credential {
        guard let credential = try credentials.credential(for: accessKey) else {
            throw S3Error(.invalidAccessKeyId, details: [("AWSAccessKeyId", accessKey)])
        }
        return credential
    }

    private func checkSkew(_ requestTime: Int64) throws {
        let current = now()
        let (difference, overflow) = current.subtractingReportingOverflow(requestTime)
        guard !overflow, difference.magnitude <= maxSkew.magnitude else {
            throw S3Error(.requestTimeTooSkewed, details: [
                ("RequestTime", Self.amzDateString(requestTime)), ("ServerTime", Self.amzDateString(current)),
                ("MaxAllowedSkewMilliseconds", "\(maxSkew * 1000)"),
            ])
        }
    }

    /// For session credentials: the token must be presented and the session not expired.
    func checkSessionToken(_ credential: Credential, presented: String?) throws {
        guard let tokenHash = credential.sessionTokenHash else { return }
        guard let presented, constantTimeEqual(Registry.tokenHash(presented).utf8, tokenHash.utf8) else {
            throw S3Error(.invalidToken)
        }
        if let expiration = credential.expiration, now() >= expiration {
            throw S3Error(.expiredToken)
        }
    }

    private func verifySignature(_ signature: String, canonicalRequest: [UInt8], amzDate: String, scope: Scope,
                                 secret: String) throws {
        var stringToSign: [UInt8] = []
        stringToSign.reserveCapacity(160)
        stringToSign += "AWS4-HMAC-SHA256\n".utf8
        stringToSign += amzDate.utf8
        stringToSign.append(UInt8(ascii: "\n"))
        stringToSign += scope.date.utf8
        stringToSign.append(UInt8(ascii: "/"))
        stringToSign += scope.region.utf8
        stringToSign.append(UInt8(ascii: "/"))
        stringToSign += scope.service.utf8
        stringToSign += "/aws4_request\n".utf8
        // The buffer-pointer entry points: the DataProtocol ones are generic across modules.
        var hasher = SHA256()
        canonicalRequest.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.finalize().withUnsafeBytes { appendHex($0, to: &stringToSign) }
        var expected: [UInt8] = []
        expected.reserveCapacity(64)
        signing(secret: secret, scope: scope).authenticate(stringToSign).withUnsafeBytes { appendHex($0, to: &expected) }
        guard constantTimeEqual(expected, signature.utf8) else {
            throw S3Error(.signatureDoesNotMatch, details: [("StringToSign", String(decoding: stringToSign, as: UTF8.self))])
        }
    }

    /// kSigning for (secret, date, region, service).
    func signingKey(secret: String, scope: Scope) -> SymmetricKey { signing(secret: secret, scope: scope).key }

    /// kSigning and its HMAC, cached: they change once a day per key. The scope used last is
    /// checked first, by its bytes (most requests are signed by the key that signed the one before).
    private func signing(secret: String, scope: Scope) -> Signing {
        let cache = signings.value
        if let last = cache.last, last.scope.matches(secret: secret, scope) { return last.signing }
        let cacheKey = SigningScope(secret: secret, date: scope.date, region: scope.region, service: scope.service)
        if let signing = cache.entries[cacheKey] {
            cache.last = Last(cacheKey, signing)
            return signing
        }
        func hmac(_ key: some ContiguousBytes, _ text: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
        }
        let kDate = hmac(Array("AWS4\(secret)".utf8), scope.date)
        let kRegion = hmac(kDate, scope.region)
        let kService = hmac(kRegion, scope.service)
        let signing = Signing(key: hmac(kService, "aws4_request"))
        if cache.entries.count > 10_000 { cache.entries.removeAll() }
        cache.entries[cacheKey] = signing
        cache.last = Last(cacheKey, signing)
        return signing
    }

    fileprivate struct SigningScope: Hashable {
        var secret: String
        var date: String
        var region: String
        var service: String

        func matches(secret: String, _ scope: Scope) -> Bool {
            sameBytes(self.secret, secret) && sameBytes(date, scope.date) && sameBytes(region, scope.region)
                && sameBytes(service, scope.service)
        }
    }

    /// kSigning, and HMAC-SHA256 under it (RFC 2104) with both padded key blocks already hashed:
    /// a signature costs two copies of a hash state and the message, not a fresh HMAC.
    fileprivate struct Signing {
        let key: SymmetricKey
        private let inner: SHA256
        private let outer: SHA256

        init(key bytes: [UInt8]) {
            key = SymmetricKey(data: bytes)
            var innerPad = [UInt8](repeating: 0x36, count: 64)
            var outerPad = [UInt8](repeating: 0x5C, count: 64)
            for (index, byte) in bytes.enumerated() {  // 32 bytes: shorter than a block, used as is
                innerPad[index] ^= byte
                outerPad[index] ^= byte
            }
            var inner = SHA256()
            innerPad.withUnsafeBytes { inner.update(bufferPointer: $0) }
            var outer = SHA256()
            outerPad.withUnsafeBytes { outer.update(bufferPointer: $0) }
            self.inner = inner
            self.outer = outer
        }

        /// HMAC-SHA256(kSigning, message).
        func authenticate(_ message: [UInt8]) -> SHA256.Digest {
            var inner = self.inner
            message.withUnsafeBytes { inner.update(bufferPointer: $0) }
            var outer = self.outer
            inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
            return outer.finalize()
        }
    }

    /// The canonical request (SigV4 §"Create a canonical request"), S3 flavour: the path as sent.
    /// Built as bytes: it is hashed, never shown.
    static func canonicalRequest(method: String, target: RequestTarget, includeSignature: Bool, head: HTTPRequest,
                                 signedHeaders: String, payloadHash: String) throws -> [UInt8] {
        let newline = UInt8(ascii: "\n")
        var output: [UInt8] = []
        output.reserveCapacity(target.rawQuery.utf8.count + target.rawPath.utf8.count + signedHeaders.utf8.count + 256)
        output += method.utf8
        output.append(newline)
        if target.rawPath.isEmpty { output.append(UInt8(ascii: "/")) } else { output += target.rawPath.utf8 }
        output.append(newline)
        try appendCanonicalQuery(target.rawQuery, includeSignature: includeSignature, to: &output)
        output.append(newline)
        for name in signedHeaders.utf8.split(separator: UInt8(ascii: ";")) {
            output += name
            output.append(UInt8(ascii: ":"))
            let nameText = String(decoding: name, as: UTF8.self)
            if nameText == "host" {
                if let authority = head.authority { appendCollapsed(authority, to: &output) }
            } else if let field = HTTPField.Name(nameText) {
                for (index, value) in head.headerFields[values: field].enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    appendCollapsed(value, to: &output)
                }
            }
            output.append(newline)
        }
        output.append(newline)
        output += signedHeaders.utf8
        output.append(newline)
        output += payloadHash.utf8
        return output
    }

    /// SigV4's canonical query string: each name and value decoded and encoded again (uppercase
    /// hex, RFC 3986's unreserved bytes as they are), sorted by name, then value, as bytes. What
    /// clients send is usually canonical already (botocore's presigned URLs are, though not in
    /// order: X-Amz-SignedHeaders comes before X-Amz-Expires): then the raw items are the answer
    /// as they stand, sorted where they point and copied. The general rewrite runs otherwise.
    /// `inPlace: false` always takes the general path (the fuzz harness compares the two).
    static func appendCanonicalQuery(_ rawQuery: Substring, includeSignature: Bool, to output: inout [UInt8],
                                     inPlace: Bool = true) throws {
        typealias Item = (name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>)
        func isSignature(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
            name.count == 15 && memcmp(name.baseAddress!, "X-Amz-Signature", 15) == 0
        }
        func order(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
            let common = min(a.count, b.count)
            let result = common == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, common))
            return result != 0 ? result : a.count - b.count
        }
        func precedes(_ a: Item, _ b: Item) -> Bool {
            let byName = order(a.name, b.name)
            return byName != 0 ? byName < 0 : order(a.value, b.value) < 0
        }
        func append(_ items: [Item]) {
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: "&")) }
                output.append(contentsOf: item.name)
                output.append(UInt8(ascii: "="))
                output.append(contentsOf: item.value)
            }
        }
        if inPlace, rawQuery.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            var items: [Item] = []
            items.reserveCapacity(8)
            var canonical = true
            RequestTarget.forEachQueryItem(in: bytes) { name, value in
                // Every item is checked, the signature too (left out only once it is known to be
                // well formed: the general path refuses a broken escape in any item).
                guard canonical else { return }
                guard Percent.isCanonical(name), Percent.isCanonical(value) else { return canonical = false }
                if includeSignature || !isSignature(name) { items.append((name, value)) }
            }
            guard canonical else { return false }
            if items.indices.dropFirst().contains(where: { precedes(items[$0], items[$0 - 1]) }) {
                items.sort(by: precedes)
            }
            append(items)
            return true
        }) == true {
            return
        }

        // Every canonical name and value goes into one buffer; the pairs are ranges of it.
        var encoded: [UInt8] = []
        encoded.reserveCapacity(rawQuery.utf8.count + 32)
        var pairs: [(name: Range<Int>, value: Range<Int>)] = []
        var failed = false
        RequestTarget.forEachQueryItem(rawQuery) { rawName, rawValue in
            let nameStart = encoded.count
            guard Percent.appendCanonical(rawName, to: &encoded) else { return failed = true }
            let valueStart = encoded.count
            guard Percent.appendCanonical(rawValue, to: &encoded) else { return failed = true }
            // The signature goes by its decoded name, as the verifier reads it.
            if !includeSignature, encoded.withUnsafeBufferPointer({ isSignature(UnsafeBufferPointer(rebasing: $0[nameStart..<valueStart])) }) {
                encoded.removeSubrange(nameStart...)
                return
            }
            pairs.append((nameStart..<valueStart, valueStart..<encoded.count))
        }
        if failed { throw S3Error(.signatureDoesNotMatch) }
        encoded.withUnsafeBufferPointer { bytes in
            append(pairs.map { (UnsafeBufferPointer(rebasing: bytes[$0.name]), UnsafeBufferPointer(rebasing: bytes[$0.value])) }
                .sorted(by: precedes))
        }
    }

    /// Appends `value` trimmed, with runs of white space collapsed to one space (botocore's
    /// `' '.join(v.split())`).
    static func appendCollapsed(_ value: String, to output: inout [UInt8]) {
        var pendingSpace = false
        var started = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = started
                continue
            }
            if pendingSpace { output.append(UInt8(ascii: " ")) }
            pendingSpace = false
            started = true
            output.append(byte)
        }
    }

    /// `appendCollapsed` as a String (SigV2's canonical amz headers).
    static func collapse(_ value: String) -> String {
        var output: [UInt8] = []
        appendCollapsed(value, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static let amzDate = HTTPField.Name("x-amz-date")!
    static let contentSHA256 = HTTPField.Name("x-amz-content-sha256")!
    static let securityToken = HTTPField.Name("x-amz-security-token")!

    /// `yyyyMMdd'T'HHmmss'Z'` → Unix seconds.
    static func parseAmzDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        // Digits only ("+1" and "-1" are numbers to Int64.init): at most four, so no overflow below.
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
              let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return HTTPDate.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    static func amzDateString(_ seconds: Int64) -> String {
        let iso = HTTPDate.iso8601(milliseconds: seconds * 1000).utf8  // 2026-11-23T12:44:00.000Z
        var digits = iso.prefix(19).filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ":") }
        digits.append(UInt8(ascii: "Z"))
        return String(decoding: digits, as: UTF8.self)
    }
}
