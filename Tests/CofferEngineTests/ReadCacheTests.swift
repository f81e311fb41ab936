import CofferCore
import CofferEngine
@testable import CofferStore
import Foundation
import GRDB
import Testing

/// The GET read cache against writes from this store and from another store on the same data
/// folder (another process, as far as the cache can tell: they share only the files).
@Suite("Read cache")
struct ReadCacheTests {
    @Test("A write through any store on the folder is seen at once by every other store's reads")
    func writesAcrossStores() async throws {
        let writer = try Harness()
        let reader = try Harness(folder: writer.folder)
        _ = try await writer.engine.createBucket("cached", region: "us-east-1")
        try await writer.put("cached", "k", "one")
        #expect(try await reader.read("cached", "k") == "one")
        #expect(try await reader.read("cached", "k") == "one")  // now from the cache
        for round in 0..<20 {
            try await writer.put("cached", "k", "round \(round)")
            #expect(try await reader.read("cached", "k") == "round \(round)")
            #expect(try await writer.read("cached", "k") == "round \(round)")
        }
        try await writer.delete("cached", "k")
        await #expect(throws: S3Error.self) { try await reader.read("cached", "k") }
        // Bucket state is part of the cached answer: a new versioning status is seen too.
        _ = try await writer.engine.putVersioning("cached", .init(status: .enabled, mfaDelete: nil),
                                                  principal: Harness.root, mfa: nil)
        let latest = try await writer.put("cached", "k", "versioned")
        let read = try reader.engine.read(bucket: "cached", key: "k", versionID: nil)
        #expect(read.bucket.versioning.status == .enabled && read.version.versionID == latest.version.versionID)
    }

    @Test("While a write is under way (or its process died mid-write) nothing is served from the cache")
    func writingBit() async throws {
        let h = try Harness()
        guard !h.store.isCluster else { return }  // SQLite's shared words; a cluster's: ClusterTests
        _ = try await h.engine.createBucket("cached", region: "us-east-1")
        try await h.put("cached", "k", "before")
        #expect(try await h.read("cached", "k") == "before")
        // A change the store does not know of (a hand edit of the database): the cache still
        // answers from before. This is the documented limit, and shows the cache is in use. (The
        // cache is per thread: the read that fills it and the one that hits it run on one thread.)
        let outside = try DatabaseQueue(path: h.folder.appendingPathComponent("coffer.sqlite").path)
        func fillEditRead() throws -> String {
            _ = try h.engine.read(bucket: "cached", key: "k", versionID: nil)
            try outside.write { db in
                try db.execute(sql: "UPDATE versions SET blob_inline = ? WHERE key = 'k'", arguments: [Data("edited".utf8)])
            }
            return String(decoding: try h.bytes(of: h.engine.read(bucket: "cached", key: "k", versionID: nil).version),
                          as: UTF8.self)
        }
        #expect(try fillEditRead() == "before")
        // The same edit under a write generation that never ends (a writer killed mid-write):
        // the cache stands aside and every read goes to the database.
        let generation = try WriteGeneration(folder: h.folder)
        let objects = CacheDomain.objects.rawValue
        let begun = generation.begin([objects])
        try await outside.write { db in
            try db.execute(sql: "UPDATE versions SET blob_inline = ? WHERE key = 'k'", arguments: [Data("again!".utf8)])
        }
        #expect(try await h.read("cached", "k") == "again!")
        #expect(try await h.read("cached", "k") == "again!")
        // The next write through a store ends the dead writer's generation; caching resumes with
        // what is there now.
        _ = try await h.engine.createBucket("other", region: "us-east-1")
        #expect(generation.current(objects) & 1 == 0 && generation.current(objects) > begun[0].word)
        #expect(try await h.read("cached", "k") == "again!")
        try outside.close()
    }

    @Test("A store opening while another process writes does not let readers cache what that write replaces")
    func openingDuringAWrite() async throws {
        let h = try Harness()
        guard !h.store.isCluster else { return }  // SQLite's shared words; a cluster's: ClusterTests
        _ = try await h.engine.createBucket("cached", region: "us-east-1")
        try await h.put("cached", "k", "before")
        #expect(try await h.read("cached", "k") == "before")
        // Another process's write, held open for a while: its generation begun, its commit to come.
        let outside = try DatabaseQueue(path: h.folder.appendingPathComponent("coffer.sqlite").path)
        let generation = try WriteGeneration(folder: h.folder)
        let started = AsyncStream<Void>.makeStream()
        let writer = Task {
            let begun = try await outside.write { db -> [(index: Int, word: UInt64)] in
                let begun = generation.begin([CacheDomain.objects.rawValue])
                started.continuation.yield()
                Thread.sleep(forTimeInterval: 0.3)
                try db.execute(sql: "UPDATE versions SET blob_inline = ? WHERE key = 'k'", arguments: [Data("after!".utf8)])
                return begun
            }
            generation.end(begun)
        }
        for await _ in started.stream { break }
        // A store opening now (coffer admin, a second server) moves the generation too — only
        // once that write has committed, or a read here would cache "before" for good.
        let opened = try Store.forTesting(folder: h.folder)
        _ = try await h.read("cached", "k")
        try await writer.value
        #expect(try await h.read("cached", "k") == "after!")
        try opened.close()
        try outside.close()
    }

