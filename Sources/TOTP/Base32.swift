/// Base32 (RFC 4648 §6), the alphabet authenticator apps use for seeds.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Encodes bytes; `padding` adds `=` up to a multiple of 8 characters.
    public static func encode(_ bytes: some Sequence<UInt8>, padding: Bool = true) -> String {
        var output: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt64(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt64(bits)) & 31)])
            }
        }
        if bits > 0 {
            output.append(alphabet[Int((buffer << UInt64(5 - bits)) & 31)])
        }
        if padding {
            while output.count % 8 != 0 { output.append(UInt8(ascii: "=")) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes case-insensitively, ignoring spaces and tolerating missing padding.
    /// Anything else — a character outside the alphabet, padding in the middle, a length no
    /// encoder produces — throws.
    public static func decode(_ text: String) throws(Base32Error) -> [UInt8] {
        var symbols: [UInt8] = []
        symbols.reserveCapacity(text.utf8.count)
        var padding = 0
        var position = 0
        for byte in text.utf8 {
            position += 1
            if byte == UInt8(ascii: " ") { continue }
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { throw .paddingInMiddle(position: position) }
            guard let value = value(of: byte) else { throw .invalidCharacter(position: position) }
            symbols.append(value)
        }
        guard !symbols.isEmpty else { throw .empty }
        // 8 symbols hold 5 bytes; a final group of 2, 4, 5 or 7 symbols holds 1, 2, 3 or 4 bytes.
        let remainder = symbols.count % 8
        guard [0, 2, 4, 5, 7].contains(remainder) else { throw .invalidLength(symbols.count) }
        if padding > 0, (symbols.count + padding) % 8 != 0 || padding > 6 {
            throw .invalidPadding
        }
        var output: [UInt8] = []
        output.reserveCapacity(symbols.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            buffer = (buffer << 5) | UInt32(symbol)
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        return output
    }

    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): byte - UInt8(ascii: "2") + 26
        default: nil
        }
    }
}

/// Why a Base32 string was refused. Positions are 1-based character offsets; the text itself
/// is never repeated, since it is usually a secret.
public enum Base32Error: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case invalidCharacter(position: Int)
    case paddingInMiddle(position: Int)
    case invalidLength(Int)
    case invalidPadding

    public var description: String {
        switch self {
        case .empty: "the Base32 text is empty"
        case .invalidCharacter(let position):
            "invalid Base32 character at position \(position) (allowed: A-Z, 2-7, spaces, trailing '=')"
        case .paddingInMiddle(let position): "Base32 padding '=' before the end, at position \(position)"
        case .invalidLength(let count): "\(count) Base32 characters cannot encode whole bytes"
        case .invalidPadding: "wrong amount of Base32 padding"
        }
    }
}
