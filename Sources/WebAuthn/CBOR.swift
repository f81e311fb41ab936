/// A CBOR value (RFC 8949) of the kinds WebAuthn uses: attestation objects and COSE keys.
public indirect enum CBOR: Sendable, Equatable {
    case unsigned(UInt64)
    /// A negative integer -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Keys in the order they came (duplicates are refused).
    case map([(CBOR, CBOR)])
    case bool(Bool)
    case null

    public static func == (a: CBOR, b: CBOR) -> Bool {
        switch (a, b) {
        case (.unsigned(let x), .unsigned(let y)), (.negative(let x), .negative(let y)): x == y
        case (.bytes(let x), .bytes(let y)): x == y
        case (.text(let x), .text(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    /// An integer value that fits in Int64 (COSE labels and algorithm ids).
    public var int: Int64? {
        switch self {
        case .unsigned(let value): value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: nil
        }
    }

    /// The value of a map entry with an integer key.
    public subscript(int key: Int64) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0.int == key }?.1
    }

    /// The value of a map entry with a text key.
    public subscript(text key: String) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == .text(key) }?.1
    }

    public var byteString: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// Why CBOR input was refused. Every malformed input is one of these, never a trap.
public struct CBORError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "malformed CBOR: \(reason)" }
}

/// A strict, bounded CBOR decoder: definite lengths only (WebAuthn's CBOR always is), no tags, no
/// floats, no undefined; at most `maxDepth` levels of nesting and `maxItems` items in all; every
/// length is checked against the bytes left before anything is allocated; text must be UTF-8;
/// a map's keys must be distinct integers or texts.
public struct CBORDecoder {
    public static let maxDepth = 16
    public static let maxItems = 4096
    public static let maxInput = 64 * 1024
    /// WebAuthn's maps have a handful of entries: a cap keeps the duplicate-key check cheap.
    public static let maxMapEntries = 64

    private let bytes: [UInt8]
    private var offset = 0
    private var items = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Decodes exactly one item that fills `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(CBORError) -> CBOR {
        let (value, used) = try decodePrefix(bytes)
        guard used == bytes.count else { throw CBORError("\(bytes.count - used) bytes after the item") }
        return value
    }

    /// Decodes one item at the start of `bytes`; the item and how many bytes it took (the COSE key
    /// in authenticator data is followed by extensions).
    public static func decodePrefix(_ bytes: [UInt8]) throws(CBORError) -> (CBOR, Int) {
        guard bytes.count <= maxInput else { throw CBORError("more than \(maxInput) bytes") }
        var decoder = CBORDecoder(bytes)
        let value = try decoder.item(depth: 0)
        return (value, decoder.offset)
    }

    private mutating func byte() throws(CBORError) -> UInt8 {
        guard offset < bytes.count else { throw CBORError("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func take(_ count: UInt64) throws(CBORError) -> ArraySlice<UInt8> {
        guard count <= UInt64(bytes.count - offset) else { throw CBORError("a length of \(count) runs past the end") }
        let start = offset
        offset += Int(count)
        return bytes[start..<offset]
    }

    /// The argument of a head: the value in the additional information, or in the 1, 2, 4 or 8
    /// bytes after it. Indefinite lengths (31) and the reserved values (28–30) are refused.
    private mutating func argument(_ info: UInt8) throws(CBORError) -> UInt64 {
        switch info {
        case 0...23: return UInt64(info)
        case 24...27:
            let width = 1 << Int(info - 24)
            return try take(UInt64(width)).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        case 31: throw CBORError("indefinite length")
        default: throw CBORError("reserved additional information \(info)")
        }
    }

    private mutating func item(depth: Int) throws(CBORError) -> CBOR {
        guard depth <= Self.maxDepth else { throw CBORError("nested deeper than \(Self.maxDepth)") }
        items += 1
        guard items <= Self.maxItems else { throw CBORError("more than \(Self.maxItems) items") }
        let head = try byte()
        let major = head >> 5, info = head & 0x1F
        switch major {
        case 0: return .unsigned(try argument(info))
        case 1: return .negative(try argument(info))
        case 2: return .bytes(Array(try take(try argument(info))))
        case 3:
            let raw = try take(try argument(info))
            guard let text = String(validating: raw, as: UTF8.self) else { throw CBORError("text is not UTF-8") }
            return .text(text)
        case 4:
            let count = try argument(info)
            // Each item takes at least one byte: a count larger than what is left is a lie.
            guard count <= UInt64(bytes.count - offset) else { throw CBORError("an array of \(count) items runs past the end") }
            var values: [CBOR] = []
            values.reserveCapacity(min(Int(count), Self.maxItems - items))
            for _ in 0..<count { values.append(try item(depth: depth + 1)) }
            return .array(values)
        case 5:
            let count = try argument(info)
            guard count <= UInt64(bytes.count - offset) / 2 else { throw CBORError("a map of \(count) entries runs past the end") }
            guard count <= UInt64(Self.maxMapEntries) else { throw CBORError("a map of more than \(Self.maxMapEntries) entries") }
            var entries: [(CBOR, CBOR)] = []
            entries.reserveCapacity(Int(count))
            for _ in 0..<count {
                let key = try item(depth: depth + 1)
                switch key {
                case .unsigned, .negative, .text: break
                default: throw CBORError("a map key that is neither an integer nor a text")
                }
                guard !entries.contains(where: { $0.0 == key }) else { throw CBORError("a duplicate map key") }
                entries.append((key, try item(depth: depth + 1)))
            }
            return .map(entries)
        case 6: throw CBORError("tags are not used by WebAuthn")
        default:
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            default: throw CBORError("simple value or float \(info) is not used by WebAuthn")
            }
        }
    }
}

/// A minimal CBOR encoder (tests and the fuzzer's seeds build attestation objects with it).
public enum CBOREncoder {
    public static func encode(_ value: CBOR) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    static func head(_ major: UInt8, _ argument: UInt64, to out: inout [UInt8]) {
        switch argument {
        case 0...23: out.append(major << 5 | UInt8(argument))
        case 24...0xFF: out += [major << 5 | 24, UInt8(argument)]
        case 0x100...0xFFFF: out += [major << 5 | 25, UInt8(argument >> 8), UInt8(argument & 0xFF)]
        case 0x10000...0xFFFF_FFFF: out.append(major << 5 | 26); out += (0..<4).reversed().map { UInt8(argument >> (8 * UInt64($0)) & 0xFF) }
        default: out.append(major << 5 | 27); out += (0..<8).reversed().map { UInt8(argument >> (8 * UInt64($0)) & 0xFF) }
        }
    }

    static func append(_ value: CBOR, to out: inout [UInt8]) {
        switch value {
        case .unsigned(let n): head(0, n, to: &out)
        case .negative(let n): head(1, n, to: &out)
        case .bytes(let b): head(2, UInt64(b.count), to: &out); out += b
        case .text(let t): head(3, UInt64(t.utf8.count), to: &out); out += Array(t.utf8)
        case .array(let a): head(4, UInt64(a.count), to: &out); for item in a { append(item, to: &out) }
        case .map(let m): head(5, UInt64(m.count), to: &out); for (k, v) in m { append(k, to: &out); append(v, to: &out) }
        case .bool(let b): out.append(b ? 0xF5 : 0xF4)
        case .null: out.append(0xF6)
        }
    }
}

extension CBOR {
    /// An integer as CBOR (negative values as major type 1).
    public static func int(_ value: Int64) -> CBOR { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }
}
