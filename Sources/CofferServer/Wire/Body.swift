import CofferCore
import CofferStore
import CZlib
import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOPosix

/// Request bodies: small ones collected (XML documents), object bodies streamed into a stager,
/// with the payload hash the signature promised and any checksums verified on the way.
enum Body {
    static let decodedLength = HTTPField.Name("x-amz-decoded-content-length")!

    /// Collects a body of at most `limit` bytes and checks it against the signed payload hash.
    static func collect(_ request: Request, limit: Int, payload: PayloadHash) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var decoder: AWSChunkedDecoder?
        if case .streaming(let streaming) = payload { decoder = AWSChunkedDecoder(payload: streaming) }
        for try await buffer in request.body {
            if decoder != nil {
                try buffer.withUnsafeReadableBytes { raw in
                    try decoder?.feed(raw) { chunk in
                        guard bytes.count + chunk.count <= limit else {
                            throw S3Error(.malformedXML, "The request body is larger than \(limit) bytes.")
                        }
                        bytes += chunk
                    }
                }
                continue
            }
            guard bytes.count + buffer.readableBytes <= limit else {
                throw S3Error(.malformedXML, "The request body is larger than \(limit) bytes.")
            }
            bytes += buffer.readableBytesView
        }
        if let decoder, !decoder.isComplete { throw AWSChunkedDecoder.malformed("the body ended early") }
        if case .sha256(let expected) = payload, hexString(SHA256.hash(data: bytes)) != expected {
            throw S3Error(.xAmzContentSHA256Mismatch)
        }
        return bytes
    }

    /// Checks `Content-MD5` and `x-amz-checksum-*` headers against a collected body.
    static func verifyIntegrityHeaders(_ headers: HTTPFields, body: [UInt8]) throws -> Bool {
        var hasher = Hasher(checksums: try ChecksumRequest(headers))
        body.withUnsafeBytes { hasher.update($0) }
        try hasher.verify(contentMD5: headers[.contentMD5])
        return headers[.contentMD5] != nil || hasher.checksums.algorithm != nil
    }

    /// Streams an object body into the stager. The result is either fully verified or thrown
    /// away: on any failure the staged bytes are discarded, so nothing partial is ever stored.
    static func stream(_ request: Request, into stager: BlobStager, payload: PayloadHash,
                       checksums: ChecksumRequest, limit: Int64) async throws -> Hasher.Result {
        var checksums = checksums
        var decoder: AWSChunkedDecoder?
        var sha256 = false
        switch payload {
        case .sha256: sha256 = true
        case .unsigned: break
        case .streaming(let streaming): decoder = AWSChunkedDecoder(payload: streaming)
        }
        var hasher = Hasher(checksums: checksums, sha256: sha256)
        return try await discardingOnFailure(stager) {
            // Hashing runs here while the previous buffer is written on the I/O thread pool: the two
            // costs of a large upload overlap instead of adding up. At most one write is in flight,
            // so memory stays bounded and bytes reach the file in order.
            var pending: [UInt8] = []
            var write: Task<Void, any Error>?
            // Counted here: the stager's own count moves on the write in flight.
            var received: Int64 = 0
            func take(_ raw: UnsafeRawBufferPointer) throws {
                guard Int64(raw.count) <= limit - received else {
                    throw S3Error(.entityTooLarge, details: [("MaxSizeAllowed", "\(limit)")])
                }
                received += Int64(raw.count)
                hasher.update(raw)
                pending.append(contentsOf: raw)
            }
            func flush() async throws {
                try await write?.value
                write = nil
                guard !pending.isEmpty else { return }
                let bytes = pending
                pending = []
                // Bytes that stay in memory (a small body; a larger one bound for RADOS) are
                // handed over as they are, here: no file write to overlap with.
                if stager.staysInMemory(adding: bytes.count) { return try stager.append(taking: bytes) }
                pending.reserveCapacity(bytes.count)
                write = Task {
                    try await NIOThreadPool.singleton.runIfActive { try bytes.withUnsafeBytes { try stager.append($0) } }
                }
            }
            do {
                for try await buffer in request.body {
                    try buffer.withUnsafeReadableBytes { raw in
                        if decoder != nil { try decoder?.feed(raw, emit: take) } else { try take(raw) }
                    }
                    if pending.count >= 1 << 20 { try await flush() }
                }
                try await flush()
                try await write?.value
            } catch {
                try? await write?.value
                throw error
            }
            if let decoder {
                // aws-chunked: the object's size is x-amz-decoded-content-length; the checksum may trail.
                guard decoder.isComplete else { throw AWSChunkedDecoder.malformed("the body ended early") }
                guard let declared = request.headers[Self.decodedLength].flatMap(Int64.init), declared == stager.size
                else { throw S3Error(.incompleteBody, "The decoded body does not have x-amz-decoded-content-length bytes.") }
                if let algorithm = checksums.algorithm, checksums.expected == nil {
                    checksums.expected = decoder.trailers.first { $0.name == algorithm.header.canonicalName }?.value
                    guard checksums.expected != nil else {
                        throw S3Error(.invalidRequest, "The trailer \(algorithm.header.canonicalName) named in x-amz-trailer is missing.")
                    }
                    hasher.checksums = checksums
                }
            } else if let declared = request.headers[.contentLength].flatMap(Int64.init), declared != stager.size {
                throw S3Error(.incompleteBody)
            }
            if case .sha256(let expected) = payload, hasher.sha256Hex() != expected {
                throw S3Error(.xAmzContentSHA256Mismatch)
            }
            try hasher.verify(contentMD5: request.headers[.contentMD5])
            return hasher.result()
        }
    }

    /// Runs `body`; on any failure the staged bytes are discarded (nothing partial is ever kept) and
    /// a full disk becomes `507 InsufficientStorage`.
    static func discardingOnFailure<T>(_ stager: BlobStager, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch BlobError.noSpace {
            stager.discard()
            throw S3Error(.insufficientStorage)
        } catch {
            stager.discard()
            throw error
        }
    }
}

