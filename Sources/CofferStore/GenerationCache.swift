import CShims
import CofferCore
import Foundation
import GRDB
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
@usableFromInline
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
    @usableFromInline
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

    /// `pool.write(body)` with the word moved as above: begun inside the transaction (under
    /// SQLite's write lock, before the commit), ended once it has committed or failed. Every write
    /// to the database goes through here.
    func write<T>(in pool: DatabasePool, _ body: (Database) throws -> T) throws -> T {
        var begun: UInt64?
        defer { begun.map(end) }
        return try pool.write { db in
            begun = begin()
            return try body(db)
        }
    }
}

/// A (bucket, key, version id) lookup: the key of the GET read cache. Held as UTF-8 bytes: Swift
/// compares Strings by canonical equivalence (an NFC "é" equals an NFD one), but S3 keys — and
/// SQLite — are byte strings, and two keys that only look alike are two objects.
struct ObjectLookup: Hashable, Sendable {
    var bucket: [UInt8]
    var key: [UInt8]
    var versionID: [UInt8]?

    init(bucket: String, key: String, versionID: String?) {
        self.bucket = Array(bucket.utf8)
        self.key = Array(key.utf8)
        self.versionID = versionID.map { Array($0.utf8) }
    }
}

/// Values read from the database, remembered while nothing has written to it: entries are tagged
/// with the `WriteGeneration` word they were read under and valid only while the word has not
/// moved, so any write, by any process, makes every entry stale at once. Coarse, and so simple to
/// trust. Nothing is stored or served while a write is under way.
///
/// Each thread holds its own entries: no lock, and no reference count shared between the event
/// loops (each thread reads and keeps its own copy of a value). What every request reads — object
/// lookups, credentials, access policies — sits here, where a shared cache's lock and shared
/// reference counts would make the two event loops contend on the same cache lines on every
/// request.
public final class ThreadLocalGenerationCache<Key: Hashable & Sendable, Value>: @unchecked Sendable {
    @usableFromInline
    final class Entries {
        @usableFromInline var tag: UInt64 = .max
        @usableFromInline var values: [Key: (value: Value, cost: Int)] = [:]
        @usableFromInline var cost = 0
        init() {}
    }

    // Inlinable (with what it touches) so that each caller's Key and Value are specialised: as a
    // generic call across modules, every dictionary lookup went through witness tables.
    @usableFromInline let entries = PerThread { Entries() }
    @usableFromInline let generation: WriteGeneration
    @usableFromInline let maxEntries: Int
    @usableFromInline let maxCost: Int
    @usableFromInline let cost: @Sendable (Key, Value) -> Int

    /// `maxEntries` and `maxCost` bound each thread's entries (a full cache is emptied and refilled).
    init(generation: WriteGeneration, maxEntries: Int, maxCost: Int = .max,
         cost: @escaping @Sendable (Key, Value) -> Int = { _, _ in 1 }) {
        self.generation = generation
        self.maxEntries = maxEntries
        self.maxCost = maxCost
        self.cost = cost
    }

    /// The calling thread's cached value, or `read()`'s — remembered when no write began while it
    /// ran and `keep` accepts it.
    @inlinable
    public func value(for key: Key, keep: (Value) -> Bool = { _ in true }, read: () throws -> Value) rethrows -> Value {
        let tag = generation.current
        guard tag & 1 == 0 else { return try read() }  // a write is under way: no caching
        let entries = entries.value
        if entries.tag != tag {
            entries.values.removeAll(keepingCapacity: true)
            entries.cost = 0
            entries.tag = tag
        } else if let entry = entries.values[key] {
            return entry.value
        }
        let value = try read()
        guard generation.current == tag, keep(value) else { return value }
        let entryCost = cost(key, value)
        if entries.values.count >= maxEntries || entries.cost + entryCost > maxCost {
            entries.values.removeAll(keepingCapacity: true)
            entries.cost = 0
        }
        if let old = entries.values.updateValue((value, entryCost), forKey: key) { entries.cost -= old.cost }
        entries.cost += entryCost
        return value
    }
}
