import CofferCore
import CofferEngine
import Foundation
import Testing

@Suite("Version stacks in all three bucket states")
struct VersioningTests {
    @Test("Unversioned: PUT overwrites the null version; DELETE removes it; deletes are idempotent")
    func unversioned() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        let first = try await h.put("bkt", "k", "one")
        #expect(first.versionID == nil)
        try await h.put("bkt", "k", "two")
        #expect(try await h.read("bkt", "k") == "two")
        #expect(try await h.read("bkt", "k", versionID: "null") == "two")
        #expect(try await h.versions("bkt").map(\.1) == ["null"])
        // Only `null` is a version id on a never-versioned bucket.
        #expect(await h.s3Error { _ = try await h.read("bkt", "k", versionID: String(repeating: "A", count: 32)) }
            == .invalidVersionID)
        let outcome = try await h.delete("bkt", "k")
        #expect(outcome.deleteMarker == false && outcome.versionID == nil)
        #expect(await h.s3Error { _ = try await h.read("bkt", "k") }?.code == .noSuchKey)
        try await h.delete("bkt", "k")  // again: still fine
        #expect(try await h.versions("bkt").isEmpty)
    }

    @Test("Enabled: every PUT is a version; DELETE stacks markers; a marker's id gives 405; removing it restores")
    func enabled() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        try await h.put("bkt", "k", "before")  // the null version from before versioning
        try await h.versioning("bkt", .enabled)
        let v1 = try #require(try await h.put("bkt", "k", "v1").versionID)
        let v2 = try #require(try await h.put("bkt", "k", "v2").versionID)
        #expect(v1 != v2 && v1 < v2 && VersionID.isWellFormed(v1) && v1.count == 32)
        // An id carries the time it was made at (the engine's clock, in milliseconds).
        let before = UInt64(Date().timeIntervalSince1970 * 1000) * 1000
        _ = try await h.engine.createBucket("timed", region: "us-east-1")
        try await h.versioning("timed", .enabled)
        let v3 = try #require(try await h.put("timed", "k", "v3").versionID)
        let after = UInt64(Date().timeIntervalSince1970 * 1000 + 1) * 1000
        #expect((before...after).contains(try #require(VersionID.micros(of: v3))))
        #expect(VersionID.micros(of: "null") == nil && VersionID.micros(of: "not an id") == nil)
        #expect(try await h.read("bkt", "k") == "v2")
        #expect(try await h.read("bkt", "k", versionID: v1) == "v1")
        #expect(try await h.read("bkt", "k", versionID: "null") == "before")

        let marker1 = try await h.delete("bkt", "k")
        let marker2 = try await h.delete("bkt", "k")
        #expect(marker1.deleteMarker && marker2.deleteMarker && marker1.versionID != marker2.versionID)
        let missing = await h.s3Error { _ = try await h.read("bkt", "k") }
        #expect(missing?.code == .noSuchKey)
        #expect(missing?.deleteMarker == DeleteMarkerFacts(versionID: marker2.versionID))
        let onMarker = await h.s3Error { _ = try await h.read("bkt", "k", versionID: marker2.versionID) }
        #expect(onMarker?.code == .methodNotAllowed)
        #expect(onMarker?.deleteMarker?.versionID == marker2.versionID && onMarker?.deleteMarker?.lastModified != nil)
        #expect(await h.s3Error { _ = try await h.read("bkt", "k", versionID: "nope") } == .invalidVersionID)
        let unknown = String(repeating: "0", count: 32)
        #expect(await h.s3Error { _ = try await h.read("bkt", "k", versionID: unknown) }?.code == .noSuchVersion)

        // Exactly one IsLatest per key; newest first.
        let listed = try await h.versions("bkt")
        #expect(listed.map(\.1) == [marker2.versionID!, marker1.versionID!, v2, v1, "null"])
        #expect(listed.map(\.3) == [true, false, false, false, false])

        // Removing both markers by id restores v2.
        let removed = try await h.delete("bkt", "k", versionID: marker2.versionID)
        #expect(removed == DeleteOutcome(versionID: marker2.versionID, deleteMarker: true, removedByVersionID: true))
        try await h.delete("bkt", "k", versionID: marker1.versionID)
        #expect(try await h.read("bkt", "k") == "v2")
        // Permanently deleting the current version makes the previous one current.
        let gone = try await h.delete("bkt", "k", versionID: v2)
        #expect(gone.deleteMarker == false && gone.versionID == v2)
        #expect(try await h.read("bkt", "k") == "v1")
        #expect(try await h.versions("bkt").map(\.3) == [true, false])
        // An absent, well-formed id deletes nothing and succeeds.
        #expect(try await h.delete("bkt", "k", versionID: unknown).versionID == unknown)
        #expect(try await h.delete("bkt", "other", versionID: v1).versionID == v1)
        #expect(await h.s3Error { try await h.delete("bkt", "k", versionID: "bad id") } == .invalidVersionID)
    }

    @Test("Suspended: PUT replaces the null version in place as latest; DELETE replaces it with a null marker")
    func suspended() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        try await h.versioning("bkt", .enabled)
        let v1 = try #require(try await h.put("bkt", "k", "v1").versionID)
        try await h.versioning("bkt", .suspended)
        let put = try await h.put("bkt", "k", "s1")
        #expect(put.versionID == nil)
        try await h.put("bkt", "k", "s2")
        #expect(try await h.versions("bkt").map(\.1) == ["null", v1])
        #expect(try await h.read("bkt", "k") == "s2")
        let deleted = try await h.delete("bkt", "k")
        #expect(deleted == DeleteOutcome(versionID: "null", deleteMarker: true, removedByVersionID: false))
        let listed = try await h.versions("bkt")
        #expect(listed.map(\.1) == ["null", v1] && listed[0].2)  // the null marker replaced the null object
        try await h.delete("bkt", "k")
        #expect(try await h.versions("bkt").count == 2)
        // Back to Enabled: the null marker stays addressable.
        try await h.versioning("bkt", .enabled)
        try await h.delete("bkt", "k", versionID: "null")
        #expect(try await h.read("bkt", "k") == "v1")

        // A null version that is no longer latest (a version was put over it) is removed, and the
        // new null version goes on top, above the newer version.
        try await h.versioning("bkt", .suspended)
        try await h.put("bkt", "k", "s3")  // no null version now: v1 is demoted
        #expect(try await h.versions("bkt").map(\.3) == [true, false])
        try await h.versioning("bkt", .enabled)
        let v2 = try #require(try await h.put("bkt", "k", "v2").versionID)
        try await h.versioning("bkt", .suspended)
        try await h.put("bkt", "k", "s4")
        var stack = try await h.versions("bkt")
        #expect(stack.map(\.1) == ["null", v2, v1] && stack.map(\.3) == [true, false, false])
        #expect(try await h.read("bkt", "k") == "s4")
        #expect(try await h.read("bkt", "k", versionID: v2) == "v2")
        // The same for a marker: a null version below a newer one gives way to a null marker on top.
        try await h.versioning("bkt", .enabled)
        let v3 = try #require(try await h.put("bkt", "k", "v3").versionID)
        try await h.versioning("bkt", .suspended)
        try await h.delete("bkt", "k")
        stack = try await h.versions("bkt")
        #expect(stack.map(\.1) == ["null", v3, v2, v1] && stack.map(\.2) == [true, false, false, false])
        #expect(stack.map(\.3) == [true, false, false, false])
        // And a PUT over that latest null marker makes it an object again, in its place.
        try await h.put("bkt", "k", "s5")
        stack = try await h.versions("bkt")
        #expect(stack.map(\.1) == ["null", v3, v2, v1] && stack.map(\.2) == [false, false, false, false])
        #expect(try await h.read("bkt", "k") == "s5")
    }

    @Test("A null version overwritten or turned into a marker gives up its blob file; one shared by a copy stays")
    func replacedBlobFiles() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        try await h.versioning("bkt", .suspended)
        func file(_ key: String) async throws -> String {
            let version = try await h.engine.objectForRead(bucket: "bkt", key: key, versionID: nil)
            guard case .file(let name) = version.blob else { throw CancellationError() }
            return name
        }
        try await h.put("bkt", "k", "first body", inlineLimit: 0)
        let first = try await file("k")
        try await h.put("bkt", "k", "second body", inlineLimit: 0)
        let second = try await file("k")
        #expect(first != second)
        #expect(!FileManager.default.fileExists(atPath: h.store.blobs.path(of: first)))
        #expect(try await h.read("bkt", "k") == "second body")
        // A copy onto itself (REPLACE) shares the file it replaces: the file stays.
        _ = try await h.engine.copyObject(from: ("bkt", "k", nil), to: ("bkt", "k"), replacing: StoredHeaders())
        #expect(try await file("k") == second)
        #expect(FileManager.default.fileExists(atPath: h.store.blobs.path(of: second)))
        #expect(try await h.read("bkt", "k") == "second body")
        // The delete marker that takes the null version's place frees its file.
        try await h.delete("bkt", "k")
        #expect(!FileManager.default.fileExists(atPath: h.store.blobs.path(of: second)))
        #expect(try await h.versions("bkt").map(\.2) == [true])
    }

    @Test("Concurrent overwrites of one key in a bucket never versioned leave one null version")
    func concurrentOverwrites() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        let bodies = (0..<24).map { "body \($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, body) in bodies.enumerated() {
                group.addTask { try await h.put("bkt", "k", body, inlineLimit: index % 3 == 0 ? 0 : 65536) }
            }
            try await group.waitForAll()
        }
        let listed = try await h.versions("bkt")
        #expect(listed.map(\.1) == ["null"] && listed.map(\.3) == [true])
        #expect(bodies.contains(try await h.read("bkt", "k")))
        // No blob file outlives the overwrites but the one the surviving version names.
        let version = try await h.engine.objectForRead(bucket: "bkt", key: "k", versionID: nil)
        let kept: Set<String> = if case .file(let name) = version.blob { [name] } else { [] }
        #expect(Set(try h.store.blobs.committedNames()) == kept)
    }

    @Test("Concurrent PUTs to one key of a versioned bucket all become versions")
    func concurrentPuts() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        try await h.versioning("bkt", .enabled)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<40 {
                group.addTask { try await h.put("bkt", "k", "body \(index)", inlineLimit: index % 2 == 0 ? 0 : 65536).versionID! }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(ids).count == 40)
        let listed = try await h.versions("bkt")
        #expect(listed.count == 40)
        #expect(listed.filter(\.3).count == 1)
    }

    @Test("Large bodies live in blob files that are fsync'd and removed with their version; orphans are swept")
    func blobs() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("bkt", region: "us-east-1")
        let big = String(repeating: "x", count: 200_000)
        try await h.put("bkt", "k", big)
        let version = try await h.engine.objectForRead(bucket: "bkt", key: "k", versionID: nil)
        guard case .file(let name) = version.blob else {
            Issue.record("expected a blob file")
            return
        }
        #expect(FileManager.default.fileExists(atPath: h.store.blobs.path(of: name)))
        #expect(try await h.read("bkt", "k") == big)
        try await h.put("bkt", "k", "small now")  // unversioned: replaces, the old file goes
        #expect(!FileManager.default.fileExists(atPath: h.store.blobs.path(of: name)))

        // A file left by a crash between rename and commit, and a temporary file: both swept on open.
        let orphanFolder = h.store.blobs.blobsFolder.appendingPathComponent("ab")
        try FileManager.default.createDirectory(at: orphanFolder, withIntermediateDirectories: true)
        let orphan = orphanFolder.appendingPathComponent("ab0000").path
        FileManager.default.createFile(atPath: orphan, contents: Data("partial".utf8))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-1200)], ofItemAtPath: orphan)
        // A fresh unreferenced blob may be another live process's, renamed but not yet committed.
        let fresh = orphanFolder.appendingPathComponent("ab0001").path
        FileManager.default.createFile(atPath: fresh, contents: Data("just renamed".utf8))
        // The temporary folder of a process that died mid-upload (its .lock is held by no one).
        let deadFolder = h.store.blobs.temporaryFolder.deletingLastPathComponent().appendingPathComponent("4242-dead")
        try FileManager.default.createDirectory(at: deadFolder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: deadFolder.appendingPathComponent(".lock").path, contents: Data())
        let temporary = deadFolder.appendingPathComponent("upload").path
        FileManager.default.createFile(atPath: temporary, contents: Data("partial".utf8))
        // A live process's temporary folder (this store's own) survives another process's start.
        let live = h.store.blobs.temporaryFolder.appendingPathComponent("in-flight").path
        FileManager.default.createFile(atPath: live, contents: Data("busy".utf8))
        try h.store.close()
        let reopened = try Harness(folder: h.folder)
        // A cluster's shared folder keeps an unreferenced blob for an hour and a temporary folder
        // for a day (nodes on other machines cannot be seen to be alive).
        #expect(FileManager.default.fileExists(atPath: orphan) == h.store.isCluster)
        #expect(FileManager.default.fileExists(atPath: temporary) == h.store.isCluster)
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: fresh))
        #expect(try await reopened.read("bkt", "k") == "small now")
    }
}
