import CofferCore
import Foundation
import GRDB

/// Typed access to the metadata inside one transaction. The engine decides what to change; this
/// is the only code that knows SQL.
public struct StoreTransaction {
    let db: SQLDatabase

    init(sql: SQLDatabase) { self.db = sql }

    // MARK: Settings

    /// A value from the settings table.
    public func setting(_ name: String) throws -> String? {
        try db.one(String.self, sql: "SELECT value FROM meta WHERE name = ?", arguments: [name])
    }

    public func setSetting(_ name: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                       arguments: [name, value])
    }

    public func deleteSetting(_ name: String) throws {
        try db.execute(sql: "DELETE FROM meta WHERE name = ?", arguments: [name])
    }

    // MARK: Buckets

    public func bucket(named name: String) throws -> Bucket? {
        try db.row(sql: "SELECT id, name, region, created_ms, versioning, mfa_delete FROM buckets WHERE name = ?",
                   arguments: [name]).map(Self.bucket(from:))
    }

    public func buckets() throws -> [Bucket] {
        try db.rows(sql: "SELECT id, name, region, created_ms, versioning, mfa_delete FROM buckets ORDER BY name")
            .map(Self.bucket(from:))
    }

    public func insertBucket(name: String, region: String, created: Int64) throws -> Bucket {
        // RETURNING always answers the inserted row.
        let id = try db.one(Int64.self, sql: "INSERT INTO buckets(name, region, created_ms) VALUES (?, ?, ?) RETURNING id",
                            arguments: [name, region, created])!
        return Bucket(id: id, name: name, region: region, created: created,
                      versioning: VersioningConfiguration())
    }

    public func deleteBucket(id: Int64) throws {
        try db.execute(sql: "DELETE FROM buckets WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM bucket_policies WHERE bucket_id = ?", arguments: [id])
    }

    public func bucketIsEmpty(id: Int64) throws -> Bool {
        try db.one(Int.self, sql: "SELECT 1 FROM versions WHERE bucket_id = ? LIMIT 1", arguments: [id]) == nil
    }

    public func setVersioning(bucketID: Int64, _ configuration: VersioningConfiguration) throws {
        try db.execute(sql: "UPDATE buckets SET versioning = ?, mfa_delete = ? WHERE id = ?",
                       arguments: [configuration.status.rawValue, configuration.mfaDelete.rawValue, bucketID])
    }

    static func bucket(from row: SQLRow) -> Bucket {
        Bucket(id: row[0], name: row[1], region: row[2], created: row[3],
               versioning: VersioningConfiguration(status: VersioningStatus(rawValue: row[4]) ?? .unversioned,
                                                   mfaDelete: MFADeleteStatus(rawValue: row[5]) ?? .notConfigured))
    }

    // MARK: Versions

    static let versionColumns =
        "key, version_id, is_marker, seq, is_latest, modified_ms, size, etag, headers, checksums, blob_file, blob_inline"

    /// The newest entry of `key` (an object version or a delete marker).
    public func latestVersion(bucketID: Int64, key: String) throws -> ObjectVersion? {
        try db.row(sql: """
            SELECT \(Self.versionColumns) FROM versions WHERE bucket_id = ? AND key = ? ORDER BY seq DESC LIMIT 1
            """, arguments: [bucketID, key]).map { Self.version(from: $0) }
    }

    /// A bucket and, in the same statement (so from one snapshot without a transaction), the newest
    /// entry of `key` — or, with `versionID`, that version. Nil when the bucket does not exist.
    public func bucketAndVersion(bucket name: String, key: String,
                                 versionID: String?) throws -> (bucket: Bucket, version: ObjectVersion?)? {
        let arguments: SQLDatabase.Arguments = versionID.map { [key, name, $0] } ?? [key, name]
        // Decoded straight from the statement's current row (`row(sql:)` would copy it first).
        return try db.record(BucketAndVersion.self, sql: versionID == nil ? Self.latestWithBucketSQL : Self.versionWithBucketSQL,
                             arguments: arguments).map { ($0.bucket, $0.version) }
    }

    /// A bucket and its key's null version, in one statement, for a write that replaces the null
    /// version (a PUT into a bucket not Enabled). On PostgreSQL the version is reached as
    /// `sameVersion` reaches it, through the hash index on the key and version (see `sameKey`).
    public func bucketAndNullVersion(bucket name: String, key: String) throws -> (bucket: Bucket, nullVersion: ObjectVersion?)? {
        let postgres = db.connection.isPostgres
        let arguments: SQLDatabase.Arguments = postgres ? ["\(key.unicodeScalars.count):\(key)\(VersionID.null)", name]
                                                        : [key, name, VersionID.null]
        return try db.record(BucketAndVersion.self, sql: postgres ? Self.nullVersionWithBucketPostgres : Self.versionWithBucketSQL,
                             arguments: arguments).map { ($0.bucket, $0.version) }
    }

    private static let nullVersionWithBucketPostgres = """
        SELECT b.id, b.name, b.region, b.created_ms, b.versioning, b.mfa_delete, \(prefixed("v"))
        FROM buckets b LEFT JOIN versions v ON (length(v.key) || ':' || v.key || v.version_id) = ?1 AND v.bucket_id + 0 = b.id
        WHERE b.name = ?2
        """

    /// One row of `latestWithBucketSQL` / `versionWithBucketSQL`.
    private struct BucketAndVersion: SQLRecord {
        let bucket: Bucket
        let version: ObjectVersion?
        init(row: SQLRow) {
            bucket = StoreTransaction.bucket(from: row)
            version = row.hasNull(atIndex: 7) ? nil : StoreTransaction.version(from: row, at: 6)
        }
    }

    /// `versionColumns` qualified by a table alias.
    static func prefixed(_ table: String) -> String {
        versionColumns.split(separator: ", ").map { "\(table).\($0)" }.joined(separator: ", ")
    }

    // Built once: the statement cache is keyed by the SQL text, and building it per call cost
    // more than running the query.
    private static let latestWithBucketSQL = """
        SELECT b.id, b.name, b.region, b.created_ms, b.versioning, b.mfa_delete, \(prefixed("v"))
        FROM buckets b LEFT JOIN versions v ON v.id =
            (SELECT id FROM versions WHERE bucket_id = b.id AND key = ?1 ORDER BY seq DESC LIMIT 1)
        WHERE b.name = ?2
        """
    private static let versionWithBucketSQL = """
        SELECT b.id, b.name, b.region, b.created_ms, b.versioning, b.mfa_delete, \(prefixed("v"))
        FROM buckets b LEFT JOIN versions v ON v.bucket_id = b.id AND v.key = ?1 AND v.version_id = ?3
        WHERE b.name = ?2
        """

    public func version(bucketID: Int64, key: String, versionID: String) throws -> ObjectVersion? {
        let (condition, arguments) = sameVersion(bucketID: bucketID, key: key, versionID: versionID)
        return try db.row(sql: "SELECT \(Self.versionColumns) FROM versions WHERE \(condition)",
                          arguments: arguments).map { Self.version(from: $0) }
    }

    /// `bucket_id = ? AND key = ?` (arguments in that order), for the statements of a PUT or a
    /// delete. On PostgreSQL the bucket is compared as an expression, so the planner reaches the
    /// key's rows through a hash index on `key` rather than the B-trees on (bucket_id, key, …):
    /// a SERIALIZABLE transaction's read then marks one hash bucket instead of the B-tree leaf that
    /// the neighbouring keys share, and a PUT of `photos/2` no longer conflicts with one of
    /// `photos/1` (PostgreSQL tracks index reads by page: 1,462 PUTs of 3,000 ran twice before).
    var sameKey: String {
        db.connection.isPostgres ? "bucket_id + 0 = ? AND key = ?" : "bucket_id = ? AND key = ?"
    }

    /// One version of a key, found the same way: on PostgreSQL through the hash index on
    /// `length(key) || ':' || key || version_id` — one value per (key, version), so no other
    /// condition is needed (one would tempt the planner into a bitmap scan of two indexes, and
    /// PostgreSQL tracks a bitmap heap scan's reads by heap page).
    func sameVersion(bucketID: Int64, key: String, versionID: String) -> (String, SQLDatabase.Arguments) {
        guard db.connection.isPostgres else {
            return ("bucket_id = ? AND key = ? AND version_id = ?", [bucketID, key, versionID])
        }
        return ("(length(key) || ':' || key || version_id) = ? AND bucket_id + 0 = ?",
                ["\(key.unicodeScalars.count):\(key)\(versionID)", bucketID])
    }

    /// Adds `version` as the newest entry of its key and returns it as stored (latest; its
    /// sequence, assigned here, is read back on SQLite only — 0 on PostgreSQL).
    /// `demoting: false` when no entry of the key is latest any more (the latest was just removed
    /// with `promotingNext: false`): one statement fewer.
    public func insertVersion(bucketID: Int64, _ version: ObjectVersion, demoting: Bool = true) throws -> ObjectVersion {
        TableChanges.touchKey(version.key)
        // On PostgreSQL from one sequence for all buckets: a per-bucket counter row would make every
        // two PUTs into a bucket conflict. Still increasing per key: two writes of one key conflict
        // on its latest row, and the one that runs again draws a larger number.
        // (PostgreSQL draws it in the INSERT itself, one round trip fewer.)
        let postgres = db.connection.isPostgres
        var sequence: Int64 = 0
        if !postgres {
            sequence = try db.one(Int64.self, sql: "UPDATE buckets SET next_seq = next_seq + 1 WHERE id = ? RETURNING next_seq - 1",
                                  arguments: [bucketID]) ?? 1
        }
        if demoting {
            try db.send(sql: "UPDATE versions SET is_latest = 0 WHERE \(sameKey) AND is_latest = 1",
                        arguments: [bucketID, version.key])
        }
        var inserted = version
        inserted.sequence = sequence
        inserted.isLatest = true
        let (blobFile, blobInline) = try blobColumns(version.blob)
        let arguments: [(any DatabaseValueConvertible)?] = [
            bucketID, version.key, version.versionID, version.isDeleteMarker, version.lastModified,
            version.size, version.etag, version.headers.encoded, version.checksums, blobFile, blobInline,
        ]
        let columns = "bucket_id, key, version_id, is_marker, modified_ms, size, etag, headers, checksums, blob_file, blob_inline, is_latest, seq"
        if postgres {
            // Sent without waiting for it: the sequence it draws is not read back (it orders the
            // key's stack inside the store; no caller of a write needs it), so `inserted.sequence` is 0.
            try db.send(sql: """
                INSERT INTO versions(\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, nextval('version_seq'))
                """, arguments: arguments)
        } else {
            try db.execute(sql: "INSERT INTO versions(\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                           arguments: arguments + [sequence])
        }
        return inserted
    }

    /// Replaces the key's latest entry `existing` (a null version being overwritten) with `version`
    /// in place, as one UPDATE of its row: what `removeVersion(promotingNext: false)` and
    /// `insertVersion(demoting: false)` did in two statements. The row keeps its sequence (it was
    /// the key's newest and stays so), its key and its version id, so when its blob column does
    /// not change either, PostgreSQL updates it without touching any index (a HOT update).
    /// Returns the version as stored.
    public func replaceLatestVersion(bucketID: Int64, _ existing: ObjectVersion, with version: ObjectVersion) throws -> ObjectVersion {
        precondition(existing.isLatest && existing.key == version.key && existing.versionID == version.versionID)
        TableChanges.touchKey(version.key)
        var stored = version
        stored.sequence = existing.sequence
        stored.isLatest = true
        let (blobFile, blobInline) = try blobColumns(version.blob)
        let (condition, keyArguments) = sameVersion(bucketID: bucketID, key: version.key, versionID: version.versionID)
        let arguments: SQLDatabase.Arguments = [
            version.isDeleteMarker, version.lastModified, version.size, version.etag, version.headers.encoded,
            version.checksums, blobFile, blobInline,
        ]
        try db.send(sql: """
            UPDATE versions SET is_marker = ?, modified_ms = ?, size = ?, etag = ?, headers = ?, checksums = ?,
                blob_file = ?, blob_inline = ?
            WHERE \(condition)
            """, arguments: arguments + keyArguments)
        return stored
    }

    /// A version's `blob_file` and `blob_inline` columns; refuses a blob file the sweep has taken.
    private func blobColumns(_ blob: BlobLocation) throws -> (file: String?, inline: Data?) {
        switch blob {
        case .inline(let bytes): return (nil, Data(bytes))
        case .file(let name):
            try checkNotSwept(name)
            return (name, nil)
        case .manifest(let name): return (name, nil)
        case .none: return (nil, nil)
        }
    }

    /// Removes one entry; if it was the newest, the next newest becomes latest — unless
    /// `promotingNext` is false, because a new latest entry follows in the same transaction.
    public func removeVersion(bucketID: Int64, _ version: ObjectVersion, promotingNext: Bool = true) throws {
        TableChanges.touchKey(version.key)
        let (condition, arguments) = sameVersion(bucketID: bucketID, key: version.key, versionID: version.versionID)
        try db.send(sql: "DELETE FROM versions WHERE \(condition)", arguments: arguments)
        if version.isLatest, promotingNext {
            try db.send(sql: """
                UPDATE versions SET is_latest = 1
                WHERE \(sameKey) AND seq = (SELECT MAX(seq) FROM versions WHERE \(sameKey))
                """, arguments: [bucketID, version.key, bucketID, version.key])
        }
    }

    /// Every blob file a version or a manifest references (for the start-up sweep).
    func referencedBlobFiles() throws -> Set<String> {
        Set(try db.all(String.self, sql: """
            SELECT blob_file FROM versions WHERE blob_file IS NOT NULL
            UNION SELECT blob_file FROM manifest_parts WHERE blob_file IS NOT NULL
            """))
    }

    /// Those of `names` (at most 500) that a version, a part or a manifest references.
    func referencedBlobs(among names: [String]) throws -> Set<String> {
        guard !names.isEmpty else { return [] }
        let list = (1...names.count).map { "?\($0)" }.joined(separator: ", ")
        return Set(try db.all(String.self, sql: """
            SELECT blob_file FROM versions WHERE blob_file IN (\(list))
            UNION SELECT blob_file FROM parts WHERE blob_file IN (\(list))
            UNION SELECT blob_file FROM manifest_parts WHERE blob_file IN (\(list))
            """, arguments: names.map { $0 as (any DatabaseValueConvertible)? }))
    }

    /// On a cluster: refuses (`StoreBusy`, a 503 with nothing written) to reference blob `name` if
    /// the orphan sweep has taken it. The sweep records that in a transaction that read no
    /// reference to it; under SERIALIZABLE only one of the two commits, so a version never names
    /// bytes the sweep removes. (A data folder's sweep runs only while no upload can.)
    func checkNotSwept(_ name: String) throws {
        guard db.connection.isPostgres else { return }
        if try db.one(Int64.self, sql: "SELECT 1 FROM swept_blobs WHERE name = ?", arguments: [name]) != nil {
            throw StoreBusy()
        }
    }

    /// Records as swept those of `names` that nothing references; returns them (cluster only).
    func markSwept(_ names: [String]) throws -> [String] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var doomed: [String] = []
        for name in names where try blobReferenceCount(name) == 0 {
            try db.execute(sql: "INSERT INTO swept_blobs(name, swept_ms) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                           arguments: [name, now])
            doomed.append(name)
        }
        return doomed
    }

    /// Forgets blobs swept before `date` (no upload stays uncommitted that long).
    func forgetSwept(before date: Date) throws {
        try db.execute(sql: "DELETE FROM swept_blobs WHERE swept_ms < ?", arguments: [Int64(date.timeIntervalSince1970 * 1000)])
    }

    /// How many rows still reference a blob file or a manifest (shared by copies).
    public func blobReferenceCount(_ file: String) throws -> Int {
        try db.one(Int.self, sql: """
            SELECT (SELECT COUNT(*) FROM versions WHERE blob_file = ?1) + (SELECT COUNT(*) FROM parts WHERE blob_file = ?1)
                 + (SELECT COUNT(*) FROM manifest_parts WHERE blob_file = ?1)
            """, arguments: [file]) ?? 0
    }

    // MARK: Manifests

    /// Records a manifest: the blobs of a completed multipart upload, in order.
    public func insertManifest(_ name: String, parts: [BlobSegment]) throws {
        let sql = "INSERT INTO manifest_parts(manifest, seq, size, blob_file, blob_inline) VALUES (?, ?, ?, ?, ?)"
        for (index, part) in parts.enumerated() {
            switch part {
            case .bytes(let bytes): try db.execute(sql: sql, arguments: [name, index, part.size, nil, Data(bytes)])
            case .file(let file, _): try db.execute(sql: sql, arguments: [name, index, part.size, file, nil])
            }
        }
    }

    /// A manifest's segments in order (empty when it is gone).
    public func manifest(_ name: String) throws -> [BlobSegment] {
        var segments: [BlobSegment] = []
        try db.each(sql: "SELECT size, blob_file, blob_inline FROM manifest_parts WHERE manifest = ? ORDER BY seq",
                    arguments: [name]) { row in
            if let file: String = row["blob_file"] {
                segments.append(.file(file, size: row["size"]))
            } else {
                segments.append(.bytes(Array((row["blob_inline"] as Data?) ?? Data())))
            }
        }
        return segments
    }

    /// Deletes a manifest; returns the blob files it listed.
    public func deleteManifest(_ name: String) throws -> [String] {
        let files = try db.all(String.self, sql: """
            SELECT blob_file FROM manifest_parts WHERE manifest = ? AND blob_file IS NOT NULL
            """, arguments: [name])
        try db.execute(sql: "DELETE FROM manifest_parts WHERE manifest = ?", arguments: [name])
        return files
    }

    /// Decodes `versionColumns`, starting at column `base` of the row.
    static func version(from row: SQLRow, at base: Int = 0) -> ObjectVersion {
        let blob: BlobLocation
        if let file: String = row[base + 10] {
            blob = Manifest.isManifest(file) ? .manifest(file) : .file(file)
        } else if let data: Data = row[base + 11] {
            blob = .inline(Array(data))
        } else {
            blob = .inline([])
        }
        let isMarker: Bool = row[base + 2]
        return ObjectVersion(key: row[base], versionID: row[base + 1], isDeleteMarker: isMarker, sequence: row[base + 3],
                             isLatest: row[base + 4], lastModified: row[base + 5], size: row[base + 6],
                             etag: row[base + 7], headers: StoredHeaders(encoded: row[base + 8]),
                             checksums: row[base + 9], blob: isMarker ? .none : blob)
    }
}
