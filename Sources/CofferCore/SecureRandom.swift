#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Secrets and tokens: random bytes and strings from the system's CSPRNG, and the one
/// constant-time comparison for anything a caller presents against a secret. Every token, key,
/// seed, salt and challenge Coffer makes comes from here.
public enum SecureRandom {
    /// `count` bytes from the system's CSPRNG.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<max(count, 0)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `count` characters drawn uniformly from `alphabet` (which must not be empty).
    public static func string(_ alphabet: String, count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = Array(alphabet)
        guard !characters.isEmpty else { return "" }
        return String((0..<max(count, 0)).map { _ in characters[Int.random(in: 0..<characters.count, using: &generator)] })
    }

    /// Lowercase hex of `count` random bytes.
    public static func hex(_ count: Int) -> String { hexString(bytes(count)) }
}

/// Equality that takes the same time wherever the inputs differ (their lengths are not secret).
/// Contiguous inputs (arrays, a native string's UTF-8) are compared in place, without an iterator.
@inlinable
public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    if let equal = a.withContiguousStorageIfAvailable({ a in
        b.withContiguousStorageIfAvailable { b in constantTimeEqual(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b)) }
    }), let equal {
        return equal
    }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

/// `constantTimeEqual` of two buffers.
@inlinable
public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<a.count { difference |= a[index] ^ b[index] }
    return difference == 0
}

/// Whether two strings hold the same bytes (not canonical equivalence, which `==` tests: an NFC
/// "é" and an NFD one are two keys), compared in place when both are contiguous.
@inlinable
public func sameBytes(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    if let equal = a.utf8.withContiguousStorageIfAvailable({ a in
        b.utf8.withContiguousStorageIfAvailable { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
    }), let equal {
        return equal
    }
    return a.utf8.elementsEqual(b.utf8)
}

/// Whether `text` begins with the bytes of `prefix`.
@inlinable
public func hasBytePrefix(_ text: some StringProtocol, _ prefix: StaticString) -> Bool {
    let count = prefix.utf8CodeUnitCount
    guard count > 0 else { return true }
    guard text.utf8.count >= count else { return false }
    if let equal = text.utf8.withContiguousStorageIfAvailable({ bytes in
        prefix.withUTF8Buffer { memcmp(bytes.baseAddress!, $0.baseAddress!, count) == 0 }
    }) {
        return equal
    }
    return prefix.withUTF8Buffer { text.utf8.starts(with: $0) }
}
