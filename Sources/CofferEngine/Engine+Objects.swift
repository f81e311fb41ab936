import CofferCore
import Foundation
import CofferStore

/// A finished upload, ready to become a version.
public struct ObjectUpload: Sendable {
    public var staged: BlobStager.Staged
    public var size: Int64
    /// Hex MD5 of the bytes (the ETag), or a multipart ETag.
    public var etag: String
    public var headers: StoredHeaders
    public var checksums: String

    public init(staged: BlobStager.Staged, size: Int64, etag: String, headers: StoredHeaders, checksums: String = "") {
        self.staged = staged
        self.size = size
        self.etag = etag
        self.headers = headers
        self.checksums = checksums
    }
}

/// What a write did: the new version (nil id when the bucket is not versioning-enabled).
public struct PutOutcome: Sendable, Equatable {
    /// `x-amz-version-id` to send: set only in an Enabled bucket.
    public var versionID: String?
    public var etag: String
    public var version: ObjectVersion
}

/// A conditional write (`If-None-Match: *`, `If-Match: ETAG` on PutObject and
/// CompleteMultipartUpload), judged against the key's current object.
public enum WriteCondition: Sendable, Equatable {
    /// Only if the key has no current object (its newest entry is none or a delete marker).
    case ifNoneMatch
    /// Only if the current object's ETag is this one (quotes ignored).
    case ifMatch(String)

    /// `412 PreconditionFailed`, or `404 NoSuchKey` for If-Match on a key with no current object.
    public func check(_ current: ObjectVersion?, key: String) throws {
        switch self {
        case .ifNoneMatch:
            guard current == nil else { throw S3Error(.preconditionFailed, details: [("Condition", "If-None-Match")]) }
        case .ifMatch(let etag):
            guard let current else { throw S3Error.noSuchKey(key) }
            let wanted = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            guard wanted == "*" || wanted == current.etag else {
                throw S3Error(.preconditionFailed, details: [("Condition", "If-Match")])
            }
        }
    }

    /// The check again at commit, after the body streamed in: a failure now means another write
    /// won meanwhile — `409 ConditionalRequestConflict`, as AWS answers a concurrent conflict.
    func checkAtCommit(_ current: ObjectVersion?, key: String) throws {
        do {
            try check(current, key: key)
        } catch let error as S3Error where error.code == .preconditionFailed || error.code == .noSuchKey {
            throw S3Error(.conditionalRequestConflict)
        }
    }
}

extension Engine {
    /// The key's current object (nil when it has none, or its newest entry is a delete marker),
    /// read to judge a write condition before any body is read.
    public func checkCondition(_ condition: WriteCondition, bucket name: String, key: String) async throws {
        let current = try await store.asyncRead { transaction in
            try Self.currentObject(try Self.requireBucket(transaction, name), key: key, in: transaction)
        }
        try condition.check(current, key: key)
    }

    static func currentObject(_ bucket: Bucket, key: String, in transaction: StoreTransaction) throws -> ObjectVersion? {
        try transaction.latestVersion(bucketID: bucket.id, key: key).flatMap { $0.isDeleteMarker ? nil : $0 }
    }

    /// PutObject: Enabled → a new version with a fresh id; Suspended or never versioned → the
    /// null version, replacing any existing one. The blob is made durable before its row commits.
    public func putObject(bucket name: String, key: String, _ upload: ObjectUpload,
                          condition: WriteCondition? = nil) async throws -> PutOutcome {
        try Self.validateKey(key)
        let (blob, committedFile) = try await durable(upload.staged)
        let modified = now()
        do {
            let (outcome, orphans) = try await store.write { transaction -> (PutOutcome, [String]) in
                // The bucket and the null version a write there may replace, in one read.
                guard let (bucket, nullVersion) = try transaction.bucketAndNullVersion(bucket: name, key: key) else {
                    throw S3Error.noSuchBucket(name)
                }
                if let condition { try condition.checkAtCommit(try Self.currentObject(bucket, key: key, in: transaction), key: key) }
                return try Self.write(ObjectVersion(key: key, versionID: "", isDeleteMarker: false, lastModified: modified,
                                                    size: upload.size, etag: upload.etag, headers: upload.headers,
                                                    checksums: upload.checksums, blob: blob),
                                      to: bucket, in: transaction, nullVersion: .some(nullVersion))
            }
            await removeBlobs(orphans)
            return outcome
        } catch {
            if let committedFile, StoreBusy.wroteNothing(error) { store.blobs.remove(committedFile) }
            throw error
        }
    }

