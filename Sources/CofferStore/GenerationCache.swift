import CShims
import CofferCore
import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a cache's values depend on: each cache of database reads names one domain, and a write
/// makes stale only the domains (and, for objects, the keys) whose tables it changed.
public enum CacheDomain: Int, Sendable, CaseIterable {
    /// Buckets and object versions: the GET lookups (with a word per key besides, `keySlot`).
    case objects = 0
    /// Users, access keys, sessions, groups and identity policies: credentials and identity policies.
    case access = 1
    /// Bucket policies (and the buckets they belong to).
    case bucketPolicies = 2
}

/// Words shared by every process that has the data folder open (the file `write-generation`,
/// mapped into memory), telling readers whether what they cached may have changed: one word per
/// `CacheDomain`, and `keySlots` words for object keys (a key's word is chosen by a hash of its
/// bytes; keys that share one only invalidate each other).
///
/// Each word is `generation << 1 | writing`. A write transaction learns which tables it changed
/// from SQLite itself (`TableChanges`, a GRDB transaction observer told of every statement's
/// effects) and which keys from the store's version writes; while it still holds SQLite's write
/// lock, before it commits, it moves those words to their next generation with `writing` set, and
/// once committed (or rolled back) on again with `writing` clear — unless another writer has
/// begun meanwhile, whose own end will do it. So every commit changes the words of what it changed
/// before its effects can be seen, and a word never returns to an earlier value. An audit row, a
/// throttle counter or a multipart part moves no word at all; a table the map below does not know
/// moves them all. A process killed mid-write leaves `writing` set, which only turns caching of
/// that domain off until its next write ends.
///
/// Writes that bypass Coffer's store (an `sqlite3` shell on the database) do not move the words;
/// readers may then serve what they cached before. Stop Coffer to edit the database by hand.
@usableFromInline
final class WriteGeneration: @unchecked Sendable {
    private let words: UnsafeMutablePointer<UInt64>
    /// Object-key words, after the domain words.
    @usableFromInline static let keySlots = 8192
    @usableFromInline static let firstKeySlot = 8
    private static let wordCount = firstKeySlot + keySlots

    init(folder: URL) throws {
        let path = folder.appendingPathComponent("write-generation").path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        let size = (Self.wordCount * 8 + 4095) / 4096 * 4096
        guard ftruncate(descriptor, off_t(size)) == 0 || lseek(descriptor, 0, SEEK_END) >= size,
              let mapping = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0),
              mapping != MAP_FAILED
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        words = mapping.bindMemory(to: UInt64.self, capacity: Self.wordCount)
    }

    /// Words in this process's memory only: a cluster node's, moved by its own commits and by the
    /// notifications of the other nodes' (see `PostgresEngine`).
    init() {
        let size = (Self.wordCount * 8 + 4095) / 4096 * 4096
        guard let mapping = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapping != MAP_FAILED
        else { preconditionFailure("no memory for the cache words") }
        words = mapping.bindMemory(to: UInt64.self, capacity: Self.wordCount)
    }

    /// Every word a write can move: the domains' and the keys'.
    static let allWords: Set<Int> = Set(CacheDomain.allCases.map(\.rawValue)).union(firstKeySlot..<(firstKeySlot + keySlots))

    /// The word that, odd, turns every cache off (a cluster node that is not hearing the others'
    /// commits); no write moves it.
    @usableFromInline static let offWord = firstKeySlot - 1

    func cachingOff(_ off: Bool) {
        while true {
            let seen = current(Self.offWord)
            let next = off ? seen | 1 : (seen & ~1) &+ 2
            if off, seen & 1 == 1 { return }
            if !off, seen & 1 == 0 { return }
            if coffer_atomic_compare_exchange(words + Self.offWord, seen, next) != 0 { return }
        }
    }

    /// Moves `indices` to their next generation at once (a write another node committed).
    func move(_ indices: Set<Int>) {
        end(begin(indices))
    }

    // The mapping lives as long as the process: a reader on another thread may still hold the
    // pointer when the store closes, and 80 KiB per opened store is not worth the race.

    /// The current value of word `index`: even when no write of it is under way.
    @usableFromInline
    func current(_ index: Int) -> UInt64 { coffer_atomic_load(words + index) }

    /// The word of an object key (its UTF-8 bytes, FNV-1a).
    @inlinable
    static func keySlot(_ key: some Sequence<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return firstKeySlot + Int(hash % UInt64(keySlots))
    }

    /// Marks the words as being written (inside the transaction, before it commits).
    func begin(_ indices: Set<Int>) -> [(index: Int, word: UInt64)] {
        indices.map { index in
            while true {
                let seen = current(index)
                let next = ((seen >> 1) &+ 1) << 1 | 1
                if coffer_atomic_compare_exchange(words + index, seen, next) != 0 { return (index, next) }
            }
        }
    }

    /// Called after the transaction committed or rolled back.
    func end(_ begun: [(index: Int, word: UInt64)]) {
        for (index, word) in begun { _ = coffer_atomic_compare_exchange(words + index, word, ((word >> 1) &+ 1) << 1) }
    }

    /// `pool.write(body)` with the words of what it changed moved as above. Every write to the
    /// database goes through here; `everything` moves every word whatever was changed (after
    /// migrations, which ran before the observer was in place).
    func write<T>(in pool: DatabasePool, everything: Bool = false, _ body: (Database) throws -> T) throws -> T {
        var begun: [(index: Int, word: UInt64)] = []
        defer { end(begun) }
        return try pool.write { db in
            let changes = TableChanges.begin()
            defer { TableChanges.finish() }
            let result = try body(db)
            begun = begin(everything ? Set(0..<Self.wordCount) : changes.words())
            return result
        }
    }
}

