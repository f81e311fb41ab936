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
