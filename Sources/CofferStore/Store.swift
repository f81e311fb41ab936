import CShims
import CofferCore
import Foundation
import GRDB

/// What the store needs of a metadata database. Two engines: `SQLiteEngine` (the data folder's
/// `coffer.sqlite`, the embedded default) and `PostgresEngine` (a cluster's shared PostgreSQL).
/// Nothing above `Store` knows which one runs: both run `StoreTransaction`'s one SQL.
protocol MetadataEngine: AnyObject, Sendable {
    /// The words the caches check (see `WriteGeneration`).
    var generation: WriteGeneration { get }
    /// Whether GET lookups may be cached: not on a cluster node, which cannot see another node's
    /// write before it is asked for the object (read-after-write on every node).
    var cachesObjects: Bool { get }
    func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T,
                            recover: (@Sendable (any Error, StoreTransaction) throws -> Void)?) async throws -> T
    func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T
    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T
    func readStatement<T>(_ body: (StoreTransaction) throws -> T) throws -> T
    /// `read` (or, with `statement`, `readStatement`) for a request handler: it suspends rather
    /// than holding its thread while the database answers. SQLite answers from memory-mapped
    /// pages, so it runs in place; PostgreSQL's round trips wait on the engine's own threads.
    func asyncRead<T: Sendable>(statement: Bool, _ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T
    func close() throws
}

/// The metadata (one of the two `MetadataEngine`s) and the blob files beside it.
///
/// Every change is one transaction. On SQLite, writers take the write lock up front and SQLite's
/// busy timeout absorbs contention from other processes sharing the folder; on PostgreSQL every
/// write is SERIALIZABLE and retried when it conflicts. Either way a write that cannot get through
/// ends in `StoreBusy` (503), never half done.
public final class Store: Sendable {
    /// Where the blob files are (and, on the embedded store, the database).
    public let folder: URL
    public let blobs: BlobStore
    let engine: any MetadataEngine
    /// Recent object lookups for GET and HEAD, per thread (`ThreadLocalGenerationCache`): at most
    /// 8,192 per thread, holding at most 16 MiB of inline bodies each. Not on a cluster node.
    private let lookups: ThreadLocalGenerationCache<ObjectLookup, (bucket: Bucket, version: ObjectVersion?)?>