/// What one write transaction changed, as the words of `WriteGeneration` to move: filled from
/// the statements SQLite runs (`TableChangeObserver`) and from the keys the store's version writes
/// name (`touchKey`). Held per thread while the transaction body runs on it.
final class TableChanges {
    private var domains: Set<CacheDomain> = []
    private var keys: Set<Int> = []
    private var versionsChanged = false
    private var unknown = false

    private final class Holder { var current: TableChanges? }
    private static let holder = PerThread { Holder() }

    static func begin() -> TableChanges {
        let changes = TableChanges()
        holder.value.current = changes
        return changes
    }

    static func finish() { holder.value.current = nil }

    /// Puts back the record that was current before `begin()` (nil when there was none).
    static func restore(_ previous: TableChanges?) { holder.value.current = previous }

    /// The transaction under way on this thread, if any.
    static var current: TableChanges? { holder.value.current }

    /// A version row of `key` was written (every statement on `versions` is the store's, and names one).
    static func touchKey(_ key: String) {
        current?.keys.insert(WriteGeneration.keySlot(key.utf8))
    }

    /// Which caches a table's change can make stale (told by SQLite, through GRDB).
    func record(_ kind: DatabaseEventKind) {
        var nextSequenceOnly = false
        if case .update(_, let columns) = kind { nextSequenceOnly = columns.allSatisfy { $0.lowercased() == "next_seq" } }
        record(table: kind.tableName, nextSequenceOnly: nextSequenceOnly)
    }

    /// Which caches a change of `table` can make stale. `nextSequenceOnly`: an update of the
    /// buckets' `next_seq` column alone.
    func record(table: String, nextSequenceOnly: Bool) {
        switch table {
        case "versions": versionsChanged = true
        case "buckets":
            // A PUT takes the bucket's next sequence number: no cached value holds it.
            if nextSequenceOnly { return }
            domains.formUnion([.objects, .bucketPolicies])
        case "bucket_policies": domains.insert(.bucketPolicies)
        case "iam_users", "access_keys", "sessions", "iam_groups", "group_members", "inline_policies", "managed_policies",
             "policy_versions", "policy_attachments":
            domains.insert(.access)
        case "audit", "meta", "mfa_devices", "mfa_tags", "uploads", "parts", "manifest_parts", "completed_uploads",
             "login_profiles", "password_history", "console_sessions", "security_keys", "webauthn_challenges",
             "access_key_usage", "sms_codes", "sms_sends", "attempt_counters":
            break  // read by no cache: append-only rows, throttle counters, multipart state, console state
        default:
            if !table.hasPrefix("sqlite_") { unknown = true }
        }
    }

    func words() -> Set<Int> {
        if unknown { return WriteGeneration.allWords }
        var words = Set(domains.map(\.rawValue))
        if versionsChanged {
            // Version writes name their keys; were one ever to change a version without naming
            // it, every object lookup goes stale rather than one being missed.
            if keys.isEmpty { words.insert(CacheDomain.objects.rawValue) } else { words.formUnion(keys) }
        }
        return words
    }
}

