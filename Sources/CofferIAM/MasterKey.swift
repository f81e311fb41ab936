import CofferCore
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The key that seals seeds and secret keys at rest (AES-256-GCM). It is kept outside the
/// database: from `COFFER_MASTER_KEY` (base64 of 32 bytes) or a key file (mode 0600) generated at
/// first start. The database file alone yields no seed.
public struct MasterKey: Sendable {
    private let key: SymmetricKey

    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else { throw MasterKeyError.wrongLength }
        key = SymmetricKey(data: bytes)
    }

    /// From base64 text (the `COFFER_MASTER_KEY` form).
    public init(base64: String) throws {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw MasterKeyError.notBase64
        }
        try self.init(bytes: Array(data))
    }

    /// Reads the key file; nil when there is none. A file that exists but cannot be read or parsed
    /// is an error, never "absent" (a new key over it would orphan everything sealed).
    public static func load(file: URL) throws -> MasterKey? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { throw MasterKeyError.cannotRead(file.path) }
        return try MasterKey(base64: text)
    }

    /// Creates the key file: 32 random bytes, base64, mode 0600. Never replaces an existing file.
    public static func create(file: URL) throws -> MasterKey {
        let bytes = SecureRandom.bytes(32)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = Glibc.open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw MasterKeyError.cannotWrite(file.path) }
        defer { Glibc.close(descriptor) }
        let text = Array((Data(bytes).base64EncodedString() + "\n").utf8)
        guard Glibc.write(descriptor, text, text.count) == text.count, fsync(descriptor) == 0 else {
            throw MasterKeyError.cannotWrite(file.path)
        }
        return try MasterKey(bytes: bytes)
    }

    /// Seals `plaintext`, bound to `context` (the serial or access key it belongs to).
    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw MasterKeyError.sealFailed }
        return Array(combined)
    }

    /// Opens what `seal` produced for the same context; a wrong key or context throws.
    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw MasterKeyError.cannotOpen
        }
    }

    /// A keyed MAC of `data` under a key derived for `purpose` (HKDF-SHA256): equal inputs give
    /// equal MACs (what a per-phone-number limit counts by), and without the master key nobody
    /// can tell which input a MAC stands for.
    public func mac(_ data: [UInt8], purpose: String) -> [UInt8] {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("coffer \(purpose)".utf8), outputByteCount: 32)
        return Array(HMAC<SHA256>.authenticationCode(for: data, using: derived))
    }
}

public enum MasterKeyError: Error, Equatable, CustomStringConvertible {
    case wrongLength, notBase64, sealFailed, cannotOpen
    case cannotWrite(String), cannotRead(String)

    public var description: String {
        switch self {
        case .wrongLength: "the master key must be 32 bytes"
        case .notBase64: "the master key must be base64 text"
        case .sealFailed: "sealing failed"
        case .cannotOpen: "a sealed value could not be opened: wrong master key?"
        case .cannotWrite(let path): "cannot write the master key file \(path)"
        case .cannotRead(let path): "cannot read the master key file \(path)"
        }
    }
}
