import Foundation

/// The `Host` field's grammar (RFC 9110 §7.2: `uri-host [ ":" port ]`), read without trusting
/// a byte of it: a bracketed IPv6 literal, or a name or IPv4 address of DNS characters, then an
/// optional port of at most five digits. Host names are compared whole, never by prefix.
public enum HostHeader {
    /// The host (lowercased, brackets removed) and port of a valid value; nil for an invalid one.
    public static func split(_ value: String) -> (host: String, port: Int?)? {
        let bytes = Array(value.utf8)
        guard bytes.count <= 300 else { return nil }
        var index = 0
        let host: String
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let inner = String(decoding: bytes[1..<close], as: UTF8.self)
            guard IPLiteral.isIPv6(inner) else { return nil }
            host = inner.lowercased()
            index = close + 1
        } else {
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                let byte = bytes[index]
                let allowed = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
                guard allowed else { return nil }
                index += 1
            }
            guard index <= 255 else { return nil }
            host = String(decoding: bytes[..<index], as: UTF8.self).lowercased()
        }
        guard index < bytes.count else { return (host, nil) }
        guard bytes[index] == UInt8(ascii: ":") else { return nil }
        let digits = bytes[(index + 1)...]
        guard digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard !digits.isEmpty else { return (host, nil) }
        let port = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return port <= 65_535 ? (host, port) : nil
    }
}

/// IP address literals, read by the C library's own parser (`inet_pton`): `127.attacker.example`
/// is a name, not an address, whatever it starts with.
enum IPLiteral {
    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return text.utf8.count <= 15 && inet_pton(AF_INET, text, &address) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return text.utf8.count <= 45 && inet_pton(AF_INET6, text, &address) == 1
    }

    /// An IPv4 or IPv6 address (not a name).
    static func isAddress(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    /// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 — for addresses, never for names.
    static func isLoopback(_ text: String) -> Bool {
        var v4 = in_addr()
        if text.utf8.count <= 15, inet_pton(AF_INET, text, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard text.utf8.count <= 45, inet_pton(AF_INET6, text, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }
}
