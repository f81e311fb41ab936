import CofferCore
import CofferEngine
import Testing

@Suite("Listings")
struct ListingTests {
    /// Keys with several versions and markers, including awkward characters.
    static let keys = ["a", "a b", "a%2F", "a+b", "a//b", "photos/2006/x.jpg", "photos/2006/y.jpg", "photos/a.jpg",
                       "photos/b.jpg", "zé", "ü/1", "ü/2"]

    func populated() async throws -> Harness {
        let h = try Harness()
        _ = try await h.engine.createBucket("list", region: "us-east-1")
        try await h.put("list", "a", "null version")
        try await h.versioning("list", .enabled)
        for (index, key) in Self.keys.enumerated() {
            for round in 0..<(1 + index % 3) { try await h.put("list", key, "\(key) \(round)") }
            if index % 4 == 1 { try await h.delete("list", key) }
        }
        return h
    }

    @Test("ListObjectVersions paginated with every max-keys from 1 to 7: no gap, no repeat, one IsLatest per key")
    func versionPagination() async throws {
        let h = try await populated()
        let all = try await h.engine.listObjectVersions(bucket: "list", ListingQuery()).entries
        #expect(all.count > Self.keys.count * 2)
        #expect(Set(all.map(\.key)) == Set(Self.keys))
        for maxKeys in 1...7 {
            var collected: [ObjectVersion] = []
            var query = ListingQuery(maxKeys: maxKeys)
            var pages = 0
            while true {
                let page = try await h.engine.listObjectVersions(bucket: "list", query)
                collected += page.entries
                #expect(page.entries.count <= maxKeys)
                pages += 1
                guard page.isTruncated else { break }
                query.afterKey = page.nextKey
                query.afterVersionID = page.nextVersionID
            }
            #expect(collected.map(\.versionID) == all.map(\.versionID), "max-keys \(maxKeys)")
            #expect(pages == (all.count + maxKeys - 1) / maxKeys)
        }
        // Keys ascending by UTF-8 bytes, newest first within a key, exactly one IsLatest per key.
        let keyOrder = all.map(\.key).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        #expect(keyOrder == Self.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for key in Self.keys {
            let entries = all.filter { $0.key == key }
            #expect(entries.filter(\.isLatest).count == 1)
            #expect(entries.first?.isLatest == true)
            #expect(entries.map(\.sequence) == entries.map(\.sequence).sorted(by: >))
        }
    }

    @Test("A version-id-marker whose version was deleted between pages resumes by time: no gap, no repeat")
    func vanishedVersionMarker() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("gone", region: "us-east-1")
        try await h.put("gone", "k", "null version")  // before versioning: the oldest entry
        try await h.versioning("gone", .enabled)
        var ids: [String] = []
        for index in 1...4 { ids.append(try await h.put("gone", "k", "v\(index)").version.versionID) }
        try await h.put("gone", "z", "other key")
        let newestFirst = Array(ids.reversed()) + ["null"]

        // Page 1 ends on v3; v3 is then deleted for good; page 2 goes on with v2.
        var query = ListingQuery(maxKeys: 2)
        let first = try await h.engine.listObjectVersions(bucket: "gone", query)
        #expect(first.entries.map(\.versionID) == Array(newestFirst.prefix(2)))
        try await h.delete("gone", "k", versionID: first.nextVersionID)
        query.afterKey = first.nextKey
        query.afterVersionID = first.nextVersionID
        query.maxKeys = 10
        let rest = try await h.engine.listObjectVersions(bucket: "gone", query)
        #expect(rest.entries.map(\.versionID) == Array(newestFirst.dropFirst(2)) + [rest.entries.last!.versionID])
        #expect(rest.entries.last?.key == "z")

        // The newest entry as the marker, deleted: the key's remaining entries all follow.
        let top = try await h.engine.listObjectVersions(bucket: "gone", ListingQuery(maxKeys: 1))
        #expect(top.entries.map(\.versionID) == [ids[3]])
        try await h.delete("gone", "k", versionID: ids[3])
        let after = try await h.engine.listObjectVersions(
            bucket: "gone", ListingQuery(maxKeys: 10, afterKey: "k", afterVersionID: ids[3]))
        #expect(after.entries.filter { $0.key == "k" }.map(\.versionID) == [ids[1], ids[0], "null"])
    }

    @Test("Delimiter roll-up into common prefixes, counted by max-keys, resumable from a prefix")
    func delimiter() async throws {
        let h = try await populated()
        let page = try await h.engine.listObjects(bucket: "list", ListingQuery(delimiter: "/"))
        #expect(page.commonPrefixes == ["a/", "photos/", "ü/"])  // "a//b" rolls up at its first "/"
        // Keys whose current version is a delete marker are not listed.
        let deleted = Set(Self.keys.enumerated().filter { $0.offset % 4 == 1 }.map(\.element))
        #expect(page.entries.map(\.key) == ["a", "a%2F", "a+b", "zé"].filter { !deleted.contains($0) })

        let photos = try await h.engine.listObjects(bucket: "list", ListingQuery(prefix: "photos/", delimiter: "/"))
        #expect(photos.commonPrefixes == ["photos/2006/"])
        #expect(photos.entries.map(\.key) == ["photos/a.jpg", "photos/b.jpg"].filter { !deleted.contains($0) })

        // One at a time: entries and prefixes interleaved in key order, each exactly once.
        var seen: [String] = []
        var query = ListingQuery(delimiter: "/", maxKeys: 1)
        while true {
            let page = try await h.engine.listObjects(bucket: "list", query)
            #expect(page.entries.count + page.commonPrefixes.count == 1)
            seen += page.entries.map(\.key) + page.commonPrefixes
            guard page.isTruncated else { break }
            query.afterKey = page.nextKey
        }
        let full = try await h.engine.listObjects(bucket: "list", ListingQuery(delimiter: "/"))
        #expect(seen == (full.entries.map(\.key) + full.commonPrefixes).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test("Prefix and marker bounds; a marker before the prefix starts at the prefix")
    func prefixAndMarker() async throws {
        let h = try await populated()
        let page = try await h.engine.listObjectVersions(bucket: "list", ListingQuery(prefix: "ü/"))
        #expect(Set(page.entries.map(\.key)) == ["ü/1", "ü/2"])
        let afterMarker = try await h.engine.listObjects(bucket: "list", ListingQuery(prefix: "photos/", afterKey: "a"))
        #expect(afterMarker.entries.first?.key.hasPrefix("photos/") == true)
        let afterLast = try await h.engine.listObjects(bucket: "list", ListingQuery(afterKey: "zzzz"))
        #expect(afterLast.entries.filter { !$0.key.hasPrefix("ü") }.isEmpty)
        let none = try await h.engine.listObjects(bucket: "list", ListingQuery(prefix: "nothing"))
        #expect(none.entries.isEmpty && !none.isTruncated)
        #expect(await h.s3Error {
            _ = try await h.engine.listObjectVersions(bucket: "list", ListingQuery(afterKey: "a", afterVersionID: "x y"))
        } == .invalidVersionID)
        let zero = try await h.engine.listObjects(bucket: "list", ListingQuery(maxKeys: 0))
        #expect(zero.entries.isEmpty && !zero.isTruncated)
    }

    @Test("DeleteObjects: mixed entries, markers and versions, idempotent")
    func deleteObjects() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("multi", region: "us-east-1")
        try await h.versioning("multi", .enabled)
        let v1 = try #require(try await h.put("multi", "a", "1").versionID)
        try await h.put("multi", "b", "1")
        let marker = try #require(try await h.delete("multi", "c").versionID)
        let entries = [DeleteEntry(key: "a", versionID: v1), DeleteEntry(key: "b"),
                       DeleteEntry(key: "c", versionID: marker), DeleteEntry(key: "d", versionID: "bad")]
        let results = try await h.engine.deleteObjects(bucket: "multi", entries: entries, principal: Harness.root,
                                                       mfa: nil)
        #expect(results.count == 4)
        #expect(results[0] == .deleted(entries[0], DeleteOutcome(versionID: v1, deleteMarker: false, removedByVersionID: true)))
        guard case .deleted(_, let created) = results[1] else {
            Issue.record("b should be deleted")
            return
        }
        #expect(created.deleteMarker && !created.removedByVersionID && created.versionID != nil)
        #expect(results[2] == .deleted(entries[2], DeleteOutcome(versionID: marker, deleteMarker: true, removedByVersionID: true)))
        #expect(results[3] == .failed(entries[3], code: "NoSuchVersion", message: "The specified version does not exist."))
        // Again: the removed versions are already gone — still reported deleted.
        let again = try await h.engine.deleteObjects(bucket: "multi", entries: [entries[0], entries[2]],
                                                     principal: Harness.root, mfa: nil)
        #expect(again.allSatisfy { if case .deleted = $0 { true } else { false } })
        #expect(try await h.versions("multi").map(\.0) == ["b", "b"])
    }
}

