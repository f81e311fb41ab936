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
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode($0, plusAsSpace: plusAsSpace) }) {
            return decoded
        }
        return Array(text.utf8).withUnsafeBufferPointer { decode($0, plusAsSpace: plusAsSpace) }
    }

    /// `decode` of UTF-8 bytes (taken from a String, so valid as they stand).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool = false) -> String? {
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        // Decoded into scratch memory (never longer than the input), then validated as UTF-8.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { scratch -> String? in
            var count = 0
            guard forEachDecoded(bytes, plusAsSpace: plusAsSpace, { scratch[count] = $0; count += 1 }) else { return nil }
            return String(validating: UnsafeBufferPointer(rebasing: scratch[..<count]), as: UTF8.self)
        }
    }

    /// Appends a raw query name or value in SigV4's canonical form: decoded (`%XX`; `+` stays a
    /// literal plus) and encoded again with uppercase hex. False for a broken escape.
    static func appendCanonical(_ raw: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) -> Bool {
        if isCanonical(raw) {
            output.append(contentsOf: raw)
            return true
        }
        return forEachDecoded(raw, plusAsSpace: false) { appendEncoded($0, to: &output) }
    }

    /// Whether `raw` is already in canonical form: unreserved bytes, and escapes in uppercase hex of
    /// bytes that are not unreserved (what every SigV4 client sends).
    static func isCanonical(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < raw.count, let high = upperHexValue(raw[index + 1]), let low = upperHexValue(raw[index + 2]),
                      !isUnreserved(high << 4 | low)
                else { return false }
                index += 3
            } else {
                guard isUnreserved(byte) else { return false }
                index += 1
            }
        }
        return true
    }

    private static func upperHexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Calls `body` with each byte of `bytes`, `%XX` escapes decoded and, with `plusAsSpace`, a raw
    /// `+` as a space (an escaped `%2B` stays a plus). False, part way, at a broken escape.
    private static func forEachDecoded(_ bytes: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool,
                                       _ body: (UInt8) -> Void) -> Bool {
        var index = 0
        while index < bytes.count {
            var byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
                else { return false }
                byte = high << 4 | low
                index += 2
            } else if plusAsSpace, byte == UInt8(ascii: "+") {
                byte = UInt8(ascii: " ")
            }
            body(byte)
            index += 1
        }
        return true
    }

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        // A bit per byte value: A–Z a–z 0–9 - . _ ~ (one load and a shift, not a chain of ranges).
        let bits: (UInt64, UInt64) = (0x03FF_6000_0000_0000, 0x47FF_FFFE_87FF_FFFE)
        return byte < 64 ? bits.0 >> UInt64(byte) & 1 == 1
            : byte < 128 ? bits.1 >> UInt64(byte - 64) & 1 == 1 : false
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
