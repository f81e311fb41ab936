/// Percent-encoding as AWS uses it (RFC 3986 unreserved characters stay, uppercase hex).
enum Percent {
    static let hex = Array("0123456789ABCDEF".utf8)

    /// Encodes every byte except A–Z a–z 0–9 - _ . ~ (and '/' when `keepSlash`).
    static func encode(_ text: some StringProtocol, keepSlash: Bool = false) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 { appendEncoded(byte, keepSlash: keepSlash, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `byte` as is when unreserved (or a kept '/'), else as `%XX`.
    @inline(__always)
    static func appendEncoded(_ byte: UInt8, keepSlash: Bool = false, to output: inout [UInt8]) {
        if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
            output.append(byte)
        } else {
            output.append(UInt8(ascii: "%"))
            output.append(hex[Int(byte >> 4)])
            output.append(hex[Int(byte & 15)])
        }
    }

    /// Decodes `%XX` (and `+` as space when asked); nil for a broken escape or invalid UTF-8.
    static func decode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        let utf8 = text.utf8
        if !utf8.contains(UInt8(ascii: "%")), !(plusAsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(text)
        }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count)
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                output.append(high << 4 | low)
            } else if plusAsSpace, byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else {
                output.append(byte)
            }
        }
        return String(validating: output, as: UTF8.self)
    }

    /// A raw query name or value in SigV4's canonical form: decoded (`%XX`; `+` stays a literal
    /// plus) and encoded again with uppercase hex. Nil for a broken escape.
    static func canonical(_ raw: Substring) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(raw.utf8.count + 8)
        var iterator = raw.utf8.makeIterator()
        while var byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                byte = high << 4 | low
            }
            appendEncoded(byte, to: &output)
        }
        return output
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: "~"):
            true
        default: false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
