import CofferCore
import Crypto

/// How an aws-chunked body is framed and signed (from `x-amz-content-sha256`).
struct StreamingPayload: Sendable, Equatable {
    static func == (lhs: StreamingPayload, rhs: StreamingPayload) -> Bool {
        lhs.hasTrailer == rhs.hasTrailer && lhs.signing?.seedSignature == rhs.signing?.seedSignature
    }

    /// Each chunk carries a signature chained from the request's (STREAMING-AWS4-HMAC-SHA256-PAYLOAD…).
    var signing: Signing?
    /// Trailing headers (a checksum) follow the last chunk (…-TRAILER).
    var hasTrailer: Bool

    struct Signing: Sendable {
        var seedSignature: String
        var key: SymmetricKey
        var scope: String
        var amzDate: String
    }
}

/// Decodes an `aws-chunked` body as it streams in, with constant memory:
/// `hex-size[;chunk-signature=SIG]\r\n data \r\n … 0[;chunk-signature=SIG]\r\n [trailer lines] \r\n`.
/// Chunk signatures are checked as each chunk ends; a signed trailer's signature at the end.
struct AWSChunkedDecoder {
    private enum State { case header, data, dataEnd, trailers, done }

    let payload: StreamingPayload
    private var state = State.header
    private var line: [UInt8] = []
    private var remaining = 0
    private var chunkSignature = ""
    private var chunkHash = SHA256()
    private var previousSignature: String
    private(set) var decodedLength: Int64 = 0
    /// Trailing headers, lowercased names.
    private(set) var trailers: [(name: String, value: String)] = []
    private var trailerSignature: String?

    static let maxLine = 4096
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    init(payload: StreamingPayload) {
        self.payload = payload
        previousSignature = payload.signing?.seedSignature ?? ""
    }

    var isComplete: Bool { state == .done }

    /// Feeds encoded bytes; decoded payload bytes go to `emit`.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var index = 0
        while index < bytes.count {
            switch state {
            case .header, .trailers, .dataEnd:
                let byte = bytes[index]
                index += 1
                line.append(byte)
                guard line.count <= Self.maxLine else { throw Self.malformed("a chunk header or trailer line is too long") }
                guard line.count >= 2, line[line.count - 2] == 0x0D, byte == 0x0A else { continue }
                let text = String(decoding: line.dropLast(2), as: UTF8.self)
                line.removeAll(keepingCapacity: true)
                try endOfLine(text)
            case .data:
                let take = min(remaining, bytes.count - index)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])
                if payload.signing != nil { chunkHash.update(bufferPointer: slice) }
                try emit(slice)
                decodedLength += Int64(take)
                remaining -= take
                index += take
                if remaining == 0 { state = .dataEnd }
            case .done:
                throw Self.malformed("bytes after the end of the aws-chunked body")
            }
        }
    }

    private mutating func endOfLine(_ text: String) throws {
        switch state {
        case .header:
            let parts = text.split(separator: ";", maxSplits: 1)
            guard let sizeText = parts.first, sizeText.count <= 16,
                  let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0
            else { throw Self.malformed("bad chunk size") }
            chunkSignature = ""
            if parts.count > 1 {
                let extensionText = parts[1].trimmingCharacters(in: .whitespaces)
                if extensionText.hasPrefix("chunk-signature=") { chunkSignature = String(extensionText.dropFirst(16)) }
            }
            if payload.signing != nil, chunkSignature.isEmpty { throw Self.signatureError("a chunk has no signature") }
            remaining = size
            chunkHash = SHA256()
            if size == 0 {
                try verifyChunk()
                state = .trailers
            } else {
                state = .data
            }
        case .dataEnd:
            guard text.isEmpty else { throw Self.malformed("chunk data longer than its declared size") }
            try verifyChunk()
            state = .header
        case .trailers:
            if text.isEmpty {
                try verifyTrailer()
                state = .done
                return
            }
            guard let colon = text.firstIndex(of: ":") else { throw Self.malformed("bad trailer line") }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "x-amz-trailer-signature" {
                trailerSignature = value
            } else {
                guard trailers.count < 16 else { throw Self.malformed("too many trailers") }
                trailers.append((name, value))
            }
        case .data, .done:
            break
        }
    }

    /// The chained chunk signature (SigV4 streaming): over the previous signature and the chunk's hash.
    private mutating func verifyChunk() throws {
        guard let signing = payload.signing else { return }
        let dataHash = hexString(chunkHash.finalize())
        let stringToSign = "AWS4-HMAC-SHA256-PAYLOAD\n\(signing.amzDate)\n\(signing.scope)\n\(previousSignature)\n"
            + "\(Self.emptyHash)\n\(dataHash)"
        let expected = hexString(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signing.key))
        guard constantTimeEqual(expected.utf8, chunkSignature.utf8) else {
            throw Self.signatureError("a chunk signature does not match")
        }
        previousSignature = expected
    }

    private func verifyTrailer() throws {
        guard let signing = payload.signing, payload.hasTrailer else { return }
        guard let trailerSignature else { throw Self.signatureError("the trailer has no x-amz-trailer-signature") }
        let canonical = trailers.map { "\($0.name):\($0.value)\n" }.joined()
        let stringToSign = "AWS4-HMAC-SHA256-TRAILER\n\(signing.amzDate)\n\(signing.scope)\n\(previousSignature)\n"
            + hexString(SHA256.hash(data: Array(canonical.utf8)))
        let expected = hexString(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signing.key))
        guard constantTimeEqual(expected.utf8, trailerSignature.utf8) else {
            throw Self.signatureError("the trailer signature does not match")
        }
    }

    static func malformed(_ reason: String) -> S3Error {
        S3Error(.incompleteBody, "The aws-chunked body is malformed: \(reason).")
    }

    static func signatureError(_ reason: String) -> S3Error {
        S3Error(.signatureDoesNotMatch, "The request signature we calculated does not match the signature you provided: \(reason).")
    }
}