/// The flexible checksum a request carries as a header (`x-amz-checksum-<algorithm>`) or names
/// in `x-amz-trailer` (its value then arrives after the aws-chunked body).
struct ChecksumRequest: Sendable {
    enum Algorithm: String, Sendable, CaseIterable {
        case crc32 = "CRC32", crc32c = "CRC32C", crc64nvme = "CRC64NVME", sha1 = "SHA1", sha256 = "SHA256"
        var header: HTTPField.Name { HTTPField.Name("x-amz-checksum-\(rawValue.lowercased())")! }
    }

    var algorithm: Algorithm?
    var expected: String?

    init(_ headers: HTTPFields) throws {
        for algorithm in Algorithm.allCases {
            if let value = headers[algorithm.header] {
                guard self.algorithm == nil else {
                    throw S3Error(.invalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
                }
                self.algorithm = algorithm
                expected = value
            }
        }
        for unsupported in ["sha512", "md5", "xxhash64", "xxhash3", "xxhash128"]
        where headers[HTTPField.Name("x-amz-checksum-\(unsupported)")!] != nil {
            throw S3Error(.notImplemented, "The \(unsupported.uppercased()) checksum is not implemented.")
        }
        if let trailer = headers[HTTPField.Name("x-amz-trailer")!]?.lowercased().trimmingCharacters(in: .whitespaces) {
            guard algorithm == nil else {
                throw S3Error(.invalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
            }
            guard let named = Algorithm.allCases.first(where: { $0.header.canonicalName == trailer }) else {
                throw S3Error(.invalidRequest, "The trailer \(trailer) is not a supported checksum.")
            }
            algorithm = named
        }
    }

    init() {}

    init(algorithm: Algorithm) { self.algorithm = algorithm }
}

/// MD5 (the ETag), the optional SHA-256 of the payload, and the optional flexible checksum.
struct Hasher {
    struct Result: Sendable {
        var md5Hex: String
        /// `ALGORITHM:base64` to store with the version, or "".
        var checksum: String
        var checksumHeader: (HTTPField.Name, String)?
    }

    var checksums: ChecksumRequest
    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    private var crc: uLong = 0
    private var crc32c = CRC32C()
    private var crc64 = CRC64NVME()
    private var sha1: Insecure.SHA1?
    private var sha256Checksum: SHA256?

    init(checksums: ChecksumRequest, sha256: Bool = false) {
        self.checksums = checksums
        self.sha256 = sha256 ? SHA256() : nil
        switch checksums.algorithm {
        case .sha1: sha1 = Insecure.SHA1()
        case .sha256: sha256Checksum = SHA256()
        case .crc32, .crc32c, .crc64nvme, nil: break
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        md5.update(bufferPointer: bytes)
        sha256?.update(bufferPointer: bytes)
        switch checksums.algorithm {
        case .crc32:
            crc = crc32(crc, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        case .crc32c: crc32c.update(bytes)
        case .crc64nvme: crc64.update(bytes)
        case .sha1: sha1?.update(bufferPointer: bytes)
        case .sha256: sha256Checksum?.update(bufferPointer: bytes)
        case nil: break
        }
    }

    func sha256Hex() -> String { sha256.map { hexString($0.finalize()) } ?? "" }

    /// The flexible checksum's base64 value.
    func checksumValue() -> String? {
        switch checksums.algorithm {
        case .crc32:
            let value = UInt32(truncatingIfNeeded: crc)
            return Data([UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]).base64EncodedString()
        case .crc32c: return Data(crc32c.digest).base64EncodedString()
        case .crc64nvme: return Data(crc64.digest).base64EncodedString()
        case .sha1: return sha1.map { Data($0.finalize()).base64EncodedString() }
        case .sha256: return sha256Checksum.map { Data($0.finalize()).base64EncodedString() }
        case nil: return nil
        }
    }

    /// Content-MD5 (malformed → InvalidDigest, wrong → BadDigest) and the checksum (wrong → BadDigest).
    func verify(contentMD5: String?) throws {
        if let contentMD5 {
            guard let digest = Data(base64Encoded: contentMD5), digest.count == 16 else { throw S3Error(.invalidDigest) }
            guard Array(digest) == Array(md5.finalize()) else { throw S3Error(.badDigest) }
        }
        if let algorithm = checksums.algorithm, let expected = checksums.expected {
            guard Data(base64Encoded: expected) != nil else {
                throw S3Error(.invalidRequest, "Value for x-amz-checksum-\(algorithm.rawValue.lowercased()) header is invalid.")
            }
            guard checksumValue() == expected else {
                throw S3Error(.badDigest, "The \(algorithm.rawValue) you specified did not match the calculated checksum.")
            }
        }
    }

    /// The digest of `bytes` with a flexible-checksum algorithm (for composite checksums).
    static func digest(_ algorithm: ChecksumRequest.Algorithm, of bytes: [UInt8]) -> [UInt8] {
        var hasher = Hasher(checksums: ChecksumRequest(algorithm: algorithm))
        bytes.withUnsafeBytes { hasher.update($0) }
        return Array(Data(base64Encoded: hasher.checksumValue() ?? "") ?? Data())
    }

    func result() -> Result {
        let value = checksumValue()
        return Result(md5Hex: hexString(md5.finalize()),
                      checksum: zip(checksums.algorithm.map(\.rawValue), value).map { "\($0):\($1)" } ?? "",
                      checksumHeader: zip(checksums.algorithm?.header, value).map { ($0, $1) })
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
