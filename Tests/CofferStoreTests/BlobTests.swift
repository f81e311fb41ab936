import CofferCore
@testable import CofferStore
import Foundation
import Testing

/// Where a cluster's bytes go (`--blobs`), and reading committed blobs through `BlobReader`, on real
/// files. (RADOS itself is exercised end to end against a real Ceph cluster: test_cluster.py.)
@Suite("Blobs")
struct BlobTests {
    @Test("--blobs: rados:POOL with its settings, or a folder; anything else is a clear error")
    func targets() throws {
        #expect(try ClusterBlobs("/mnt/shared") == .folder(URL(fileURLWithPath: "/mnt/shared", isDirectory: true)))
        guard case .rados(let plain) = try ClusterBlobs("rados:coffer") else { Issue.record("not RADOS"); return }
        #expect(plain.pool == "coffer" && plain.configFile == nil && plain.clientID == nil && plain.namespace == nil)
        let full = try RadosTarget(url: "rados:data?conf=/etc/ceph/a.conf&id=coffer&namespace=tenant-1")
        #expect(full.pool == "data" && full.configFile == "/etc/ceph/a.conf" && full.clientID == "coffer")
        #expect(full.namespace == "tenant-1")
        #expect(full.description == "rados:data?conf=/etc/ceph/a.conf&id=coffer&namespace=tenant-1")
        for bad in ["rados:", "rados:?conf=/x", "rados:p?color=red", "rados:p?conf", "rados:p\0q"] {
            #expect(throws: RadosError.self) { try RadosTarget(url: bad) }
        }
    }

    @Test("A reader reads any range of a committed blob, stays readable after the blob is removed, and never reads past its end")
    func reader() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let blobs = try BlobStore(folder: folder)
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let file = try blobs.makeTemporaryFile()
        try bytes.withUnsafeBytes { try file.write($0) }
        let name = try await blobs.commit(file)
        #expect(try blobs.size(of: name) == 300_000)
        #expect(try blobs.committedNames() == [name])

        let reader = try #require(try blobs.reader(name, size: 300_000))
        #expect(try reader.read(at: 0, count: 10) == Array(bytes[0..<10]))
        #expect(try reader.read(at: 123_456, count: 100_000) == Array(bytes[123_456..<223_456]))
        #expect(try reader.read(at: 299_990, count: 1 << 20) == Array(bytes[299_990...]))
        #expect(try reader.read(at: 300_000, count: 10).isEmpty)
        #expect(try reader.read(at: -5, count: 10).isEmpty)
        blobs.remove(name)
        #expect(try blobs.reader(name, size: 300_000) == nil)
        #expect(try blobs.size(of: name) == nil)
        #expect(try reader.read(at: 1000, count: 5) == Array(bytes[1000..<1005]))

        // A blob shorter than its row says (damage) throws rather than returning short bytes.
        let short = try blobs.makeTemporaryFile()
        try bytes[0..<100].withUnsafeBytes { try short.write($0) }
        let shortName = try await blobs.commit(short)
        let damaged = try #require(try blobs.reader(shortName, size: 200))
        #expect(throws: BlobError.self) { try damaged.read(at: 50, count: 100) }
    }

    @Test("A body bound for RADOS stays in memory up to its limit and while the budget lasts; past either it is a file, and the budget comes back")
    func memoryStaging() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let blobs = try BlobStore(folder: folder)
        let limit = BlobStager.memoryLimit
        let baseline = BlobStager.memoryInUse.load(ordering: .relaxed)
        func inUse() -> Int { BlobStager.memoryInUse.load(ordering: .relaxed) - baseline }
        func staged(_ sizes: [Int], memoryLimit: Int? = limit) throws -> (BlobStager, BlobStager.Staged) {
            let stager = BlobStager(blobs: blobs, inlineLimit: 1024, memoryLimit: memoryLimit)
            for (index, size) in sizes.enumerated() {
                let chunk = [UInt8](repeating: UInt8(index), count: size)
                if index.isMultiple(of: 2) { try stager.append(taking: chunk) } else { try chunk.withUnsafeBytes { try stager.append($0) } }
            }
            return (stager, stager.finish())
        }
        // Small: inline, no budget taken. Past the inline limit: in memory, its size taken, in order.
        guard case .inline(let small) = try staged([600, 400]).1 else { Issue.record("not inline"); return }
        #expect(small.count == 1000 && inUse() == 0)
        do {
            let (_, held) = try staged([300_000, 5, 200_000])
            guard case .memory(let bytes) = held else { Issue.record("not in memory"); return }
            // The budget counts the buffer's capacity, at least its bytes.
            #expect(bytes.bytes.count == 500_005 && inUse() >= 500_005 && inUse() <= limit)
            #expect(bytes.bytes[0] == 0 && bytes.bytes[300_000] == 1 && bytes.bytes[300_005] == 2)
        }
        #expect(inUse() == 0)  // given back with the bytes
        // Without a memory limit (a folder of blobs): a file as before.
        guard case .temporary(let plain) = try staged([300_000], memoryLimit: nil).1 else { Issue.record("not a file"); return }
        plain.discard()
        // Past the limit: the bytes so far go to a file, and their share of the budget comes back.
        let (_, over) = try staged([limit - 10, 20])
        guard case .temporary(let spilled) = over else { Issue.record("not a file"); return }
        #expect(inUse() == 0)
        let name = try await blobs.commit(spilled)
        #expect(try blobs.size(of: name) == Int64(limit + 10))
        // A discarded upload gives its share back too.
        let discarded = BlobStager(blobs: blobs, inlineLimit: 1024, memoryLimit: limit)
        try discarded.append(taking: [UInt8](repeating: 1, count: 100_000))
        #expect(inUse() >= 100_000)
        discarded.discard()
        #expect(inUse() == 0)
        // The budget: bodies held at once stop at it (each counted with its buffer's spare
        // capacity, a page or so); the next one is a file.
        var holders: [BlobStager.Staged] = []
        var overflow: TemporaryBlob?
        while holders.count < 2 * BlobStager.memoryBudget / limit, overflow == nil {
            switch try staged([limit]).1 {
            case .memory(let held): holders.append(.memory(held))
            case .temporary(let file): overflow = file
            case .inline: Issue.record("inline"); return
            }
        }
        #expect(overflow != nil)
        overflow?.discard()
        #expect((BlobStager.memoryBudget / limit - 1...BlobStager.memoryBudget / limit).contains(holders.count))
        #expect(BlobStager.memoryInUse.load(ordering: .relaxed) <= BlobStager.memoryBudget)
        holders.removeAll()
        #expect(inUse() == 0)
    }

    @Test("Orphans: an unreferenced blob is found, a referenced or recent one is left")
    func orphans() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let blobs = try BlobStore(folder: folder)
        var names: [String] = []
        for _ in 0..<3 {
            let file = try blobs.makeTemporaryFile()
            try [UInt8](repeating: 7, count: 10).withUnsafeBytes { try file.write($0) }
            names.append(try await blobs.commit(file))
        }
        let found = try blobs.orphans(keeping: [names[0]], olderThan: nil)
        #expect(Set(found.keys) == Set(names[1...]))
        #expect(try blobs.orphans(keeping: [], olderThan: Date().addingTimeInterval(-3600)).isEmpty)
        blobs.removeOrphan(found[names[1]] ?? [])
        #expect(try blobs.committedNames().sorted() == [names[0], names[2]].sorted())
    }
}