@Suite("Query plans")
struct QueryPlanTests {
    @Test("Version-stack writes and reads use indexes, never a scan of the key's versions")
    func plans() throws {
        let h = try Harness()
        guard !h.store.isCluster else { return }  // SQLite's planner: PostgreSQL's plans depend on its statistics
        let plans = try h.store.queryPlans([
            "UPDATE versions SET is_latest = 0 WHERE bucket_id = 1 AND key = 'k' AND is_latest = 1",
            "SELECT * FROM versions WHERE bucket_id = 1 AND key = 'k' ORDER BY seq DESC LIMIT 1",
            "SELECT * FROM versions WHERE bucket_id = 1 AND key = 'k' AND version_id = 'v'",
            "SELECT * FROM versions WHERE bucket_id = 1 AND is_latest = 1 AND is_marker = 0 AND key > 'a' ORDER BY key LIMIT 5",
            "SELECT * FROM versions WHERE bucket_id = 1 AND key > 'a' ORDER BY key, seq DESC LIMIT 5",
            // The three lookups of a blob reference count.
            "SELECT COUNT(*) FROM versions WHERE blob_file = 'f'",
            "SELECT COUNT(*) FROM parts WHERE blob_file = 'f'",
            "SELECT COUNT(*) FROM manifest_parts WHERE blob_file = 'f'",
        ])
        #expect(plans[0].contains("versions_latest"))
        for plan in plans {
            #expect(plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"), "\(plan)")
            #expect(!plan.contains("USE TEMP B-TREE"), "\(plan)")
        }
    }
}
