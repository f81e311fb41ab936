import CofferCore
import CofferStore
import Crypto
import Foundation

/// A part named in CompleteMultipartUpload.
public struct CompletedPart: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public init(number: Int, etag: String) {
        self.number = number
        self.etag = etag
    }
}

extension Engine {
    public static let minPartSize: Int64 = 5 * 1024 * 1024
    public static let abandonedUploadAge: Int64 = 7 * 86_400_000
    /// How long a repeated CompleteMultipartUpload still gets the first answer.
    public static let completionMemory: Int64 = 86_400_000

    /// CreateMultipartUpload: the headers to give the object, and the checksum algorithm its parts carry.
    public func createUpload(bucket name: String, key: String, headers: StoredHeaders, checksumAlgorithm: String?) async throws -> String {
        try Self.validateKey(key)
        // Version-id shaped: URL-safe, time-ordered, 96 random bits.
        let uploadID = VersionID.make(nowMicros: UInt64(now()) * 1000)
        let created = now()
        try await store.write { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            try transaction.insertUpload(UploadRecord(uploadID: uploadID, bucketID: bucket.id, key: key, created: created,
                                                      headers: headers, checksumAlgorithm: checksumAlgorithm))
        }
        return uploadID
    }

    static func requireUpload(_ transaction: StoreTransaction, bucket name: String, key: String, uploadID: String) throws
        -> (Bucket, UploadRecord) {
        let bucket = try requireBucket(transaction, name)
        guard let upload = try transaction.upload(uploadID), upload.bucketID == bucket.id, upload.key.utf8.elementsEqual(key.utf8) else {
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        return (bucket, upload)
    }

    static func validatePartNumber(_ number: Int) throws {
        guard (1...10_000).contains(number) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                          name: "partNumber", value: String(number))
        }
    }

    /// UploadPart: stores (or replaces) one part; its blob is durable before its row commits.
    public func uploadPart(bucket name: String, key: String, uploadID: String, number: Int, _ part: ObjectUpload) async throws {
        try Self.validatePartNumber(number)
        let (blob, committed) = try await durable(part.staged)
        let modified = now()
        do {
            let orphans = try await store.write { transaction -> [String] in
                _ = try Self.requireUpload(transaction, bucket: name, key: key, uploadID: uploadID)
                let old = try transaction.putPart(uploadID, PartRecord(number: number, etag: part.etag, size: part.size,
                                                                       checksum: part.checksums, blob: blob, modified: modified))
                return try old.map { try Self.unreferencedFiles(.file($0), in: transaction) } ?? []
            }
            await removeBlobs(orphans)
        } catch {
            if let committed, StoreBusy.wroteNothing(error) { store.blobs.remove(committed) }
            throw error
        }
    }

    public func parts(bucket name: String, key: String, uploadID: String, after: Int, limit: Int) async throws
        -> (UploadRecord, [PartRecord]) {
        try await store.asyncRead { transaction in
            let (_, upload) = try Self.requireUpload(transaction, bucket: name, key: key, uploadID: uploadID)
            return (upload, try transaction.parts(uploadID, after: after, limit: limit))
        }
    }

    public func uploads(bucket name: String, prefix: String, afterKey: String, afterUploadID: String, limit: Int) async throws
        -> [UploadRecord] {
        try await store.asyncRead { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            return try transaction.uploads(bucketID: bucket.id, prefix: prefix, afterKey: afterKey,
                                           afterUploadID: afterUploadID, limit: limit)
        }
    }

    /// AbortMultipartUpload: the upload and its parts go, their blobs reclaimed.
    public func abortUpload(bucket name: String, key: String, uploadID: String) async throws {
        let files = try await store.write { transaction -> [String] in
            _ = try Self.requireUpload(transaction, bucket: name, key: key, uploadID: uploadID)
            return try transaction.deleteUpload(uploadID).flatMap { try Self.unreferencedFiles(.file($0), in: transaction) }
        }
        await removeBlobs(files)
    }

    /// CompleteMultipartUpload: parts in ascending order, each present with its ETag, all but the last
    /// at least 5 MiB. The object is not written again: a manifest lists the chosen parts' blobs in
    /// order, and exactly one new version references it — all in one transaction, which also
    /// checks the parts (so a part replaced meanwhile cannot slip in). ETag = MD5 of the parts'
    /// binary MD5s + `-N`. `composite` turns the chosen parts' checksums into the object's (or "").
    public func completeUpload(bucket name: String, key: String, uploadID: String, parts requested: [CompletedPart],
                               condition: WriteCondition? = nil,
                               composite: @escaping @Sendable ([PartRecord]) throws -> String) async throws -> PutOutcome {
        guard !requested.isEmpty else {
            throw S3Error(.malformedXML, "You must specify at least one part")
        }
        for (previous, next) in zip(requested, requested.dropFirst()) where next.number <= previous.number {
            throw S3Error(.invalidPartOrder)
        }
        let manifest = Manifest.prefix + BlobStore.randomName().dropLast(Manifest.prefix.count)
        let modified = now()
        let (outcome, orphans) = try await store.write { transaction -> (PutOutcome, [String]) in
            let bucket = try Self.requireBucket(transaction, name)
            guard let upload = try transaction.upload(uploadID), upload.bucketID == bucket.id,
                  upload.key.utf8.elementsEqual(key.utf8)
            else {
                // Completed already (the client's answer was lost): the same answer again.
                if let done = try transaction.completion(uploadID, bucketID: bucket.id, key: key),
                   let version = try transaction.version(bucketID: bucket.id, key: key, versionID: done.versionID),
                   version.etag == Self.multipartETag(of: requested.map(\.etag)) {
                    return (PutOutcome(versionID: done.versioned ? version.versionID : nil, etag: version.etag,
                                       version: version), [])
                }
                throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
            }
            if let condition { try condition.checkAtCommit(try Self.currentObject(bucket, key: key, in: transaction), key: key) }
            let stored = try transaction.parts(uploadID, after: 0, limit: 10_000)
            let byNumber = Dictionary(uniqueKeysWithValues: stored.map { ($0.number, $0) })
            var chosen: [PartRecord] = []
            for (index, wanted) in requested.enumerated() {
                let etag = wanted.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                guard let part = byNumber[wanted.number], part.etag == etag else {
                    throw S3Error(.invalidPart, details: [("UploadId", uploadID), ("PartNumber", String(wanted.number))])
                }
                if index < requested.count - 1, part.size < Self.minPartSize {
                    throw S3Error(.entityTooSmall, details: [("ProposedSize", String(part.size)),
                                                            ("MinSizeAllowed", String(Self.minPartSize))])
                }
                chosen.append(part)
            }
            let etag = Self.multipartETag(of: chosen.map(\.etag))
            let checksum = try composite(chosen)
            let segments: [BlobSegment] = chosen.compactMap { part in
                switch part.blob {
                case .file(let file): .file(file, size: part.size)
                case .inline(let bytes): bytes.isEmpty ? nil : .bytes(bytes)
                case .manifest, .none: nil
                }
            }
            try transaction.insertManifest(manifest, parts: segments)
            let (outcome, replaced) = try Self.write(ObjectVersion(
                key: key, versionID: "", isDeleteMarker: false, lastModified: modified,
                size: chosen.reduce(0) { $0 + $1.size }, etag: etag, headers: upload.headers, checksums: checksum,
                blob: .manifest(manifest)), to: bucket, in: transaction)
            // Parts left out of the object are reclaimed; the chosen ones now belong to the manifest.
            let partFiles = try transaction.deleteUpload(uploadID).flatMap { try Self.unreferencedFiles(.file($0), in: transaction) }
            try transaction.recordCompletion(uploadID, bucketID: bucket.id, key: key, versionID: outcome.version.versionID,
                                             versioned: outcome.versionID != nil, at: modified,
                                             forgetBefore: modified - Self.completionMemory)
            return (outcome, replaced + partFiles)
        }
        await removeBlobs(orphans)
        return outcome
    }

    /// The bytes of a version as segments in order: inline bytes, its blob file, or the parts its
    /// manifest lists. `NoSuchKey` when a manifest is gone (the version was deleted meanwhile).
    public func segments(of version: ObjectVersion) throws -> [BlobSegment] {
        switch version.blob {
        case .inline(let bytes): return [.bytes(bytes)]
        case .file(let name): return [.file(name, size: version.size)]
        case .none: return []
        case .manifest(let name):
            return try Self.whole(try store.readNow { try $0.manifest(name) }, of: version)
        }
    }

    /// `segments(of:)` for request handlers: a manifest is read without holding the thread.
    public func lookUpSegments(of version: ObjectVersion) async throws -> [BlobSegment] {
        guard case .manifest(let name) = version.blob else { return try segments(of: version) }
        return try Self.whole(try await store.asyncReadStatement { try $0.manifest(name) }, of: version)
    }

    /// A manifest's parts, or `NoSuchKey` when it is gone (the version was deleted meanwhile).
    private static func whole(_ parts: [BlobSegment], of version: ObjectVersion) throws -> [BlobSegment] {
        guard !parts.isEmpty || version.size == 0 else { throw S3Error.noSuchKey(version.key) }
        return parts
    }

    /// A multipart object's ETag: the MD5 of its parts' binary MD5s, then `-N`.
    static func multipartETag(of partETags: [String]) -> String {
        var md5s: [UInt8] = []
        for etag in partETags { md5s += bytes(hex: etag.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))) }
        return hexString(Insecure.MD5.hash(data: md5s)) + "-\(partETags.count)"
    }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            if let byte = UInt8(hex[index..<next], radix: 16) { result.append(byte) }
            index = next
        }
        return result
    }

    /// Drops uploads older than a week (abandoned), reclaiming their parts. Run at start.
    public func reclaimAbandonedUploads() async throws {
        let cutoff = now() - Self.abandonedUploadAge
        let files = try await store.write { transaction -> [String] in
            var files: [String] = []
            for uploadID in try transaction.uploads(startedBefore: cutoff) {
                files += try transaction.deleteUpload(uploadID).flatMap { try Self.unreferencedFiles(.file($0), in: transaction) }
            }
            return files
        }
        await removeBlobs(files)
    }
}
