import Synchronization

/// Version identifiers: opaque, URL-safe, 32 characters, and sorting (as bytes) by creation
/// time. `null` names the null version.
public enum VersionID {
    public static let null = "null"
    public static let length = 32

    /// An alphabet in ASCII order, so the text sorts like the bytes it encodes. It has no '-':
    /// an id starting with one reads as an option to command-line parsers (`--version-id -x…`).
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~".utf8)

    private static let state = Mutex<(lastMicros: UInt64, counter: UInt32)>((0, 0))

    /// A fresh id: 64-bit microseconds, a 32-bit counter within the same microsecond, 96 random bits.
    public static func make(nowMicros: UInt64) -> String {
        let (micros, counter) = state.withLock { state -> (UInt64, UInt32) in
            if nowMicros > state.lastMicros {
                state = (nowMicros, 0)
            } else {
                state.counter &+= 1
            }
            return state
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        withUnsafeBytes(of: micros.bigEndian) { bytes += $0 }
        withUnsafeBytes(of: counter.bigEndian) { bytes += $0 }
        bytes += SecureRandom.bytes(12)
        return encode(bytes)
    }

    /// Whether `text` could be a version id Coffer issued (or `null`).
    public static func isWellFormed(_ text: String) -> Bool {
        if text == null { return true }
        let bytes = text.utf8
        return bytes.count == length && bytes.allSatisfy { alphabet.contains($0) }
    }

    /// The creation time (microseconds since 1970) a well-formed id carries; nil for `null` or a
    /// malformed id.
    public static func micros(of text: String) -> UInt64? {
        guard text != null, isWellFormed(text) else { return nil }
        var value: UInt64 = 0
        // 11 characters hold 66 bits: the 64-bit time and the counter's top 2 bits.
        for byte in text.utf8.prefix(11) {
            guard let digit = alphabet.firstIndex(of: byte) else { return nil }
            value = value << 6 | UInt64(digit)
        }
        return value >> 2
    }

    /// 24 bytes → 32 characters, 6 bits each, most significant first.
    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(32)
        var index = 0
        while index + 2 < bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in stride(from: 18, through: 0, by: -6) {
                output.append(alphabet[Int((group >> UInt32(shift)) & 63)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
