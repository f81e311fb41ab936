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
        let key = SymmetricKey(data: secret)
        let value = truncatedValue(key: key, counter: counter, algorithm: algorithm) % modulus(digits)
        return zeroPadded(value, digits: digits)
    }

    /// RFC 4226 §5.3 dynamic truncation of HMAC(key, counter) to a 31-bit value.
    @inlinable
    static func truncatedValue(key: SymmetricKey, counter: UInt64, algorithm: OTPAlgorithm) -> UInt32 {
        switch algorithm {
        case .sha1: return truncate(HMAC<Insecure.SHA1>(key: key), counter: counter)
        case .sha256: return truncate(HMAC<SHA256>(key: key), counter: counter)
        case .sha512: return truncate(HMAC<SHA512>(key: key), counter: counter)
        }
    }

    /// Finishes a keyed HMAC state over the big-endian counter and truncates it.
    /// Taking a prepared state lets a verifier pay for the key schedule once per check.
    @inlinable
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
    @inlinable
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