/// Told by GRDB, before each statement on the writer runs, of every kind of change it may make
/// (table, and for updates the columns): recorded into the thread's `TableChanges`. It asks for no
/// per-row notification, so it costs nothing per changed row.
final class TableChangeObserver: TransactionObserver {
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        TableChanges.current?.record(eventKind)
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
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

/// Values read from the database, remembered while nothing they depend on has been written:
/// each entry is tagged with the words (`WriteGeneration`) of its domain — and, for object
/// lookups, of its key — read before the value was, and served only while they have not moved.
/// A write elsewhere (another key, an audit row, a throttle counter) leaves it warm; any write
/// that can change it, by any process, makes it stale at once. Nothing is stored while a write of
/// its words is under way.
///
/// Each thread holds its own entries: no lock, and no reference count shared between the event
/// loops. Eviction is by recency: two generations of entries; a hit in the older one moves it to
/// the younger, and when the younger fills, the older (what was not used since) is dropped.
public final class ThreadLocalGenerationCache<Key: Hashable & Sendable, Value>: @unchecked Sendable {
    @usableFromInline
    struct Entry {
        @usableFromInline var value: Value
        @usableFromInline var cost: Int
        @usableFromInline var domainWord: UInt64
        @usableFromInline var keyWord: UInt64

        @usableFromInline
        init(value: Value, cost: Int, domainWord: UInt64, keyWord: UInt64) {
            self.value = value
            self.cost = cost
            self.domainWord = domainWord
            self.keyWord = keyWord
        }
    }

    @usableFromInline
    final class Entries {
        @usableFromInline var young: [Key: Entry] = [:]
        @usableFromInline var old: [Key: Entry] = [:]
        @usableFromInline var youngCost = 0
        init() {}
    }

    // Inlinable (with what it touches) so that each caller's Key and Value are specialised: as a
    // generic call across modules, every dictionary lookup went through witness tables.
    @usableFromInline let entries = PerThread { Entries() }
    @usableFromInline let generation: WriteGeneration
    @usableFromInline let domain: Int
    @usableFromInline let maxEntries: Int
    @usableFromInline let maxCost: Int
    @usableFromInline let cost: @Sendable (Key, Value) -> Int

    /// `maxEntries` and `maxCost` bound each thread's entries (the younger generation holds half).
    init(generation: WriteGeneration, domain: CacheDomain, maxEntries: Int, maxCost: Int = .max,
         cost: @escaping @Sendable (Key, Value) -> Int = { _, _ in 1 }) {
        self.generation = generation
        self.domain = domain.rawValue
        self.maxEntries = maxEntries
        self.maxCost = maxCost
        self.cost = cost
    }

    /// The calling thread's cached value, or `read()`'s — remembered when none of its words moved
    /// while it ran and `keep` accepts it. `keySlot`: the object key's word (object lookups only).
    @inlinable
    public func value(for key: Key, keySlot: Int? = nil, keep: (Value) -> Bool = { _ in true },
                      read: () throws -> Value) rethrows -> Value {
        let domainWord = generation.current(domain)
        let keyWord = keySlot.map { generation.current($0) } ?? 0
        // A write is under way, or (a cluster node) the others' commits are not being heard.
        guard (domainWord | keyWord | generation.current(WriteGeneration.offWord)) & 1 == 0 else { return try read() }
        let entries = entries.value
        if let entry = entries.young[key] {
            if entry.domainWord == domainWord, entry.keyWord == keyWord { return entry.value }
        } else if let entry = entries.old.removeValue(forKey: key), entry.domainWord == domainWord, entry.keyWord == keyWord {
            insert(entry, for: key, into: entries)
            return entry.value
        }
        let value = try read()
        guard generation.current(domain) == domainWord, keySlot.map({ generation.current($0) }) ?? 0 == keyWord, keep(value)
        else { return value }
        insert(Entry(value: value, cost: cost(key, value), domainWord: domainWord, keyWord: keyWord), for: key, into: entries)
        return value
    }

    @usableFromInline
    func insert(_ entry: Entry, for key: Key, into entries: Entries) {
        if entries.young.count >= max(maxEntries / 2, 1) || entries.youngCost + entry.cost > maxCost / 2 {
            entries.old = entries.young
            entries.young.removeAll(keepingCapacity: true)
            entries.youngCost = 0
        }
        if let replaced = entries.young.updateValue(entry, forKey: key) { entries.youngCost -= replaced.cost }
        entries.youngCost += entry.cost
    }
}
