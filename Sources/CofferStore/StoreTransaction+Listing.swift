import CofferCore
import Foundation
import GRDB

/// Where a listing scan starts, in key order (keys compare as UTF-8 bytes).
public enum ScanStart: Sendable, Equatable {
    case beginning
    /// Keys strictly after this one.
    case afterKey(String)
    /// Keys at or after these bytes (used to skip past a common prefix; may not be valid UTF-8).
    case atOrAfterBytes([UInt8])
    /// The given key's entries older than `sequence`, then the keys after it.
    case afterVersion(key: String, sequence: Int64)
}

extension StoreTransaction {
    /// Listing rows carry no headers or bytes.
    private static let listColumns =
        "key, version_id, is_marker, seq, is_latest, modified_ms, size, etag, '', checksums, NULL, NULL"

    /// Up to `limit` current object versions (not delete markers), in key order.
    public func currentObjects(bucketID: Int64, from start: ScanStart, limit: Int) throws -> [ObjectVersion] {
        let base = "SELECT \(Self.listColumns) FROM versions WHERE bucket_id = ? AND is_latest = 1 AND is_marker = 0"
        switch start {
        case .beginning:
            return try fetch("\(base) ORDER BY key LIMIT ?", [bucketID, limit])
        case .afterKey(let key), .afterVersion(let key, _):
            return try fetch("\(base) AND key > ? ORDER BY key LIMIT ?", [bucketID, key, limit])
        case .atOrAfterBytes(let bytes):
            guard let least = Self.leastText(atOrAfter: bytes) else { return [] }
            return try fetch("\(base) AND key >= ? ORDER BY key LIMIT ?", [bucketID, least, limit])
        }
    }

    /// Up to `limit` entries of every version and delete marker: keys ascending, newest first within a key.
    public func allVersions(bucketID: Int64, from start: ScanStart, limit: Int) throws -> [ObjectVersion] {
        let base = "SELECT \(Self.listColumns) FROM versions WHERE bucket_id = ?"
        switch start {
        case .beginning:
            return try fetch("\(base) ORDER BY key, seq DESC LIMIT ?", [bucketID, limit])
        case .afterKey(let key):
            return try fetch("\(base) AND key > ? ORDER BY key, seq DESC LIMIT ?", [bucketID, key, limit])
        case .atOrAfterBytes(let bytes):
            guard let least = Self.leastText(atOrAfter: bytes) else { return [] }
            return try fetch("\(base) AND key >= ? ORDER BY key, seq DESC LIMIT ?", [bucketID, least, limit])
        case .afterVersion(let key, let sequence):
            var rows = try fetch("\(base) AND key = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                                 [bucketID, key, sequence, limit])
            if rows.count < limit {
                rows += try fetch("\(base) AND key > ? ORDER BY key, seq DESC LIMIT ?",
                                  [bucketID, key, limit - rows.count])
            }
            return rows
        }
    }

    /// Where to resume a key's versions after `versionID` when that version is gone (deleted between
    /// two pages): just below the oldest entry created after it — ids sort by creation time, and the
    /// null version is placed by its modification time. Nil when nothing of the key is newer.
    public func sequenceAfterVanished(bucketID: Int64, key: String, versionID: String, createdMillis: Int64) throws -> Int64? {
        try db.one(Int64.self, sql: """
            SELECT MIN(seq) FROM versions WHERE bucket_id = ? AND key = ?
              AND ((version_id <> 'null' AND version_id > ?) OR (version_id = 'null' AND modified_ms > ?))
            """, arguments: [bucketID, key, versionID, createdMillis])
    }

    /// The least valid UTF-8 string at or after `bytes` in byte order (nil when there is none). Keys
    /// are valid UTF-8, so `key >= it` holds for exactly the keys at or after the bytes, which need not
    /// be valid UTF-8 (the successor of a common prefix): comparing with the bytes cast to text
    /// worked in SQLite only.
    static func leastText(atOrAfter bytes: [UInt8]) -> String? {
        var scalars = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var length = 0
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                scalars.append(scalar)
                length += UTF8.width(scalar)
            case .emptyInput: return String(scalars)
            case .error: break decoding
            }
        }
        // What follows the whole characters starts no character, so no character's encoding equals
        // it or is a prefix of it: the least string starts with the least character sorting after it.
        let rest = bytes[length...]
        var low: UInt32 = 0
        var high: UInt32 = 0x110000
        while low < high {
            let middle = (low + high) / 2
            if rest.lexicographicallyPrecedes(Self.utf8(middle)) { high = middle } else { low = middle + 1 }
        }
        if low < 0x110000 {
            scalars.append(Unicode.Scalar(low) ?? "\u{E000}")  // past the surrogates
            return String(scalars)
        }
        // Nothing starts with the whole characters: the last one that has a successor takes it.
        while let last = scalars.popLast() {
            if let next = Unicode.Scalar(last.value + 1) ?? (last.value == 0xD7FF ? "\u{E000}" : nil) {
                scalars.append(next)
                return String(scalars)
            }
        }
        return nil
    }

    /// UTF-8 of a code point, surrogates included (their bytes sort where their values do).
    private static func utf8(_ value: UInt32) -> [UInt8] {
        switch value {
        case ..<0x80: [UInt8(value)]
        case ..<0x800: [0xC0 | UInt8(value >> 6), 0x80 | UInt8(value & 0x3F)]
        case ..<0x10000: [0xE0 | UInt8(value >> 12), 0x80 | UInt8(value >> 6 & 0x3F), 0x80 | UInt8(value & 0x3F)]
        default:
            [0xF0 | UInt8(value >> 18), 0x80 | UInt8(value >> 12 & 0x3F), 0x80 | UInt8(value >> 6 & 0x3F),
             0x80 | UInt8(value & 0x3F)]
        }
    }

    private func fetch(_ sql: String, _ arguments: SQLDatabase.Arguments) throws -> [ObjectVersion] {
        var versions: [ObjectVersion] = []
        try db.each(sql: sql, arguments: arguments) { versions.append(Self.version(from: $0)) }
        return versions
    }
}
