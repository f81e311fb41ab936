/// Builds S3 XML documents. Text is escaped; element names are ours.
struct XMLWriter {
    var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// `<name xmlns="…">…</name>` around `body`.
    mutating func document(_ name: String, namespace: String? = XMLWriter.namespace, _ body: (inout XMLWriter) -> Void) {
        if let namespace { text += "<\(name) xmlns=\"\(namespace)\">" } else { text += "<\(name)>" }
        body(&self)
        text += "</\(name)>"
    }

    mutating func element(_ name: String, _ body: (inout XMLWriter) -> Void) {
        text += "<\(name)>"
        body(&self)
        text += "</\(name)>"
    }

    mutating func element(_ name: String, _ value: String) {
        text += "<\(name)>"
        Self.escape(value, into: &text)
        text += "</\(name)>"
    }

    mutating func element(_ name: String, _ value: Int64) { text += "<\(name)>\(value)</\(name)>" }
    mutating func element(_ name: String, _ value: Int) { text += "<\(name)>\(value)</\(name)>" }
    mutating func element(_ name: String, _ value: Bool) { text += "<\(name)>\(value ? "true" : "false")</\(name)>" }

    /// Writes the element only when there is a value.
    mutating func optional(_ name: String, _ value: String?) {
        if let value { element(name, value) }
    }

    static func escape(_ value: String, into output: inout String) {
        for character in value.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            case "\r": output += "&#13;"
            default:
                // Characters XML 1.0 cannot carry raw are written as references.
                if character.value < 0x20, character != "\n", character != "\t" {
                    output += "&#\(character.value);"
                } else {
                    output.unicodeScalars.append(character)
                }
            }
        }
    }
}

/// A parsed XML element: enough for S3 request bodies (no DTDs, no external entities).
struct XMLNode: Sendable {
    var name: String
    var children: [XMLNode] = []
    var text = ""

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
}

/// A strict, small XML parser for request bodies. Anything it does not understand — a DOCTYPE,
/// an unknown entity, mismatched tags, trailing content — is `MalformedXML`.
struct XMLParser {
    private let bytes: [UInt8]
    private var index = 0
    private static let maxDepth = 16

    static func parse(_ bytes: [UInt8]) throws(XMLParseError) -> XMLNode {
        // Text is taken as UTF-8: invalid bytes would be replaced (another key), a NUL would cut
        // one. Both are refused, like anything else the parser does not understand.
        guard !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil else { throw .malformed }
        var parser = XMLParser(bytes: bytes)
        return try parser.document()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func document() throws(XMLParseError) -> XMLNode {
        skipMisc()
        guard peek() == UInt8(ascii: "<") else { throw .malformed }
        let root = try element(depth: 0)
        skipMisc()
        guard index == bytes.count else { throw .malformed }
        return root
    }

    /// Skips white space, the XML declaration, processing instructions and comments.
    private mutating func skipMisc() {
        while index < bytes.count {
            if isSpace(bytes[index]) {
                index += 1
            } else if starts(with: "<?") {
                guard let end = find("?>") else { return }
                index = end + 2
            } else if starts(with: "<!--") {
                guard let end = find("-->") else { return }
                index = end + 3
            } else {
                return
            }
        }
    }

    private mutating func element(depth: Int) throws(XMLParseError) -> XMLNode {
        guard depth < Self.maxDepth else { throw .malformed }
        guard consume(UInt8(ascii: "<")) else { throw .malformed }
        let name = try readName()
        // Attributes (namespaces included) are read and ignored.
        while true {
            skipSpace()
            if consume(UInt8(ascii: "/")) {
                guard consume(UInt8(ascii: ">")) else { throw .malformed }
                return XMLNode(name: Self.localName(name))
            }
            if consume(UInt8(ascii: ">")) { break }
            _ = try readName()
            skipSpace()
            guard consume(UInt8(ascii: "=")) else { throw .malformed }
            skipSpace()
            guard let quote = peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { throw .malformed }
            index += 1
            guard let end = bytes[index...].firstIndex(of: quote) else { throw .malformed }
            index = end + 1
        }
        var node = XMLNode(name: Self.localName(name))
        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw .malformed }
            if starts(with: "</") {
                index += 2
                guard try readName() == name else { throw .malformed }
                skipSpace()
                guard consume(UInt8(ascii: ">")) else { throw .malformed }
                guard let decoded = String(validating: text, as: UTF8.self) else { throw .malformed }
                node.text = decoded
                return node
            } else if starts(with: "<!--") {
                guard let end = find("-->") else { throw .malformed }
                index = end + 3
            } else if starts(with: "<![CDATA[") {
                guard let end = find("]]>") else { throw .malformed }
                text += bytes[(index + 9)..<end]
                index = end + 3
            } else if starts(with: "<!") || starts(with: "<?") {
                throw .malformed  // DOCTYPE and friends: refused (no entity expansion, ever)
            } else if bytes[index] == UInt8(ascii: "<") {
                node.children.append(try element(depth: depth + 1))
            } else if bytes[index] == UInt8(ascii: "&") {
                text += try entity()
            } else {
                text.append(bytes[index])
                index += 1
            }
        }
    }

    private mutating func entity() throws(XMLParseError) -> [UInt8] {
        guard let end = bytes[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { throw .malformed }
        let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        index = end + 1
        switch name {
        case "amp": return [UInt8(ascii: "&")]
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            var value: UInt32?
            if name.hasPrefix("#x") { value = UInt32(name.dropFirst(2), radix: 16) } else if name.hasPrefix("#") {
                value = UInt32(name.dropFirst(), radix: 10)
            }
            // XML 1.0 has no U+0000, and no stored name may hold one.
            guard let value, value != 0, let scalar = Unicode.Scalar(value) else { throw .malformed }
            return Array(String(Character(scalar)).utf8)
        }
    }

    private mutating func readName() throws(XMLParseError) -> String {
        let start = index
        while index < bytes.count, !isSpace(bytes[index]), ![UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "="),
                                                             UInt8(ascii: "<")].contains(bytes[index]) {
            index += 1
        }
        guard index > start else { throw .malformed }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private static func localName(_ name: String) -> String {
        name.firstIndex(of: ":").map { String(name[name.index(after: $0)...]) } ?? name
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() { while let byte = peek(), isSpace(byte) { index += 1 } }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func starts(with text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return text.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
    }

    private func find(_ text: StaticString) -> Int? {
        let count = text.utf8CodeUnitCount
        guard bytes.count >= count else { return nil }
        var position = index
        while position + count <= bytes.count {
            if text.withUTF8Buffer({ bytes[position..<(position + count)].elementsEqual($0) }) { return position }
            position += 1
        }
        return nil
    }
}

enum XMLParseError: Error { case malformed }
