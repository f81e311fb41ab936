/// Why a JSON text was refused, and where: 1-based line and column (in characters) of the byte
/// at which reading stopped, so an editor can point at it.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public var description: String { "\(message) (line \(line), column \(column))" }
}

extension JSON {
    /// The most nested arrays and objects a document may open: far beyond any policy, and a bound
    /// on the parser's recursion.
    public static let defaultMaxDepth = 64

    /// Reads `bytes` as one JSON text by RFC 8259 and nothing more lenient: UTF-8 without a
    /// byte-order mark; no comments, trailing commas, single quotes, unquoted keys, leading zeros,
    /// `NaN` or control characters in strings; no key twice in an object; no lone surrogate in a
    /// `\u` escape; nothing but white space after the value.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        let array = Array(bytes)
        var parser = JSONParser(bytes: array, maxDepth: maxDepth)
        return try parser.document()
    }
}

/// A recursive-descent reader over the bytes; every index move is bounds-checked.
struct JSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0
    var depth = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func document() throws(JSONError) -> JSON {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw fail("a byte-order mark is not allowed") }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw fail("the text is not valid UTF-8") }
        skipSpace()
        let value = try self.value()
        skipSpace()
        guard index == bytes.count else { throw fail("unexpected text after the JSON value") }
        return value
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    mutating func value() throws(JSONError) -> JSON {
        guard let byte = current else { throw fail("a value was expected, the text ended") }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "]"), UInt8(ascii: "}"): throw fail("a value was expected (a trailing comma?)")
        default: throw fail("a value was expected")
        }
    }

    mutating func enter() throws(JSONError) {
        depth += 1
        guard depth <= maxDepth else { throw fail("nested more than \(maxDepth) levels deep") }
    }

    mutating func object() throws(JSONError) -> JSON {
        try enter()
        defer { depth -= 1 }
        index += 1  // {
        var object = JSONObject()
        skipSpace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\"") else {
                throw fail(current == UInt8(ascii: "}") ? "a member was expected (a trailing comma?)"
                           : "a member name in double quotes was expected")
            }
            let keyStart = index
            let key = try string()
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw fail("a colon was expected after the member name") }
            index += 1
            skipSpace()
            let value = try self.value()
            guard object.insert(key, value) else {
                index = keyStart
                throw fail("the member \"\(key.prefix(64))\" appears twice")
            }
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(object)
            default: throw fail("a comma or a closing brace was expected")
            }
        }
    }

    mutating func array() throws(JSONError) -> JSON {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var items: [JSON] = []
        skipSpace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(items)
            default: throw fail("a comma or a closing bracket was expected")
            }
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count,
              word.withUTF8Buffer({ expected in bytes[index..<index + count].elementsEqual(expected) })
        else { throw fail("an unknown word (JSON has only true, false and null)") }
        index += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as written.
    mutating func number() throws(JSONError) -> String {
        let start = index
        func digits(_ parser: inout JSONParser) -> Int {
            let from = parser.index
            while let byte = parser.current, byte >= 0x30, byte <= 0x39 { parser.index += 1 }
            return parser.index - from
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
            if let byte = current, byte >= 0x30, byte <= 0x39 { throw fail("a number may not start with 0") }
        } else if digits(&self) == 0 {
            throw fail("a digit was expected")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw fail("a digit was expected after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw fail("a digit was expected in the exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func string() throws(JSONError) -> String {
        index += 1  // "
        var output: [UInt8] = []
        while true {
            guard let byte = current else { throw fail("the string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                try escape(into: &output)
            case 0..<0x20:
                throw fail("a control character in a string must be escaped")
            default:
                output.append(byte)
                index += 1
            }
        }
    }

    mutating func escape(into output: inout [UInt8]) throws(JSONError) {
        guard let byte = current else { throw fail("the string is not closed") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            let first = try hex4()
            var scalar: UInt32 = first
            if (0xD800...0xDBFF).contains(first) {
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("a lone surrogate in a \\u escape")
                }
                index += 2
                let second = try hex4()
                guard (0xDC00...0xDFFF).contains(second) else { throw fail("a lone surrogate in a \\u escape") }
                scalar = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw fail("a lone surrogate in a \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
            UTF8.encode(unicode) { output.append($0) }
        default:
            index -= 1
            throw fail("an unknown escape in a string")
        }
    }

    mutating func hex4() throws(JSONError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw fail("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw fail("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The error at the current position, with its line and column (characters, from 1).
    func fail(_ message: String) -> JSONError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONError(message: message, line: line, column: column)
    }
}
