import CofferStore
import Foundation
import Testing

@Suite("Blob files")
struct BlobWriteTests {
    @Test("Blob files hold exactly the bytes written, whatever the sizes of the writes and of the tail",
          arguments: [65_537, 4_096 * 300, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12_345])
    func exactBytes(size: Int) async throws {
        let h = try Harness()
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) }
        let stager = BlobStager(blobs: h.store.blobs, inlineLimit: 64 * 1024)
        var offset = 0
        for chunk in [1, 4_095, 70_000, 1 << 20, 333_333].cycled(until: size) {
            let end = min(offset + chunk, size)
            try bytes[offset..<end].withUnsafeBytes { try stager.append($0) }
            offset = end
        }
        guard case .temporary(let file) = stager.finish() else {
            Issue.record("expected a temporary file")
            return
        }
        let name = try await h.store.blobs.commit(file)
        let stored = try Data(contentsOf: URL(fileURLWithPath: h.store.blobs.path(of: name)))
        #expect(stored.count == size)
        #expect(stored == Data(bytes))
    }
}

extension Array where Element == Int {
    /// The sizes repeated until they add up to at least `total`.
    func cycled(until total: Int) -> [Int] {
        var result: [Int] = []
        var sum = 0
        while sum < total {
            let next = self[result.count % count]
            result.append(next)
            sum += next
        }
        return result
    }
}