    /// Opens (creating if needed) the embedded store in `folder`, migrates it, and (unless told
    /// not to: `coffer admin verify` lists orphans rather than removing them) sweeps orphan blobs.
    /// `busyTimeout`: how long (seconds) a write waits for another process's write lock on the
    /// folder before it gives up with `StoreBusy` (answered `503 SlowDown`, never a 500).
    public convenience init(folder: URL, sweep: Bool = true, busyTimeout: Double = 30) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try self.init(engine: SQLiteEngine(folder: folder, busyTimeout: busyTimeout), blobFolder: folder, sweep: sweep)
    }

    /// Opens a cluster node's store: metadata in PostgreSQL at `database` (its tables made or
    /// brought up to date on first use), bytes in `blobs` (a shared folder, or a RADOS pool with
    /// uploads staged in a folder of this machine). `report` is told why writes pause (the server
    /// is gone or read-only) and when they resume.
    public convenience init(database: PostgresTarget, blobs: ClusterBlobs, sweep: Bool = true,
                            report: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let folder = blobs.stagingFolder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var pool: RadosPool?
        if case .rados(let target) = blobs { pool = try RadosPool(target) }
        try self.init(engine: PostgresEngine(target: database, report: report), blobFolder: folder, rados: pool,
                      sweep: sweep)
    }

    /// For tests: the embedded store in `folder`, or — when `COFFER_TEST_DATABASE` names a
    /// PostgreSQL database (`postgres://…`) — a cluster store there, in a schema of its own named
    /// after `folder` (so that opening the same folder again opens the same metadata).
    public static func forTesting(folder: URL, sweep: Bool = true) throws -> Store {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["COFFER_TEST_DATABASE"], !url.isEmpty else { return try Store(folder: folder, sweep: sweep) }
        var target = try PostgresTarget(url: url, environment: environment)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in folder.standardizedFileURL.path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        target.schema = "t" + String(hash, radix: 16)
        return try Store(database: target, blobs: .folder(folder), sweep: sweep)
    }

    init(engine: any MetadataEngine, blobFolder: URL, rados: RadosPool? = nil, sweep: Bool) throws {
        self.engine = engine
        folder = blobFolder
        lookups = ThreadLocalGenerationCache(generation: engine.generation, domain: .objects, maxEntries: 8192,
                                             maxCost: 16 * 1024 * 1024) { key, value in
            var cost = key.key.count + 256
            if case .inline(let body)? = value?.version?.blob { cost += body.count }
            return cost
        }
        blobs = try BlobStore(folder: blobFolder, rados: rados)
        if sweep { try sweepOrphanBlobs() }
        blobs.placeBallast()
    }

    static let orphanGrace: TimeInterval = max(1, ProcessInfo.processInfo.environment["COFFER_BLOB_GRACE_SECONDS"]
        .flatMap { TimeInterval($0) } ?? 3600)

    /// Whether the metadata is a cluster's (PostgreSQL) rather than the data folder's.
    public var isCluster: Bool { engine is PostgresEngine }

    /// The SQLite database of the embedded store (backup, query plans); nil on a cluster node.
    var sqlite: DatabasePool? { (engine as? SQLiteEngine)?.pool }

    /// Runs a write that frees space (a delete). If the disk is so full that even it cannot commit
    /// (something else filled the file system to its last block), the ballast is released and the
    /// write tried once more; the ballast is placed again once there is room.
    public func freeingSpace<T>(_ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch BlobError.noSpace where blobs.releaseBallast() {
            let result = try await write()
            blobs.placeBallast()
            return result
        }
    }

    /// Runs `body` atomically and durably. It returns once the commit is durable.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await engine.write(body, recover: nil)
    }

    /// `write`, and when `body` fails: its changes roll back, then `recover` writes what must be
    /// remembered of the failure in the same transaction, before any other write can run — so a
    /// check and the counting of its failure are one atomic step, whatever the concurrency.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T,
                                   recover: @escaping @Sendable (any Error, StoreTransaction) throws -> Void)
        async throws -> T {
        try await engine.write(body, recover: recover)
    }

    /// Runs `body` against a consistent read snapshot, blocking the thread (on a cluster node, for
    /// a round trip): inside the store only. Request paths use `asyncRead` or `decisionRead`;
    /// start-up and command-line tools use `readNow`.
    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try engine.read(body)
    }

    /// Runs `body`, which issues a single statement, without opening a transaction: each
    /// statement has its own consistent snapshot (the GET hot path).
    func readStatement<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try engine.readStatement(body)
    }

    /// `read` for request handlers: on a cluster it suspends, rather than blocking its thread,
    /// while PostgreSQL answers (`MetadataEngine.asyncRead`).
    public func asyncRead<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await engine.asyncRead(statement: false, body)
    }

    /// `readStatement` for request handlers (one statement, its own snapshot), suspending likewise.
    public func asyncReadStatement<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await engine.asyncRead(statement: true, body)
    }

    /// Synchronous variants for start-up and command-line tools.
    public func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try engine.writeNow(body)
    }

    public func readNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try engine.read(body)
    }

    /// `StoreTransaction.bucketAndVersion` through the read cache: the GET hot path.
    public func bucketAndVersion(bucket: String, key: String,
                                 versionID: String?) throws -> (bucket: Bucket, version: ObjectVersion?)? {
        guard engine.cachesObjects else {
            return try readStatement { try $0.bucketAndVersion(bucket: bucket, key: key, versionID: versionID) }
        }
        return try lookups.value(for: ObjectLookup(bucket: bucket, key: key, versionID: versionID),
                                 keySlot: WriteGeneration.keySlot(key.utf8)) {
            try readStatement { try $0.bucketAndVersion(bucket: bucket, key: key, versionID: versionID) }
        }
    }

    /// `bucketAndVersion` for request handlers: through the read cache on the data folder, and
    /// suspending while PostgreSQL answers on a cluster (which caches no object lookup).
    public func lookUp(bucket: String, key: String,
                       versionID: String?) async throws -> (bucket: Bucket, version: ObjectVersion?)? {
        guard engine.cachesObjects else {
            return try await engine.asyncRead(statement: true) {
                try $0.bucketAndVersion(bucket: bucket, key: key, versionID: versionID)
            }
        }
        return try bucketAndVersion(bucket: bucket, key: key, versionID: versionID)
    }

    /// A per-thread cache of values read from this store's `domain` tables, kept coherent with
    /// every write to them (see `ThreadLocalGenerationCache`).
    public func makeThreadLocalCache<Key: Hashable & Sendable, Value>(maxEntries: Int, domain: CacheDomain)
        -> ThreadLocalGenerationCache<Key, Value> {
        ThreadLocalGenerationCache(generation: engine.generation, domain: domain, maxEntries: maxEntries)
    }

    /// A per-thread cache of what follows from one object's row (kept coherent with every write
    /// to that key: pass `objectKeySlot(key)` as the key slot), bounded in entries and in `cost`.
    /// Nil on a cluster node, which caches no object lookup (read-after-write on every node).
    public func makeObjectCache<Key: Hashable & Sendable, Value>(maxEntries: Int, maxCost: Int,
                                                                 cost: @escaping @Sendable (Key, Value) -> Int)
        -> ThreadLocalGenerationCache<Key, Value>? {
        guard engine.cachesObjects else { return nil }
        return ThreadLocalGenerationCache(generation: engine.generation, domain: .objects, maxEntries: maxEntries,
                                          maxCost: maxCost, cost: cost)
    }

    /// The cache word of an object key (`makeObjectCache`).
    public static func objectKeySlot(_ key: String) -> Int { WriteGeneration.keySlot(key.utf8) }

    /// Closes the database (on SQLite, after checkpointing the WAL).
    public func close() throws {
        try engine.close()
    }

    /// Deletes blob files no version references (left by a crash between the rename of a blob and
    /// the commit of its row, or between a delete's commit and the file's removal).
    ///
    /// On a cluster, one node at a time sweeps (an advisory lock; a node that finds it taken skips
    /// its sweep), and a blob goes only once its bytes have been unchanged and unreferenced for
    /// `COFFER_BLOB_GRACE_SECONDS` (an hour unless set; at least a second), so that an upload
    /// still writing its pieces or about to commit is left alone.
    public func sweepOrphanBlobs() throws {
        guard let cluster = engine as? PostgresEngine else {
            let referenced = try readNow { try $0.referencedBlobFiles().union($0.referencedPartFiles()) }
            try blobs.sweep(keeping: referenced)
            return
        }
        try cluster.exclusively(PostgresSchema.sweepLockID) {
            blobs.sweepTemporaryFolders(shared: true)
            if let rados = blobs.rados {
                try sweepRados(rados)
            } else {
                let referenced = try readNow { try $0.referencedBlobFiles().union($0.referencedPartFiles()) }
                try doom(try blobs.orphans(keeping: referenced, olderThan: Date().addingTimeInterval(-Self.orphanGrace)))
            }
            try writeNow { transaction in try transaction.forgetSwept(before: Date().addingTimeInterval(-86_400)) }
        }
    }

    /// Removes a cluster's orphans (each blob's name, and what holds its bytes), 500 at a time.
    /// Each blob is recorded as swept, in a transaction that finds nothing referencing it, before
    /// its bytes go. A PUT that is about to reference it checks that record in its own transaction
    /// (`StoreTransaction.checkNotSwept`): SERIALIZABLE lets only one of the two commit, so no
    /// version ever names bytes the sweep removed.
    private func doom(_ orphans: [String: [String]]) throws {
        try Self.inBatches(orphans.keys.sorted()) { batch in
            let doomed = try writeNow { transaction in try transaction.markSwept(batch) }
            for name in doomed { blobs.removeOrphan(orphans[name] ?? []) }
        }
    }

    /// `names` 500 at a time (one statement's worth of them).
    private static func inBatches(_ names: [String], _ body: ([String]) throws -> Void) rethrows {
        var start = 0
        while start < names.count {
            let batch = Array(names[start..<min(start + 500, names.count)])
            start += batch.count
            try body(batch)
        }
    }

    /// Objects listed per page by a RADOS sweep (`COFFER_BLOB_SWEEP_PAGE`, 10,000 unless set).
    static let sweepPage = max(1, ProcessInfo.processInfo.environment["COFFER_BLOB_SWEEP_PAGE"].flatMap { Int($0) } ?? 10_000)

    /// The sweep of a RADOS pool, a page of the listing at a time, so that neither the pool's names
    /// nor the database's references are ever all in memory: each page's blobs are looked up
    /// among the references, each unreferenced one's pieces are probed (a blob's pieces are
    /// scattered over the listing), and those old enough are doomed and removed as on a folder.
    private func sweepRados(_ rados: RadosPool) throws {
        let cutoff = Date().addingTimeInterval(-Self.orphanGrace)
        // Blobs left alone in this sweep as young (an upload may be writing them): few. A removed
        // blob whose pieces come up again later in the listing is probed again, which finds
        // them gone — or finds a piece past a gap that an interrupted removal left.
        var young = Set<String>()
        try rados.forEachPage(of: Self.sweepPage) { objects in
            var highest: [String: Int] = [:]
            for object in objects {
                let name = BlobStore.blobName(ofPiece: object)
                guard !young.contains(name) else { continue }
                highest[name] = max(highest[name] ?? 0, BlobStore.pieceIndex(object))
            }
            try Self.inBatches(Array(highest.keys)) { batch in
                let referenced = try readNow { try $0.referencedBlobs(among: batch) }
                var pieces: [String: [String]] = [:]
                for name in batch where !referenced.contains(name) {
                    switch try blobs.radosPieces(name, before: cutoff, highest: highest[name] ?? 0) {
                    case .old(let objects): pieces[name] = objects
                    case .young: young.insert(name)
                    case .gone: break
                    }
                }
                try doom(pieces)
            }
        }
    }
}

