import CofferCore
import Foundation

/// The request target split the way S3 needs it: the raw path and query (for signatures), and
/// the decoded bucket, key and query parameters (for everything else).
struct RequestTarget: Sendable {
    /// The path exactly as sent (SigV4 signs it unnormalised).
    let rawPath: Substring
    /// The query exactly as sent, without the `?`.
    let rawQuery: Substring
    let bucket: String?
    let key: String?
    /// Decoded query parameters in order; a bare `versioning` has the value "".
    let query: [(name: String, value: String)]
    /// Set when the bucket came from the Host header (virtual-host addressing).
    let virtualHostBucket: String?

    /// `virtualHostBucket`: the bucket named by the Host header (`bucket.DOMAIN`), in which case the
    /// whole path is the key.
    init(_ target: String, virtualHostBucket: String? = nil) throws(S3Error) {
        // Byte-level splitting: every separator is ASCII, so UTF-8 indices are valid String indices.
        let question = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        rawPath = target[..<(question ?? target.endIndex)]
        rawQuery = question.map { target[target.utf8.index(after: $0)...] } ?? ""
        self.virtualHostBucket = virtualHostBucket
        guard rawPath.utf8.first == UInt8(ascii: "/") else {
            throw S3Error(.invalidRequest, "The request target must be an absolute path.")
        }

        let rest = rawPath[rawPath.utf8.index(after: rawPath.startIndex)...]
        if let virtualHostBucket {
            bucket = virtualHostBucket
            key = rest.isEmpty ? nil : try Self.decode(rest, what: "key")
        } else if rest.isEmpty {
            bucket = nil
            key = nil
        } else if let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) {
            bucket = try Self.decode(rest[..<slash], what: "bucket")
            let rawKey = rest[rest.utf8.index(after: slash)...]
            key = rawKey.isEmpty ? nil : try Self.decode(rawKey, what: "key")
        } else {
            bucket = try Self.decode(rest, what: "bucket")
            key = nil
        }

        var query: [(name: String, value: String)] = []  // labelled as stored: no per-element cast
        if !rawQuery.isEmpty { query.reserveCapacity(8) }  // a presigned URL's six or seven, in one allocation
        var failed = false
        Self.forEachQueryItem(rawQuery) { name, value in
            // '+' stays a plus, as in SigV4's canonical query: were it a space here, `a+b` and
            // `a%2Bb` would carry one signature and mean two things.
            guard let name = Self.decodedItem(name), let value = Self.decodedItem(value) else { failed = true; return }
            query.append((name, value))
        }
        if failed { throw S3Error(.invalidArgument, "Invalid query string encoding (or a NUL character).") }
        self.query = query
    }

    /// Calls `body` with the raw bytes of the name and value of each `&`-separated item (empty
    /// items skipped; a bare name has an empty value).
    static func forEachQueryItem(_ raw: Substring,
                                 _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        if raw.utf8.withContiguousStorageIfAvailable({ forEachQueryItem(in: $0, body) }) == nil {
            Array(raw.utf8).withUnsafeBufferPointer { forEachQueryItem(in: $0, body) }
        }
    }

    /// `forEachQueryItem` over the query's bytes (the items point into `bytes`).
    static func forEachQueryItem(in bytes: UnsafeBufferPointer<UInt8>,
                                 _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        guard let base = bytes.baseAddress else { return }
        /// The offset of the first `byte` in `from..<to`, else `to` (memchr: a word at a time).
        func find(_ byte: UInt8, _ from: Int, _ to: Int) -> Int {
            guard from < to, let found = memchr(base + from, Int32(byte), to - from) else { return to }
            return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
        }
        var start = 0
        while start < bytes.count {
            let end = find(UInt8(ascii: "&"), start, bytes.count)
            if start < end {
                let equals = find(UInt8(ascii: "="), start, end)
                body(UnsafeBufferPointer(rebasing: bytes[start..<equals]),
                     UnsafeBufferPointer(rebasing: bytes[min(equals + 1, end)..<end]))
            }
            start = end + 1
        }
    }

    /// A query name or value decoded: nil for a broken escape, invalid UTF-8 or a NUL. Most have
    /// neither `%` nor NUL, found in one pass, and are taken as they are.
    static func decodedItem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == 0 }) { return String(decoding: bytes, as: UTF8.self) }
        guard let decoded = Percent.decode(bytes), !hasNUL(decoded) else { return nil }
        return decoded
    }

    /// The bucket named by a Host of the form `bucket.DOMAIN[:port]`, when `domain` is set.
    static func virtualHostBucket(authority: String?, domain: String?) -> String? {
        guard let domain, !domain.isEmpty, let authority else { return nil }
        var host = authority.lowercased()
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        let suffix = "." + domain.lowercased()
        guard host.hasSuffix(suffix), host.count > suffix.count else { return nil }
        return String(host.dropLast(suffix.count))
    }

    /// The first value of a query parameter.
    subscript(name: String) -> String? { query.first { sameBytes($0.name, name) }?.value }

    func has(_ name: String) -> Bool { query.contains { sameBytes($0.name, name) } }

    private static func decode(_ raw: Substring, what: String) throws(S3Error) -> String {
        guard let decoded = Percent.decode(raw) else {
            throw S3Error(.invalidArgument, "The \(what) name is not valid percent-encoded UTF-8.")
        }
        // SQLite's text binding ends at a NUL: "a\0b" would be stored and found as "a", another
        // key. A key is its exact bytes or it is refused.
        guard !hasNUL(decoded) else { throw S3Error(.invalidArgument, "The \(what) name must not contain a NUL character.") }
        return decoded
    }

    /// Whether `text` holds a U+0000, which no stored name may.
    static func hasNUL(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.count > 0 && memchr($0.baseAddress!, 0, $0.count) != nil }
            ?? text.utf8.contains(0)
    }
}
