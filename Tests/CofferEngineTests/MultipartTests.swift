import CofferCore
import CofferEngine
import CofferStore
import Crypto
import Foundation
import Testing

@Suite("Multipart manifests")
struct MultipartTests {
    /// Every blob file currently on disk.
    static func blobFiles(_ h: Harness) -> Set<String> {
        let enumerator = FileManager.default.enumerator(atPath: h.store.blobs.blobsFolder.path)
        var names: Set<String> = []
        while let path = enumerator?.nextObject() as? String {
            if path.contains("/") { names.insert((path as NSString).lastPathComponent) }
        }
        return names
    }

    /// `count` bytes of `seed`, with a marker byte at each end (so a misplaced part shows).
    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        var bytes = [UInt8](repeating: seed, count: count)
        bytes[0] = 0xF0 | seed
        bytes[count - 1] = 0xE0 | seed
        return bytes
    }

    static func digest(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).description }

    /// Uploads `parts` as parts 1…n of a new upload and completes it.
    static func multipart(_ h: Harness, _ bucket: String, _ key: String, parts: [[UInt8]]) async throws -> PutOutcome {
        let uploadID = try await h.engine.createUpload(bucket: bucket, key: key, headers: StoredHeaders(), checksumAlgorithm: nil)
        var completed: [CompletedPart] = []
        for (index, bytes) in parts.enumerated() {
            let part = try h.upload(bytes)
            try await h.engine.uploadPart(bucket: bucket, key: key, uploadID: uploadID, number: index + 1, part)
            completed.append(CompletedPart(number: index + 1, etag: part.etag))
        }
        return try await h.engine.completeUpload(bucket: bucket, key: key, uploadID: uploadID, parts: completed,
                                                 composite: { _ in "" })
    }

    @Test("Completing lists the parts' blobs instead of writing the object again; copies share them; the last reference reclaims them")
    func lifecycle() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        try await h.versioning("bkt", .enabled)
        let first = Self.pattern(Int(Engine.minPartSize), seed: 1), second = Self.pattern(Int(Engine.minPartSize), seed: 2)
        let last = Self.pattern(1000, seed: 3)  // small enough to be stored inline
        let before = Self.blobFiles(h)
        let outcome = try await Self.multipart(h, "bkt", "big", parts: [first, second, last])
        #expect(outcome.version.size == Int64(first.count + second.count + last.count))
        #expect(outcome.etag.hasSuffix("-3"))
        guard case .manifest(let manifest) = outcome.version.blob else {
            Issue.record("expected a manifest, got \(outcome.version.blob)")
            return
        }
        // Exactly the two part files are on disk: nothing was concatenated.
        let partFiles = Self.blobFiles(h).subtracting(before)
        #expect(partFiles.count == 2)
        let stored = try await h.engine.objectForRead(bucket: "bkt", key: "big", versionID: nil)
        let whole = Self.digest(first + second + last)
        #expect(Self.digest(try h.bytes(of: stored)) == whole)

        // A range across the first boundary and into the inline tail.
        let segments = try h.engine.segments(of: stored)
        let boundary = Int64(first.count)
        let slices = BlobSegment.slices(segments, range: (boundary - 10)...(boundary + 9))
        #expect(slices.map(\.1) == [(boundary - 10)..<boundary, 0..<10])
        let tail = BlobSegment.slices(segments, range: (stored.size - 5)...(stored.size - 1))
        #expect(tail.count == 1 && tail[0].0 == .bytes(last) && tail[0].1 == Int64(last.count - 5)..<Int64(last.count))

        // A copy shares the manifest; deleting the original version keeps the parts for the copy.
        _ = try await h.engine.copyObject(from: ("bkt", "big", nil), to: ("bkt", "copy"), replacing: nil)
        #expect(Self.blobFiles(h).subtracting(before) == partFiles)
        try await h.delete("bkt", "big", versionID: outcome.version.versionID)
        #expect(Self.blobFiles(h).subtracting(before) == partFiles)
        let copied = try await h.engine.objectForRead(bucket: "bkt", key: "copy", versionID: nil)
        #expect(Self.digest(try h.bytes(of: copied)) == whole)

        // Reopening the store sweeps orphans but keeps every blob a manifest lists.
        let reopened = try Harness(folder: h.folder)
        #expect(Self.blobFiles(reopened).subtracting(before) == partFiles)
        let copy = try await reopened.engine.objectForRead(bucket: "bkt", key: "copy", versionID: nil)
        #expect(Self.digest(try reopened.bytes(of: copy)) == whole)

        // The last version referencing the manifest takes the part files with it.
        try await h.delete("bkt", "copy", versionID: copy.versionID)
        #expect(Self.blobFiles(h).subtracting(before).isEmpty)
        #expect(try h.store.readNow { try $0.manifest(manifest) }.isEmpty)
    }

    @Test("A part left out of the completion is reclaimed; replacing the object in an unversioned bucket frees its parts")
    func leftOutParts() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("plain", region: "us-east-1")
        let uploadID = try await h.engine.createUpload(bucket: "plain", key: "k", headers: StoredHeaders(), checksumAlgorithm: nil)
        let kept = try h.upload(Self.pattern(200_000, seed: 4)), dropped = try h.upload(Self.pattern(200_000, seed: 5))
        try await h.engine.uploadPart(bucket: "plain", key: "k", uploadID: uploadID, number: 1, kept)
        try await h.engine.uploadPart(bucket: "plain", key: "k", uploadID: uploadID, number: 2, dropped)
        #expect(Self.blobFiles(h).count == 2)
        let outcome = try await h.engine.completeUpload(bucket: "plain", key: "k", uploadID: uploadID,
                                                        parts: [CompletedPart(number: 1, etag: kept.etag)],
                                                        composite: { _ in "" })
        #expect(Self.blobFiles(h).count == 1)
        #expect(try h.bytes(of: outcome.version) == Self.pattern(200_000, seed: 4))
        // Completed already: the same request gets the same answer (a client whose answer was lost
        // retries), and makes nothing new; other parts are NoSuchUpload.
        let again = try await h.engine.completeUpload(bucket: "plain", key: "k", uploadID: uploadID,
                                                      parts: [CompletedPart(number: 1, etag: kept.etag)],
                                                      composite: { _ in "" })
        // The same answer; the version's place in its key's stack (`sequence`) is the store's, and
        // a write on PostgreSQL does not read it back.
        var written = outcome.version, replayed = again.version
        written.sequence = 0
        replayed.sequence = 0
        #expect(again.versionID == outcome.versionID && again.etag == outcome.etag && replayed == written)
        #expect(Self.blobFiles(h).count == 1)
        await #expect(throws: S3Error(.noSuchUpload, details: [("UploadId", uploadID)])) {
            try await h.engine.completeUpload(bucket: "plain", key: "k", uploadID: uploadID,
                                              parts: [CompletedPart(number: 2, etag: dropped.etag)], composite: { _ in "" })
        }
        try await h.put("plain", "k", "replaced")
        #expect(Self.blobFiles(h).isEmpty)
        #expect(try await h.read("plain", "k") == "replaced")
    }
}