/// The embedded engine: one SQLite file (WAL mode) in the data folder.
///
/// Writers take the write lock up front (`BEGIN IMMEDIATE`) and SQLite's busy timeout absorbs
/// contention from other processes sharing the folder, so `SQLITE_BUSY` never reaches a client.
/// `synchronous = FULL` makes each commit durable. Writes are group-committed.
final class SQLiteEngine: MetadataEngine {
    let pool: DatabasePool
    let generation: WriteGeneration
    let cachesObjects = true
    private let groupCommit: GroupCommit
    private let readers: ThreadReaders

    init(folder: URL, busyTimeout: Double) throws {
        _ = Self.sqliteSetup
        var configuration = Configuration()
        configuration.busyMode = .timeout(max(0.01, busyTimeout))
        configuration.maximumReaderCount = 8
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let path = folder.appendingPathComponent("coffer.sqlite").path
        pool = try DatabasePool(path: path, configuration: configuration)
        let generation = try WriteGeneration(folder: folder)
        self.generation = generation
        try Self.migrator.migrate(pool)
        // From here on, every write learns from SQLite which tables it changed.
        pool.add(transactionObserver: TableChangeObserver(), extent: .databaseLifetime)
        // Whatever a migration changed is in no cache. Moved inside a write transaction like every
        // other move: a begin/end pair outside SQLite's write lock could end while another
        // process's write is still uncommitted, and let readers cache what it is replacing.
        try generation.write(in: pool, everything: true) { _ in }
        readers = ThreadReaders(path: path)
        groupCommit = GroupCommit(pool: pool, generation: generation)
    }

