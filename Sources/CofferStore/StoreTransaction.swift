import CofferCore
import Foundation
import GRDB

/// Typed access to the metadata inside one transaction. The engine decides what to change; this
/// is the only code that knows SQL.
public struct StoreTransaction {
    let db: Database

    // MARK: Settings

    /// A value from the settings table.
    public func setting(_ name: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = ?", arguments: [name])
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
        let statement = try db.cachedStatement(sql: "SELECT id, name, region, created_ms, versioning, mfa_delete FROM buckets WHERE name = ?")
        return try Row.fetchOne(statement, arguments: [name]).map(Self.bucket(from:))
    }

    public func buckets() throws -> [Bucket] {
        try Row.fetchAll(db, sql: "SELECT id, name, region, created_ms, versioning, mfa_delete FROM buckets ORDER BY name")
            .map(Self.bucket(from:))
    }

    public func insertBucket(name: String, region: String, created: Int64) throws -> Bucket {
        try db.execute(sql: "INSERT INTO buckets(name, region, created_ms) VALUES (?, ?, ?)",
                       arguments: [name, region, created])
        return Bucket(id: db.lastInsertedRowID, name: name, region: region, created: created,
                      versioning: VersioningConfiguration())
    }

    public func deleteBucket(id: Int64) throws {
        try db.execute(sql: "DELETE FROM buckets WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM bucket_policies WHERE bucket_id = ?", arguments: [id])
    }