    @Test("Keys that are equal as Swift Strings but not as bytes are two objects, in the cache too")
    func canonicallyEquivalentKeys() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("cached", region: "us-east-1")
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed)  // Swift's view; S3's (and SQLite's) differs
        try await h.put("cached", composed, "composed")
        try await h.put("cached", decomposed, "decomposed")
        for _ in 0..<2 {
            #expect(try await h.read("cached", composed) == "composed")
            #expect(try await h.read("cached", decomposed) == "decomposed")
        }
    }

    @Test("A write moves the words of what it changed only: another key's PUT and an audit row leave the rest warm")
    func targetedWords() async throws {
        let h = try Harness()
        guard !h.store.isCluster else { return }  // SQLite's shared words; a cluster's: ClusterTests
        _ = try await h.engine.createBucket("warm", region: "us-east-1")
        try await h.put("warm", "a", "one")
        let generation = try WriteGeneration(folder: h.folder)
        let slotA = WriteGeneration.keySlot("a".utf8)
        #expect(slotA != WriteGeneration.keySlot("b".utf8))
        func words() -> [UInt64] { CacheDomain.allCases.map { generation.current($0.rawValue) } + [generation.current(slotA)] }
        let before = words()
        try await h.put("warm", "b", "two")
        try await h.engine.store.write { try $0.appendAudit(AuditRecord(time: 1, event: "Test", outcome: .denied, principal: "p")) }
        #expect(words() == before)
        try await h.put("warm", "a", "three")
        var after = words()
        #expect(Array(after.prefix(3)) == Array(before.prefix(3)) && after[3] > before[3])
        try await h.versioning("warm", .enabled)  // the bucket's state is in every lookup of it
        let versioned = words()
        #expect(versioned[0] > after[0] && versioned[2] > after[2] && versioned[1] == after[1])
        after = versioned
        try await h.engine.store.write { try $0.insertUser(UserRecord(name: "u", userID: "AIDAWORDSTEST", path: "/", created: 1)) }
        let iam = words()
        #expect(iam[1] > after[1] && iam[0] == after[0] && iam[2] == after[2] && iam[3] == after[3])
        // A table no map names moves every word (nothing is missed).
        try h.engine.store.writeNow { try $0.db.execute(sql: "CREATE TABLE IF NOT EXISTS scratch(x)"); try $0.db.execute(sql: "INSERT INTO scratch VALUES (1)") }
        #expect(zip(words(), iam).allSatisfy { $0 > $1 })
    }

    @Test("A cache keeps its entries through writes that cannot change them, and evicts by recency")
    func warmAndRecent() throws {
        let h = try Harness()
        guard !h.store.isCluster else { return }  // a cluster node's words also move on notifications
        let cache: ThreadLocalGenerationCache<String, Int> = h.engine.store.makeThreadLocalCache(maxEntries: 4, domain: .access)
        var reads: [String] = []
        // All on this thread (the cache is per thread): no await between the reads.
        func value(_ key: String) -> Int {
            cache.value(for: key) {
                reads.append(key)
                return key.count
            }
        }
        _ = value("k1")
        try h.engine.store.writeNow { try $0.appendAudit(AuditRecord(time: 1, event: "Test", outcome: .denied, principal: "p")) }
        _ = value("k1")
        #expect(reads == ["k1"])
        try h.engine.store.writeNow { try $0.insertUser(UserRecord(name: "v", userID: "AIDAWARMTEST", path: "/", created: 1)) }
        _ = value("k1")
        #expect(reads == ["k1", "k1"])
        // Two generations of two: k1, k2 fill the young one; k3 ages them; a hit on k1 keeps it
        // young; k4 ages again, and k2 — not used since — is the one dropped.
        reads = []
        _ = value("k2")
        _ = value("k3")
        _ = value("k1")
        _ = value("k4")
        _ = value("k1")
        _ = value("k2")
        #expect(reads == ["k2", "k3", "k4", "k2"])
    }
}
