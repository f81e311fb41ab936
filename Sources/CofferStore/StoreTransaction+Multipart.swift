import CofferCore
import Foundation
import GRDB

/// An in-progress multipart upload.
public struct UploadRecord: Sendable, Equatable {
    public var uploadID: String
    public var bucketID: Int64
    public var key: String
    public var created: Int64
    public var headers: StoredHeaders
    public var checksumAlgorithm: String?
    public init(uploadID: String, bucketID: Int64, key: String, created: Int64, headers: StoredHeaders,
                checksumAlgorithm: String?) {
        self.uploadID = uploadID
        self.bucketID = bucketID
        self.key = key
        self.created = created
        self.headers = headers
        self.checksumAlgorithm = checksumAlgorithm
    }
}

/// One uploaded part.
public struct PartRecord: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public var size: Int64
    /// `ALGORITHM:base64`, or "".
    public var checksum: String
    public var blob: BlobLocation
    public var modified: Int64
    public init(number: Int, etag: String, size: Int64, checksum: String, blob: BlobLocation, modified: Int64) {
        self.number = number
        self.etag = etag
        self.size = size
        self.checksum = checksum
        self.blob = blob
        self.modified = modified
    }
}

extension StoreTransaction {
    public func insertUpload(_ upload: UploadRecord) throws {
        try db.execute(sql: """
            INSERT INTO uploads(upload_id, bucket_id, key, created_ms, headers, checksum_algorithm) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [upload.uploadID, upload.bucketID, upload.key, upload.created, upload.headers.encoded,
                             upload.checksumAlgorithm])
    }

    public func upload(_ uploadID: String) throws -> UploadRecord? {
        try db.record(UploadRecord.self, sql: """
            SELECT \(UploadRecord.columns) FROM uploads WHERE upload_id = ?
            """, arguments: [uploadID])
    }

    /// Uploads of a bucket in (key, upload id) order after the markers.
    public func uploads(bucketID: Int64, prefix: String, afterKey: String, afterUploadID: String, limit: Int) throws -> [UploadRecord] {
        try db.records(UploadRecord.self, sql: """
            SELECT \(UploadRecord.columns) FROM uploads
            WHERE bucket_id = ? AND (key > ? OR (key = ? AND upload_id > ?)) AND substr(key, 1, length(?)) = ?
            ORDER BY key, upload_id LIMIT ?
            """, arguments: [bucketID, afterKey, afterKey, afterUploadID, prefix, prefix, limit])
    }

    /// Removes an upload and its parts; returns the part blob files to delete after the commit.
    public func deleteUpload(_ uploadID: String) throws -> [String] {
        let files = try db.all(String.self, sql: "SELECT blob_file FROM parts WHERE upload_id = ? AND blob_file IS NOT NULL",
                               arguments: [uploadID])
        try db.execute(sql: "DELETE FROM parts WHERE upload_id = ?", arguments: [uploadID])
        try db.execute(sql: "DELETE FROM uploads WHERE upload_id = ?", arguments: [uploadID])
        return files
    }

    /// Remembers that `uploadID` made `versionID` of `key` (and forgets completions before `forgetBefore`).
    public func recordCompletion(_ uploadID: String, bucketID: Int64, key: String, versionID: String, versioned: Bool,
                                 at time: Int64, forgetBefore: Int64) throws {
        try db.execute(sql: "DELETE FROM completed_uploads WHERE completed_ms < ?", arguments: [forgetBefore])
        try db.execute(sql: """
            INSERT INTO completed_uploads(upload_id, bucket_id, key, version_id, versioned, completed_ms)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(upload_id) DO UPDATE SET bucket_id = excluded.bucket_id, key = excluded.key,
                version_id = excluded.version_id, versioned = excluded.versioned, completed_ms = excluded.completed_ms
            """, arguments: [uploadID, bucketID, key, versionID, versioned, time])
    }

    /// The version a completed upload made, and whether its bucket was versioning-enabled then.
    public func completion(_ uploadID: String, bucketID: Int64, key: String) throws -> (versionID: String, versioned: Bool)? {
        try db.row(sql: """
            SELECT version_id, versioned FROM completed_uploads WHERE upload_id = ? AND bucket_id = ? AND key = ?
            """, arguments: [uploadID, bucketID, key]).map { ($0["version_id"], $0["versioned"]) }
    }

    /// Every unfinished upload of a bucket.
    public func uploadIDs(bucketID: Int64) throws -> [String] {
        try db.all(String.self, sql: "SELECT upload_id FROM uploads WHERE bucket_id = ?", arguments: [bucketID])
    }

    /// Uploads started before `time` (abandoned), oldest first.
    public func uploads(startedBefore time: Int64) throws -> [String] {
        try db.all(String.self, sql: "SELECT upload_id FROM uploads WHERE created_ms < ?", arguments: [time])
    }

    /// Stores a part, replacing one with the same number; returns the replaced part's blob file.
    public func putPart(_ uploadID: String, _ part: PartRecord) throws -> String? {
        let old = try db.one(String.self, sql: "SELECT blob_file FROM parts WHERE upload_id = ? AND part_number = ?",
                             arguments: [uploadID, part.number])
        var file: String?
        var inline: Data?
        switch part.blob {
        case .file(let name):
            file = name
            try checkNotSwept(name)
        case .inline(let bytes): inline = Data(bytes)
        case .none: inline = Data()
        case .manifest: preconditionFailure("a part's bytes are staged by its upload, never a manifest")
        }
        try db.execute(sql: """
            INSERT INTO parts(upload_id, part_number, etag, size, checksum, blob_file, blob_inline, modified_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(upload_id, part_number) DO UPDATE SET etag = excluded.etag, size = excluded.size,
                checksum = excluded.checksum, blob_file = excluded.blob_file, blob_inline = excluded.blob_inline,
                modified_ms = excluded.modified_ms
            """, arguments: [uploadID, part.number, part.etag, part.size, part.checksum, file, inline, part.modified])
        return old
    }

    public func parts(_ uploadID: String, after number: Int, limit: Int) throws -> [PartRecord] {
        try db.records(PartRecord.self, sql: """
            SELECT \(PartRecord.columns) FROM parts
            WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?
            """, arguments: [uploadID, number, limit])
    }

    func referencedPartFiles() throws -> Set<String> {
        Set(try db.all(String.self, sql: "SELECT blob_file FROM parts WHERE blob_file IS NOT NULL"))
    }
}
