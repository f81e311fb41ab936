import HTTPTypes

/// A GET or HEAD request head read straight from the connection's bytes, for `WireReads`.
///
/// Only a strict subset of HTTP/1.1 is read here: anything else — another method or version, an
/// absolute-form target, a body (`Transfer-Encoding`, a `Content-Length` other than 0), `Expect`,
/// `Upgrade`, `Connection` other than `keep-alive`, a second `Host`, a bare LF, obsolete line
/// folding, a control or non-ASCII byte, a head over `maxBytes` or over `maxFields` fields — is
/// `.declined` and left to NIO's HTTP decoder (llhttp), which reads it as it always has. Within
/// the subset both readings agree, so no request can mean one thing here and another there.
struct RequestHead {
    enum Parse {
        /// A whole head, `length` bytes long (through its blank line).
        case complete(HTTPRequest, length: Int)
        /// No blank line yet, within the limits: wait for more bytes.
        case incomplete
        case declined
    }

    static let maxBytes = 16 * 1024
    static let maxFields = 64

    /// Reads the head at the start of `bytes`, of which the first `scannedBefore` were searched
    /// already (and held no head's end).
    static func parse(_ bytes: UnsafeRawBufferPointer, scannedBefore: Int = 0) -> Parse {
        let count = bytes.count
        // The end of the head: the first CRLF CRLF. A LF without its CR anywhere before it declines.
        var end = -1
        var index = max(0, min(scannedBefore, count) - 3)
        let scanLimit = min(count, maxBytes)
        while index < scanLimit {
            if bytes[index] == lf {
                guard index > 0, bytes[index - 1] == cr else { return .declined }
                if index >= 3, bytes[index - 2] == lf, bytes[index - 3] == cr {
                    end = index + 1
                    break
                }
            }
            index += 1
        }
        guard end > 0 else { return count >= maxBytes ? .declined : .incomplete }

        // Request line: `GET SP target SP HTTP/1.1 CRLF`.
        var position: Int
        let method: HTTPRequest.Method
        if starts(bytes, at: 0, with: "GET ") {
            method = .get
            position = 4
        } else if starts(bytes, at: 0, with: "HEAD ") {
            method = .head
            position = 5
        } else {
            return .declined
        }
        let targetStart = position
        guard position < end, bytes[position] == UInt8(ascii: "/") else { return .declined }
        while position < end, bytes[position] != UInt8(ascii: " ") {
            guard (0x21...0x7E).contains(bytes[position]) else { return .declined }
            position += 1
        }
        let target = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<position]), as: UTF8.self)
        guard starts(bytes, at: position, with: " HTTP/1.1\r\n") else { return .declined }
        position += 11

        // Fields, until the blank line.
        var fields = HTTPFields()
        var authority: String?
        var fieldCount = 0
        var contentLength = false
        while !(bytes[position] == cr && bytes[position + 1] == lf) {
            fieldCount += 1
            guard fieldCount <= maxFields else { return .declined }
            let nameStart = position
            while bytes[position] != UInt8(ascii: ":") {
                guard isTokenByte(bytes[position]) else { return .declined }  // also stops at CR: no colon
                position += 1
            }
            guard position > nameStart else { return .declined }
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<position])
            position += 1
            while bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") { position += 1 }
            let valueStart = position
            var valueEnd = position
            while bytes[position] != cr {
                let byte = bytes[position]
                guard (0x20...0x7E).contains(byte) || byte == UInt8(ascii: "\t") else { return .declined }
                position += 1
                if byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") { valueEnd = position }
            }
            // A CR must end the line; a line that begins with whitespace (obsolete folding) fails
            // the token check of the next round.
            guard bytes[position + 1] == lf else { return .declined }
            position += 2
            let valueBytes = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            let value = String(decoding: valueBytes, as: UTF8.self)

            switch lowercasedKnownName(nameBytes) {
            case .host:
                guard authority == nil, HostHeader.split(value) != nil else { return .declined }
                authority = value
                continue  // the Host field becomes the authority, as NIO's conversion does
            case .contentLength:
                guard !contentLength, value == "0" else { return .declined }
                contentLength = true
            case .connection:
                guard value.lowercased() == "keep-alive" else { return .declined }
            case .refused:
                return .declined
            case .other:
                break
            }
            guard let name = HTTPField.Name(String(decoding: nameBytes, as: UTF8.self)) else { return .declined }
            fields.append(HTTPField(name: name, value: value))
        }
        // Scheme "http" even under TLS, as Hummingbird's `HTTP1ToHTTPServerCodec(secure: false)` says.
        let request = HTTPRequest(method: method, scheme: "http", authority: authority, path: target,
                                  headerFields: fields)
        return .complete(request, length: end)
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    private static func starts(_ bytes: UnsafeRawBufferPointer, at offset: Int, with text: StaticString) -> Bool {
        let length = text.utf8CodeUnitCount
        guard offset + length <= bytes.count else { return false }
        let pattern = UnsafeRawBufferPointer(start: text.utf8Start, count: length)
        for index in 0..<length where bytes[offset + index] != pattern[index] { return false }
        return true
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private enum KnownName { case host, contentLength, connection, refused, other }

    /// The fields this reader treats specially, by case-insensitive name.
    private static func lowercasedKnownName(_ name: UnsafeRawBufferPointer) -> KnownName {
        func equals(_ text: StaticString) -> Bool {
            guard name.count == text.utf8CodeUnitCount else { return false }
            let pattern = UnsafeRawBufferPointer(start: text.utf8Start, count: name.count)
            for index in 0..<name.count where name[index] | 0x20 != pattern[index] { return false }
            return true
        }
        switch name.count {
        case 2: return equals("te") ? .refused : .other
        case 4: return equals("host") ? .host : .other
        case 6: return equals("expect") ? .refused : .other
        case 7: return equals("upgrade") || equals("trailer") ? .refused : .other
        case 10: return equals("connection") ? .connection : .other
        case 14: return equals("content-length") ? .contentLength : .other
        case 16: return equals("proxy-connection") ? .refused : .other  // llhttp reads it as Connection
        case 17: return equals("transfer-encoding") ? .refused : .other
        default: return .other
        }
    }
}
