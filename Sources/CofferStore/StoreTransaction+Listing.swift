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
            return try fetch("\(base) AND key >= CAST(? AS TEXT) ORDER BY key LIMIT ?", [bucketID, Data(bytes), limit])
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
            return try fetch("\(base) AND key >= CAST(? AS TEXT) ORDER BY key, seq DESC LIMIT ?",
                             [bucketID, Data(bytes), limit])
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
        try Int64.fetchOne(db, sql: """
            SELECT MIN(seq) FROM versions WHERE bucket_id = ? AND key = ?
              AND ((version_id <> 'null' AND version_id > ?) OR (version_id = 'null' AND modified_ms > ?))
            """, arguments: [bucketID, key, versionID, createdMillis])
    }

    private func fetch(_ sql: String, _ arguments: StatementArguments) throws -> [ObjectVersion] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { Self.version(from: $0) }
    }
}