    /// Adds a new object version as a write in `bucket`'s state: Enabled → a fresh id; otherwise the
    /// null version, replacing an existing one. Returns the outcome and blob files to remove.
    /// `nullVersion`: the key's null version (or its absence) when the caller has read it already.
    static func write(_ new: ObjectVersion, to bucket: Bucket, in transaction: StoreTransaction,
                      nullVersion: ObjectVersion?? = nil) throws -> (PutOutcome, [String]) {
        let enabled = bucket.versioning.status == .enabled
        var version = new
        version.versionID = enabled ? VersionID.make(nowMicros: UInt64(new.lastModified) * 1000) : VersionID.null
        var replaced: ObjectVersion?
        let inserted: ObjectVersion
        if !enabled,
           let existing = try nullVersion ?? transaction.version(bucketID: bucket.id, key: new.key, versionID: VersionID.null) {
            replaced = existing
            if existing.isLatest {
                // The overwrite of a key's current null version: its row, rewritten in place.
                inserted = try transaction.replaceLatestVersion(bucketID: bucket.id, existing, with: version)
            } else {
                // An older null version goes; the new one goes on top of the key's stack.
                try transaction.removeVersion(bucketID: bucket.id, existing, promotingNext: false)
                inserted = try transaction.insertVersion(bucketID: bucket.id, version)
            }
        } else {
            // A bucket never versioned holds null versions only: a key without one has no entry
            // at all, so none is latest to be demoted.
            let alone = bucket.versioning.status == .unversioned
            inserted = try transaction.insertVersion(bucketID: bucket.id, version, demoting: !alone)
        }
        // Counted after the insert: a copy onto itself shares the very blob it replaces.
        let orphans = try replaced.map { try unreferencedFiles($0.blob, in: transaction) } ?? []
        return (PutOutcome(versionID: enabled ? version.versionID : nil, etag: version.etag, version: inserted), orphans)
    }

