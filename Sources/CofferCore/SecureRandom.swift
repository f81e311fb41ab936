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
@inlinable
public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