    public func bucketIsEmpty(id: Int64) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT 1 FROM versions WHERE bucket_id = ? LIMIT 1", arguments: [id]) == nil
    }

    public func setVersioning(bucketID: Int64, _ configuration: VersioningConfiguration) throws {
        try db.execute(sql: "UPDATE buckets SET versioning = ?, mfa_delete = ? WHERE id = ?",
                       arguments: [configuration.status.rawValue, configuration.mfaDelete.rawValue, bucketID])
    }

    static func bucket(from row: Row) -> Bucket {
        Bucket(id: row[0], name: row[1], region: row[2], created: row[3],
               versioning: VersioningConfiguration(status: VersioningStatus(rawValue: row[4]) ?? .unversioned,
                                                   mfaDelete: MFADeleteStatus(rawValue: row[5]) ?? .notConfigured))
    }

    // MARK: Versions

    static let versionColumns =
        "key, version_id, is_marker, seq, is_latest, modified_ms, size, etag, headers, checksums, blob_file, blob_inline"

    /// The newest entry of `key` (an object version or a delete marker).
    public func latestVersion(bucketID: Int64, key: String) throws -> ObjectVersion? {
        let statement = try db.cachedStatement(sql: """
            SELECT \(Self.versionColumns) FROM versions WHERE bucket_id = ? AND key = ? ORDER BY seq DESC LIMIT 1
            """)
        return try Row.fetchOne(statement, arguments: [bucketID, key]).map { Self.version(from: $0) }
    }

    /// A bucket and, in the same statement (so from one snapshot without a transaction), the newest
    /// entry of `key` — or, with `versionID`, that version. Nil when the bucket does not exist.
    public func bucketAndVersion(bucket name: String, key: String,
                                 versionID: String?) throws -> (bucket: Bucket, version: ObjectVersion?)? {
        let statement = try db.cachedStatement(sql: versionID == nil ? Self.latestWithBucketSQL : Self.versionWithBucketSQL)
        let arguments: StatementArguments = versionID.map { [key, name, $0] } ?? [key, name]
        // Decoded straight from the statement's current row (fetchOne would copy it first).
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        guard let row = try rows.next() else { return nil }
        let version: ObjectVersion? = row.hasNull(atIndex: 7) ? nil : Self.version(from: row, at: 6)
        return (Self.bucket(from: row), version)
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
        let statement = try db.cachedStatement(sql: """
            SELECT \(Self.versionColumns) FROM versions WHERE bucket_id = ? AND key = ? AND version_id = ?
            """)
        return try Row.fetchOne(statement, arguments: [bucketID, key, versionID]).map { Self.version(from: $0) }
    }

    /// Adds `version` as the newest entry of its key (its sequence is assigned here) and returns it.
    public func insertVersion(bucketID: Int64, _ version: ObjectVersion) throws -> ObjectVersion {
        TableChanges.touchKey(version.key)
        let sequence = try Int64.fetchOne(
            db.cachedStatement(sql: "UPDATE buckets SET next_seq = next_seq + 1 WHERE id = ? RETURNING next_seq - 1"),
            arguments: [bucketID]) ?? 1
        try db.cachedStatement(sql: "UPDATE versions SET is_latest = 0 WHERE bucket_id = ? AND key = ? AND is_latest = 1")
            .execute(arguments: [bucketID, version.key])
        var inserted = version
        inserted.sequence = sequence
        inserted.isLatest = true
        var blobFile: String?
        var blobInline: [UInt8]?
        switch version.blob {
        case .inline(let bytes): blobInline = bytes
        case .file(let name), .manifest(let name): blobFile = name
        case .none: break
        }
        try db.cachedStatement(sql: """
            INSERT INTO versions(bucket_id, key, version_id, is_marker, seq, is_latest, modified_ms, size, etag,
                                 headers, checksums, blob_file, blob_inline)
            VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                bucketID, version.key, version.versionID, version.isDeleteMarker, sequence, version.lastModified,
                version.size, version.etag, version.headers.encoded, version.checksums, blobFile,
                blobInline.map { Data($0) },
            ])
        return inserted
    }

    /// Removes one entry; if it was the newest, the next newest becomes latest.
    public func removeVersion(bucketID: Int64, _ version: ObjectVersion) throws {
        TableChanges.touchKey(version.key)
        try db.cachedStatement(sql: "DELETE FROM versions WHERE bucket_id = ? AND key = ? AND seq = ?")
            .execute(arguments: [bucketID, version.key, version.sequence])
        if version.isLatest {
            try db.cachedStatement(sql: """
                UPDATE versions SET is_latest = 1
                WHERE bucket_id = ? AND key = ? AND seq = (SELECT MAX(seq) FROM versions WHERE bucket_id = ? AND key = ?)
                """).execute(arguments: [bucketID, version.key, bucketID, version.key])
        }
    }

    /// Every blob file a version or a manifest references (for the start-up sweep).
    func referencedBlobFiles() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: """
            SELECT blob_file FROM versions WHERE blob_file IS NOT NULL
            UNION SELECT blob_file FROM manifest_parts WHERE blob_file IS NOT NULL
            """))
    }

    /// How many rows still reference a blob file or a manifest (shared by copies).
    public func blobReferenceCount(_ file: String) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM versions WHERE blob_file = ?1) + (SELECT COUNT(*) FROM parts WHERE blob_file = ?1)
                 + (SELECT COUNT(*) FROM manifest_parts WHERE blob_file = ?1)
            """, arguments: [file]) ?? 0
    }

    // MARK: Manifests

    /// Records a manifest: the blobs of a completed multipart upload, in order.
    public func insertManifest(_ name: String, parts: [BlobSegment]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO manifest_parts(manifest, seq, size, blob_file, blob_inline) VALUES (?, ?, ?, ?, ?)
            """)
        for (index, part) in parts.enumerated() {
            switch part {
            case .bytes(let bytes): try statement.execute(arguments: [name, index, part.size, nil, Data(bytes)])
            case .file(let file, _): try statement.execute(arguments: [name, index, part.size, file, nil])
            }
        }
    }

    /// A manifest's segments in order (empty when it is gone).
    public func manifest(_ name: String) throws -> [BlobSegment] {
        let statement = try db.cachedStatement(sql: """
            SELECT size, blob_file, blob_inline FROM manifest_parts WHERE manifest = ? ORDER BY seq
            """)
        var segments: [BlobSegment] = []
        let rows = try Row.fetchCursor(statement, arguments: [name])
        while let row = try rows.next() {
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
        let files = try String.fetchAll(db, sql: """
            SELECT blob_file FROM manifest_parts WHERE manifest = ? AND blob_file IS NOT NULL
            """, arguments: [name])
        try db.execute(sql: "DELETE FROM manifest_parts WHERE manifest = ?", arguments: [name])
        return files
    }

    /// Decodes `versionColumns`, starting at column `base` of the row.
    static func version(from row: Row, at base: Int = 0) -> ObjectVersion {
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