    /// CopyObject: a new version of the target made from a source version (its bytes shared, not
    /// copied, when they live in a blob file). Metadata comes from the source (COPY) or the request
    /// (REPLACE); copying the current version onto itself needs REPLACE (an older one restores it).
    /// A source version id naming a delete
    /// marker is `InvalidRequest`; a source whose current version is a marker is `NoSuchKey`.
    public func copyObject(from source: (bucket: String, key: String, versionID: String?), to target: (bucket: String, key: String),
                           replacing headers: StoredHeaders?) async throws -> (PutOutcome, sourceVersionID: String?) {
        try Self.validateKey(target.key)
        let modified = now()
        let (outcome, orphans, sourceVersionID) = try await store.write { transaction -> (PutOutcome, [String], String?) in
            let sourceBucket = try Self.requireBucket(transaction, source.bucket)
            let original: ObjectVersion
            if let versionID = source.versionID {
                try Self.validateVersionID(versionID, in: sourceBucket)
                guard let found = try transaction.version(bucketID: sourceBucket.id, key: source.key, versionID: versionID) else {
                    throw S3Error.noSuchVersion(key: source.key, versionID: versionID)
                }
                guard !found.isDeleteMarker else {
                    throw S3Error(.invalidRequest, "The source of a copy request may not specifically refer to a delete marker by version id.")
                }
                original = found
            } else {
                guard let latest = try transaction.latestVersion(bucketID: sourceBucket.id, key: source.key) else {
                    throw S3Error.noSuchKey(source.key)
                }
                guard !latest.isDeleteMarker else {
                    throw S3Error(.noSuchKey, details: [("Key", source.key)], deleteMarker: DeleteMarkerFacts(versionID: nil))
                }
                original = latest
            }
            // Keys compared as bytes: S3 keys are byte strings, and Swift's == would make an NFC
            // and an NFD spelling of one name the same key. Copying an older version onto its own
            // key is how S3 restores a previous version: only the current one onto itself is refused.
            if source.bucket == target.bucket, source.key.utf8.elementsEqual(target.key.utf8), headers == nil,
               original.isLatest {
                throw S3Error(.invalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
            }
            let targetBucket = try Self.requireBucket(transaction, target.bucket)
            let copy = ObjectVersion(key: target.key, versionID: "", isDeleteMarker: false, lastModified: modified,
                                     size: original.size, etag: original.etag, headers: headers ?? original.headers,
                                     checksums: original.checksums, blob: original.blob)
            let (outcome, orphans) = try Self.write(copy, to: targetBucket, in: transaction)
            return (outcome, orphans, sourceBucket.versioning.status == .unversioned ? nil : original.versionID)
        }
        await removeBlobs(orphans)
        return (outcome, sourceVersionID)
    }

    /// The version a GET or HEAD reads, with every versioning rule of spec §3.4:
    /// no versionId → the latest (a delete marker there is `NoSuchKey` + `x-amz-delete-marker`);
    /// a versionId → that version (`NoSuchVersion`; 405 for a marker; `InvalidArgument` if malformed).
    public func objectForRead(bucket name: String, key: String, versionID: String?) async throws -> ObjectVersion {
        try read(bucket: name, key: key, versionID: versionID).version
    }

    /// The same, with the bucket it was read from, in one read.
    public func read(bucket name: String, key: String, versionID: String?) throws -> (bucket: Bucket, version: ObjectVersion) {
        try Self.resolve(try store.bucketAndVersion(bucket: name, key: key, versionID: versionID),
                         bucket: name, key: key, versionID: versionID)
    }

    /// `read(bucket:key:versionID:)` for request handlers: it suspends while a cluster's
    /// PostgreSQL answers instead of holding the thread.
    public func lookUp(bucket name: String, key: String, versionID: String?) async throws -> (bucket: Bucket, version: ObjectVersion) {
        try Self.resolve(try await store.lookUp(bucket: name, key: key, versionID: versionID),
                         bucket: name, key: key, versionID: versionID)
    }

    /// The version a GET names, or the S3 error for what was found instead.
    static func resolve(_ found: (bucket: Bucket, version: ObjectVersion?)?, bucket name: String, key: String,
                        versionID: String?) throws -> (bucket: Bucket, version: ObjectVersion) {
        guard let (bucket, version) = found else { throw S3Error.noSuchBucket(name) }
        guard let versionID else {
            guard let latest = version else { throw S3Error.noSuchKey(key) }
            if latest.isDeleteMarker {
                var error = S3Error.noSuchKey(key)
                error.deleteMarker = DeleteMarkerFacts(versionID: latest.versionID)
                throw error
            }
            return (bucket, latest)
        }
        try Self.validateVersionID(versionID, in: bucket)
        guard let version else { throw S3Error.noSuchVersion(key: key, versionID: versionID) }
        if version.isDeleteMarker {
            throw S3Error(.methodNotAllowed, details: [("Method", "GET"), ("ResourceType", "DeleteMarker")],
                          deleteMarker: DeleteMarkerFacts(versionID: version.versionID, lastModified: version.lastModified))
        }
        return (bucket, version)
    }

    /// Staged bytes made ready for a row: inline ones as they are, a temporary file committed
    /// (fsync'd and renamed, or copied into RADOS), bytes held in memory written to RADOS — the
    /// blob's name returned too, to remove if the row then fails to commit.
    func durable(_ staged: BlobStager.Staged) async throws -> (BlobLocation, committedFile: String?) {
        switch staged {
        case .inline(let bytes): return (.inline(bytes), nil)
        case .temporary(let file):
            let name = try await store.blobs.commit(file)
            return (.file(name), name)
        case .memory(let bytes):
            let name = try await store.blobs.commit(bytes)
            return (.file(name), name)
        }
    }

    /// Keys are 1 to 1,024 bytes of UTF-8.
    static func validateKey(_ key: String) throws {
        guard !key.isEmpty else { throw S3Error.invalidArgument("Object key must not be empty", name: "key") }
        guard key.utf8.count <= 1024 else { throw S3Error(.keyTooLong, details: [("Key", String(key.prefix(64)))]) }
    }

    /// A version id must be well formed; a never-versioned bucket knows only `null`.
    static func validateVersionID(_ versionID: String, in bucket: Bucket) throws {
        guard VersionID.isWellFormed(versionID) else { throw S3Error.invalidVersionID }
        if bucket.versioning.status == .unversioned, versionID != VersionID.null { throw S3Error.invalidVersionID }
    }

    /// Removes one entry and returns the blob files to delete after the commit.
    static func remove(_ version: ObjectVersion, bucketID: Int64, in transaction: StoreTransaction,
                       promotingNext: Bool = true) throws -> [String] {
        try transaction.removeVersion(bucketID: bucketID, version, promotingNext: promotingNext)
        return try unreferencedFiles(version.blob, in: transaction)
    }

    /// The blob file of `blob`, if no row references it any more (to delete after the commit).
    static func unreferencedFiles(_ blob: BlobLocation, in transaction: StoreTransaction) throws -> [String] {
        switch blob {
        case .file(let name):
            return try transaction.blobReferenceCount(name) == 0 ? [name] : []
        case .manifest(let name):
            // The last version sharing a manifest takes it, and with it the parts no one else lists.
            guard try transaction.blobReferenceCount(name) == 0 else { return [] }
            return try transaction.deleteManifest(name).filter { try transaction.blobReferenceCount($0) == 0 }
        case .inline, .none:
            return []
        }
    }
}