    /// Process-wide SQLite settings, applied once before the first connection opens.
    private static let sqliteSetup: Void = { _ = coffer_sqlite_disable_memstatus() }()

    /// In its own savepoint of a group-committed transaction; returns once the commit is on disk.
    func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T,
                            recover: (@Sendable (any Error, StoreTransaction) throws -> Void)?) async throws -> T {
        var recoverOnDatabase: (@Sendable (any Error, Database) throws -> Void)?
        if let recover { recoverOnDatabase = { error, db in try recover(error, StoreTransaction(db: db)) } }
        return try await Self.fullDiskIsNoSpace {
            try await groupCommit.write({ db in try body(StoreTransaction(db: db)) }, recover: recoverOnDatabase)
        }
    }

    /// SQLite's "database or disk is full" is the same condition as a blob write's ENOSPC:
    /// `BlobError.noSpace`, which the server answers with `507 InsufficientStorage`.
    static func fullDiskIsNoSpace<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw BlobError.noSpace
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            // Another process held the write lock past the busy timeout: nothing was written (the
            // transaction never began, or rolled back); the client may try again.
            throw StoreBusy()
        }
    }

    /// Reads are short cached-statement queries on one of several reader connections, so they
    /// run in place rather than hopping threads.
    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try pool.read { db in try body(StoreTransaction(db: db)) }
    }

    /// On the calling thread's own reader connection, without a transaction: the BEGIN/COMMIT
    /// pair would cost as much as the query (the GET hot path).
    func readStatement<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try readers.connection().inDatabase { db in try body(StoreTransaction(db: db)) }
    }

    func asyncRead<T: Sendable>(statement: Bool, _ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try statement ? readStatement(body) : read(body)
    }

    func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try generation.write(in: pool) { db in try body(StoreTransaction(db: db)) }
    }

    /// Checkpoints the WAL and closes the database.
    func close() throws {
        readers.close()
        pool.writeWithoutTransaction { db in _ = try? db.checkpoint(.truncate) }
        try pool.close()
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1-buckets-and-versions") { db in
            try db.execute(sql: """
                CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE buckets (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    region TEXT NOT NULL,
                    created_ms INTEGER NOT NULL,
                    versioning INTEGER NOT NULL DEFAULT 0,
                    mfa_delete INTEGER NOT NULL DEFAULT 0,
                    next_seq INTEGER NOT NULL DEFAULT 1
                );
                CREATE TABLE versions (
                    id INTEGER PRIMARY KEY,
                    bucket_id INTEGER NOT NULL REFERENCES buckets(id),
                    key TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    version_id TEXT NOT NULL,
                    is_latest INTEGER NOT NULL,
                    is_marker INTEGER NOT NULL,
                    modified_ms INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    etag TEXT NOT NULL,
                    headers TEXT NOT NULL,
                    checksums TEXT NOT NULL,
                    blob_file TEXT,
                    blob_inline BLOB
                );
                CREATE UNIQUE INDEX versions_order ON versions(bucket_id, key, seq DESC);
                CREATE UNIQUE INDEX versions_by_id ON versions(bucket_id, key, version_id);
                CREATE INDEX versions_current ON versions(bucket_id, key) WHERE is_latest = 1 AND is_marker = 0;
                CREATE INDEX versions_blob ON versions(blob_file) WHERE blob_file IS NOT NULL;
                """)
        }
        migrator.registerMigration("2-latest-version-index") { db in
            // Finding a key's current entry must not walk its whole version stack.
            try db.execute(sql: "CREATE INDEX versions_latest ON versions(bucket_id, key) WHERE is_latest = 1")
        }
        migrator.registerMigration("3-iam-mfa-registry") { db in
            try db.execute(sql: """
                CREATE TABLE iam_users (
                    name TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, created_ms INTEGER NOT NULL
                );
                CREATE TABLE access_keys (
                    access_key TEXT PRIMARY KEY, user_name TEXT NOT NULL, sealed_secret BLOB NOT NULL,
                    status TEXT NOT NULL, created_ms INTEGER NOT NULL
                );
                CREATE INDEX access_keys_user ON access_keys(user_name);
                CREATE TABLE sessions (
                    access_key TEXT PRIMARY KEY, sealed_secret BLOB NOT NULL, token_hash TEXT NOT NULL,
                    user_name TEXT NOT NULL, mfa_authenticated INTEGER NOT NULL, expires_ms INTEGER NOT NULL
                );
                CREATE TABLE mfa_devices (
                    serial TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL,
                    sealed_seed BLOB NOT NULL, algorithm TEXT NOT NULL, digits INTEGER NOT NULL, period INTEGER NOT NULL,
                    user_name TEXT, enabled_ms INTEGER, created_ms INTEGER NOT NULL,
                    drift INTEGER NOT NULL DEFAULT 0, last_step INTEGER,
                    failures INTEGER NOT NULL DEFAULT 0, window_step INTEGER NOT NULL DEFAULT 0,
                    window_failures INTEGER NOT NULL DEFAULT 0, backoffs INTEGER NOT NULL DEFAULT 0,
                    throttled_until_ms INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX mfa_devices_user ON mfa_devices(user_name);
                CREATE TABLE mfa_tags (
                    serial TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (serial, key)
                );
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, event TEXT NOT NULL, outcome TEXT NOT NULL,
                    principal TEXT NOT NULL, serial TEXT, source TEXT, request_id TEXT, detail TEXT
                );
                """)
        }
        migrator.registerMigration("4-multipart") { db in
            try db.execute(sql: """
                CREATE TABLE uploads (
                    upload_id TEXT PRIMARY KEY, bucket_id INTEGER NOT NULL, key TEXT NOT NULL,
                    created_ms INTEGER NOT NULL, headers TEXT NOT NULL, checksum_algorithm TEXT
                );
                CREATE INDEX uploads_by_key ON uploads(bucket_id, key, upload_id);
                CREATE TABLE parts (
                    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,
                    checksum TEXT NOT NULL, blob_file TEXT, blob_inline BLOB, modified_ms INTEGER NOT NULL,
                    PRIMARY KEY (upload_id, part_number)
                );
                """)
        }
        migrator.registerMigration("5-multipart-manifests") { db in
            // A completed multipart upload keeps its parts' blobs and lists them here instead of
            // writing the object a second time; versions.blob_file holds the manifest's name.
            try db.execute(sql: """
                CREATE TABLE manifest_parts (
                    manifest TEXT NOT NULL, seq INTEGER NOT NULL, size INTEGER NOT NULL,
                    blob_file TEXT, blob_inline BLOB, PRIMARY KEY (manifest, seq)
                );
                CREATE INDEX manifest_parts_blob ON manifest_parts(blob_file) WHERE blob_file IS NOT NULL;
                """)
        }
        migrator.registerMigration("6-parts-by-blob") { db in
            // Reference counts look blob files up in parts too (once per part file when a
            // multipart object goes); without this each lookup scanned every pending part.
            try db.execute(sql: "CREATE INDEX parts_blob ON parts(blob_file) WHERE blob_file IS NOT NULL")
        }
        migrator.registerMigration("7-device-creator") { db in
            // Who created an unassigned device: only they or the root may enable it, and each
            // user's unassigned devices are capped.
            try db.execute(sql: "ALTER TABLE mfa_devices ADD COLUMN creator TEXT")
        }
        migrator.registerMigration("8-completed-uploads") { db in
            // A CompleteMultipartUpload repeated for a just-completed upload answers as the first
            // did (a client whose answer was lost retries): which version it made, for a day.
            try db.execute(sql: """
                CREATE TABLE completed_uploads (
                    upload_id TEXT PRIMARY KEY, bucket_id INTEGER NOT NULL, key TEXT NOT NULL,
                    version_id TEXT NOT NULL, versioned INTEGER NOT NULL, completed_ms INTEGER NOT NULL
                );
                CREATE INDEX completed_uploads_time ON completed_uploads(completed_ms);
                """)
        }
        migrator.registerMigration("9-policies-and-groups") { db in
            // The access model: groups, inline policies of users and groups, customer managed
            // policies with their versions, attachments (of customer or AWS managed policies),
            // bucket policies, and when a session's MFA code was checked (aws:MultiFactorAuthAge).
            try db.execute(sql: """
                CREATE TABLE iam_groups (
                    name TEXT PRIMARY KEY, group_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, created_ms INTEGER NOT NULL
                );
                CREATE TABLE group_members (
                    group_name TEXT NOT NULL, user_name TEXT NOT NULL, PRIMARY KEY (group_name, user_name)
                );
                CREATE INDEX group_members_user ON group_members(user_name);
                CREATE TABLE inline_policies (
                    owner_kind TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,
                    PRIMARY KEY (owner_kind, owner, name)
                );
                CREATE TABLE managed_policies (
                    arn TEXT PRIMARY KEY, name TEXT NOT NULL, policy_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
                    description TEXT NOT NULL, default_version TEXT NOT NULL, next_version INTEGER NOT NULL,
                    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL
                );
                CREATE TABLE policy_versions (
                    arn TEXT NOT NULL, version_id TEXT NOT NULL, document TEXT NOT NULL, created_ms INTEGER NOT NULL,
                    PRIMARY KEY (arn, version_id)
                );
                CREATE TABLE policy_attachments (
                    owner_kind TEXT NOT NULL, owner TEXT NOT NULL, arn TEXT NOT NULL, PRIMARY KEY (owner_kind, owner, arn)
                );
                CREATE INDEX policy_attachments_arn ON policy_attachments(arn);
                CREATE TABLE bucket_policies (bucket_id INTEGER PRIMARY KEY, document TEXT NOT NULL);
                ALTER TABLE sessions ADD COLUMN authenticated_ms INTEGER;
                """)
        }
        migrator.registerMigration("10-login-profiles") { db in
            // Console passwords of IAM users (scrypt hashes), the hashes of their earlier passwords
            // under one salt per user (reuse prevention costs one derivation, not one per entry).
            try db.execute(sql: """
                CREATE TABLE login_profiles (
                    user_name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, history_salt BLOB NOT NULL,
                    reset_required INTEGER NOT NULL, created_ms INTEGER NOT NULL, changed_ms INTEGER NOT NULL
                );
                CREATE TABLE password_history (
                    user_name TEXT NOT NULL, digest BLOB NOT NULL, changed_ms INTEGER NOT NULL
                );
                CREATE INDEX password_history_user ON password_history(user_name, changed_ms);
                """)
        }
        migrator.registerMigration("11-console-sessions") { db in
            // Console sign-ins: the SHA-256 of the cookie's token (never the token), who, which
            // step of the sign-in the session has reached, and when its MFA code was checked.
            try db.execute(sql: """
                CREATE TABLE console_sessions (
                    token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, stage TEXT NOT NULL,
                    csrf TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
                    mfa_ms INTEGER, source TEXT
                );
                CREATE INDEX console_sessions_user ON console_sessions(user_name);
                CREATE INDEX console_sessions_expiry ON console_sessions(expires_ms);
                """)
        }
        migrator.registerMigration("12-security-keys") { db in
            // WebAuthn credentials: the device row (kind u2f; its public key where a seed would be,
            // its signature counter as the last step) plus the credential id and attestation format.
            // Challenges are single use: taking one deletes it.
            try db.execute(sql: """
                CREATE TABLE security_keys (
                    serial TEXT PRIMARY KEY, credential_id BLOB NOT NULL UNIQUE, format TEXT NOT NULL
                );
                CREATE TABLE webauthn_challenges (
                    challenge TEXT PRIMARY KEY, purpose TEXT NOT NULL, user_name TEXT NOT NULL,
                    session_hash TEXT NOT NULL, expires_ms INTEGER NOT NULL
                );
                CREATE INDEX webauthn_challenges_session ON webauthn_challenges(session_hash, purpose);
                CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges(expires_ms);
                """)
        }
        migrator.registerMigration("13-access-key-usage") { db in
            // When each access key last signed a request, where (GetAccessKeyLastUsed), at most
            // one write per key an hour. Its own table: a write here leaves the key caches warm.
            try db.execute(sql: """
                CREATE TABLE access_key_usage (
                    access_key TEXT PRIMARY KEY, used_ms INTEGER NOT NULL, service TEXT NOT NULL, region TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("14-sms") { db in
            // SMS devices: at most one live code per device, stored as a keyed MAC (never the
            // code), with its wrong tries; and every send, by user and by a keyed MAC of the phone
            // number, for the rate limits (counted here so that they hold across processes).
            try db.execute(sql: """
                CREATE TABLE sms_codes (
                    serial TEXT PRIMARY KEY, user_name TEXT NOT NULL, purpose TEXT NOT NULL, bound_to TEXT NOT NULL,
                    code_mac BLOB NOT NULL, expires_ms INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE sms_sends (
                    id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, user_name TEXT NOT NULL, phone_mac TEXT NOT NULL,
                    purpose TEXT NOT NULL, outcome TEXT NOT NULL
                );
                CREATE INDEX sms_sends_user ON sms_sends(user_name, time_ms);
                CREATE INDEX sms_sends_phone ON sms_sends(phone_mac, time_ms);
                CREATE INDEX sms_sends_time ON sms_sends(time_ms);
                """)
        }
        migrator.registerMigration("15-attempt-counters") { db in
            // Failed attempts that throttle guesses — sign-in passwords per (user, network) and per
            // network, ChangePassword per user — and the answers a pending sign-in has made: in the
            // database, so that a burst spread over several processes (or nodes) is bounded as on one.
            try db.execute(sql: """
                CREATE TABLE attempt_counters (
                    key TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL
                );
                CREATE INDEX attempt_counters_last ON attempt_counters(last_ms);
                ALTER TABLE console_sessions ADD COLUMN factor_tries INTEGER NOT NULL DEFAULT 0;
                """)
        }
        return migrator
    }
}

/// A write waited for another process's lock on the data folder longer than the busy timeout and
/// wrote nothing: the server answers `503 SlowDown` (S3) or `ServiceUnavailable` (IAM), which
/// clients retry.
public struct StoreBusy: Error, Equatable, Sendable {
    /// A cluster node lost its server while a COMMIT was on its way: the write may have committed.
    /// Still a 503 (the client retries), but what the write referenced (a staged blob) must stay;
    /// the orphan sweep removes it later if nothing does.
    public var mayHaveCommitted = false

    public init(mayHaveCommitted: Bool = false) {
        self.mayHaveCommitted = mayHaveCommitted
    }

    /// Whether what a failed write staged may be removed.
    public static func wroteNothing(_ error: any Error) -> Bool {
        !((error as? StoreBusy)?.mayHaveCommitted ?? false)
    }
}

extension Store {
    /// `EXPLAIN QUERY PLAN` of each statement, details joined (for tests that pin index use).
    public func queryPlans(_ statements: [String]) throws -> [String] {
        guard let sqlite else { return [] }
        return try sqlite.read { db in
            try statements.map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String? ?? "" }
                    .joined(separator: "; ")
            }
        }
    }
}
