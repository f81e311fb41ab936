import CShims
import CofferCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A word shared by every process that has the data folder open (the file `write-generation`,
/// mapped into memory), telling readers whether what they cached may have changed.
///
/// The word is `generation << 1 | writing`. Each write transaction, while it holds SQLite's
/// write lock (and before it commits), moves the word to the next generation with `writing`
/// set; once committed (or rolled back) it moves on again with `writing` clear — unless another
/// writer has begun meanwhile, whose own end will do it. So every commit, by any process, changes
/// the word before its effects can be seen, and the word never returns to an earlier value. A
/// process killed mid-write leaves `writing` set, which only turns caching off until the next
/// write ends.
///
/// Writes that bypass Coffer's store (an `sqlite3` shell on the database) do not move the word;
/// readers may then serve what they cached before. Stop Coffer to edit the database by hand.
final class WriteGeneration: @unchecked Sendable {
    private let word: UnsafeMutablePointer<UInt64>

    init(folder: URL) throws {
        let path = folder.appendingPathComponent("write-generation").path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        let size = 4096
        guard ftruncate(descriptor, off_t(size)) == 0 || lseek(descriptor, 0, SEEK_END) >= size,
              let mapping = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0),
              mapping != MAP_FAILED
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        word = mapping.bindMemory(to: UInt64.self, capacity: 1)
    }

    // The mapping lives as long as the process: a reader on another thread may still hold the
    // pointer when the store closes, and 4 KiB per opened store is not worth the race.

    /// The current word: even when no write is under way.
    var current: UInt64 { coffer_atomic_load(word) }

    /// Called inside a write transaction, before it commits. Returns the word set, for `end`.
    func begin() -> UInt64 {
        while true {
            let seen = current
            let next = ((seen >> 1) &+ 1) << 1 | 1
            if coffer_atomic_compare_exchange(word, seen, next) != 0 { return next }
        }
    }

    /// Called after the transaction committed or rolled back.
    func end(_ begun: UInt64) {
        _ = coffer_atomic_compare_exchange(word, begun, ((begun >> 1) &+ 1) << 1)
    }
}

/// The result of `bucketAndVersion` for recent (bucket, key, version id) lookups, so a GET of a
/// small object that nothing has written since costs no SQLite read. Entries are tagged with the
/// `WriteGeneration` word they were read under, and valid only while the word has not moved: any
/// write, by any process, makes every entry stale at once. Coarse, and so simple to trust.
final class ReadCache: Sendable {
    typealias Value = (bucket: Bucket, version: ObjectVersion?)?

    private struct Key: Hashable {
        var bucket: String
        var key: String
        var versionID: String?
    }

    private struct Entry {
        var tag: UInt64
        var value: Value
        var bytes: Int
    }

    static let maxEntries = 8192
    /// Inline bodies held at most (a full cache is emptied and refilled).
    static let maxBytes = 32 * 1024 * 1024

    let generation: WriteGeneration
    private let state = Mutex<(entries: [Key: Entry], bytes: Int)>(([:], 0))

    init(generation: WriteGeneration) { self.generation = generation }

    /// The cached value, or `read()`'s — remembered when no write began while it ran.
    func value(bucket: String, key: String, versionID: String?, read: () throws -> Value) rethrows -> Value {
        let tag = generation.current
        guard tag & 1 == 0 else { return try read() }  // a write is under way: no caching
        let cacheKey = Key(bucket: bucket, key: key, versionID: versionID)
        if let entry = state.withLock({ $0.entries[cacheKey] }), entry.tag == tag { return entry.value }
        let value = try read()
        guard generation.current == tag else { return value }
        var bytes = key.utf8.count + 256
        if case .inline(let body)? = value?.version?.blob { bytes += body.count }
        state.withLock { state in
            if state.entries.count >= Self.maxEntries || state.bytes + bytes > Self.maxBytes {
                state.entries.removeAll(keepingCapacity: true)
                state.bytes = 0
            }
            if let old = state.entries.updateValue(Entry(tag: tag, value: value, bytes: bytes), forKey: cacheKey) {
                state.bytes -= old.bytes
            }
            state.bytes += bytes
        }
        return value
    }
}
