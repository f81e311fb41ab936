#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// HOTP (RFC 4226): an HMAC-based one-time password for a counter.
public enum HOTP {
    /// The number of digits a code may have.
    public static let digitRange = 6...8

    /// The code for `counter`, zero-padded to `digits` characters.
    public static func code(secret: some ContiguousBytes, counter: UInt64, digits: Int = 6,
                            algorithm: OTPAlgorithm = .sha1) -> String {
        let truncator = Truncator(secret: secret.withUnsafeBytes { Array($0) }, algorithm: algorithm)
        return zeroPadded(truncator(counter) % modulus(digits), digits: digits)
    }

    /// Finishes a keyed HMAC state over the big-endian counter and truncates it.
    /// Taking a prepared state lets a verifier pay for the key schedule once per check.
    static func truncate<H: HashFunction>(_ prepared: HMAC<H>, counter: UInt64) -> UInt32 {
        var mac = prepared
        withUnsafeBytes(of: counter.bigEndian) { mac.update(data: $0) }
        let tag = mac.finalize()
        return tag.withUnsafeBytes { bytes -> UInt32 in
            let offset = Int(bytes[bytes.count - 1] & 0x0f)
            return (UInt32(bytes[offset] & 0x7f) << 24)
                | (UInt32(bytes[offset + 1]) << 16)
                | (UInt32(bytes[offset + 2]) << 8)
                | UInt32(bytes[offset + 3])
        }
    }

    /// 10^digits.
    static func modulus(_ digits: Int) -> UInt32 {
        var result: UInt32 = 1
        for _ in 0..<digits { result &*= 10 }
        return result
    }

    static func zeroPadded(_ value: UInt32, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// The RFC 4226 §5.3 truncated HMAC of a counter under one key, whose key schedule is computed
/// once however many counters follow.
enum Truncator {
    case sha1(HMAC<Insecure.SHA1>)
    case sha256(HMAC<SHA256>)
    case sha512(HMAC<SHA512>)

    init(secret: [UInt8], algorithm: OTPAlgorithm) {
        switch algorithm {
        case .sha1: self = .sha1(HMAC<Insecure.SHA1>(key: SymmetricKey(data: secret)))
        case .sha256: self = .sha256(HMAC<SHA256>(key: SymmetricKey(data: secret)))
        case .sha512: self = .sha512(HMAC<SHA512>(key: SymmetricKey(data: secret)))
        }
    }

    @inline(__always)
    func callAsFunction(_ counter: UInt64) -> UInt32 {
        switch self {
        case .sha1(let prepared): HOTP.truncate(prepared, counter: counter)
        case .sha256(let prepared): HOTP.truncate(prepared, counter: counter)
        case .sha512(let prepared): HOTP.truncate(prepared, counter: counter)
        }
    }
}
