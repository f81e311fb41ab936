import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The cluster's metadata engine: PostgreSQL, shared by every node.
///
/// - Every write is one `SERIALIZABLE` transaction: PostgreSQL aborts one of two transactions
///   whose reads and writes overlap (SQLSTATE 40001), and the loser runs again from the start,
///   seeing the winner's commit. A TOTP step is therefore accepted once across all nodes, throttle
///   counters are checked and counted as on one node, and a key has one latest version. After
///   `maxAttempts` the caller gets `StoreBusy` (answered `503 SlowDown`), nothing written.
/// - Transaction bodies are synchronous and block on the wire, so they run on a pool of threads
///   of their own, never on Swift's cooperative threads or NIO's event loops.
/// - Connections go to the first listed host that answers and is not a standby. When that server
///   fails or turns read-only, idle connections are dropped and the next host is tried; until one
///   takes writes, requests answer 503 and the log says why (once per change).
/// - Caches: each commit sends, inside its transaction, a notification naming the cache words
///   it moved (`TableChanges`); every node listens and moves its own words, so identity and
///   policy caches go stale on every node within one notification's delay. Object lookups are
///   not cached at all: S3 promises read-after-write on every node.
final class PostgresEngine: MetadataEngine, @unchecked Sendable {
    let target: PostgresTarget
    let generation = WriteGeneration()
    let cachesObjects = false
    private let logger: Logger
    private let report: @Sendable (String) -> Void
    private let group: any EventLoopGroup
    private let threads: NIOThreadPool
    /// Request handlers' reads (`asyncRead`), apart from the writes, which may wait for locks.
    private let readThreads: NIOThreadPool
    private let idle = Mutex<[PostgresConnection]>([])
    private let preferredHost = Atomic<Int>(0)
    private let nextID = Atomic<Int>(1)
    private let lastProblem = Mutex<String?>(nil)
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let closed = Atomic<Bool>(false)
    static let maxAttempts = 12
    static let maxAttemptsHoldingLock = 100
    static let maxIdle = 32
    /// The words a cluster node's caches read.
    static let cachedWords: Set<Int> = [CacheDomain.access.rawValue, CacheDomain.bucketPolicies.rawValue]

    /// The notification channel of this database (and schema).
    let channel: String

    /// Shared by every PostgreSQL engine of the process (tests open many stores).
    private static let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// `report`: told (once per change) why writes pause and when they resume: the node's log.
    init(target: PostgresTarget, threads count: Int = 16, report: @escaping @Sendable (String) -> Void) throws {
        self.target = target
        self.report = report
        channel = "coffer_cache" + (target.schema.map { "_" + $0 } ?? "")
        var logger = Logger(label: "coffer.postgres")
        logger.logLevel = .critical
        self.logger = logger
        // Event loops of their own: a synchronous read blocks its caller until the answer arrives,
        // which must never be the loop that delivers it (the server's loops call in, too).
        group = Self.loops
        threads = NIOThreadPool(numberOfThreads: count)
        threads.start()
        readThreads = NIOThreadPool(numberOfThreads: count)
        readThreads.start()
        try migrate()
        startListening()
    }

    // MARK: Transactions

    func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T,
                            recover: (@Sendable (any Error, StoreTransaction) throws -> Void)?) async throws -> T {
        try await threads.runIfActive { try self.transaction(readOnly: false, body, recover: recover) }
    }

    func writeNow<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try transaction(readOnly: false, body, recover: nil)
    }

    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try transaction(readOnly: true, body, recover: nil)
    }

    func asyncRead<T: Sendable>(statement: Bool, _ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await readThreads.runIfActive { statement ? try self.readStatement(body) : try self.read(body) }
    }

    func readStatement<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        // One statement sees one snapshot without a transaction around it.
        try withRetries { connection in
            try body(StoreTransaction(sql: SQLDatabase(connection: PostgresSession(connection: connection, logger: logger))))
        }
    }

    /// Runs `body` in one transaction: `SERIALIZABLE` for writes, a `REPEATABLE READ` snapshot for
    /// reads. A write body's failure rolls everything back; with `recover`, the body's changes
    /// roll back to a savepoint and `recover` writes in the same transaction (a throttle counts
    /// the failure it judged).
    private func transaction<T>(readOnly: Bool, _ body: (StoreTransaction) throws -> T,
                                recover: ((any Error, StoreTransaction) throws -> Void)?) throws -> T {
        // The last attempt's `Settled` actions, and whether it settled: committed, or failed with
        // the body's own error (an attempt that runs again, or a commit whose fate is unknown, has not).
        var actions: [() -> Void] = []
        var settled = false
        do {
            let value = try withRetries { connection in
                try attempt(readOnly: readOnly, body, recover: recover, on: connection, actions: &actions, settled: &settled)
            }
            actions.forEach { $0() }
            return value
        } catch {
            if settled { actions.forEach { $0() } }
            throw error
        }
    }

    /// One attempt of `transaction`: its `Settled` actions left in `actions`, and `settled` set
    /// once it can no longer run again.
    private func attempt<T>(readOnly: Bool, _ body: (StoreTransaction) throws -> T,
                            recover: ((any Error, StoreTransaction) throws -> Void)?, on connection: PostgresConnection,
                            actions: inout [() -> Void], settled: inout Bool) throws -> T {
        let recorded = Settled.begin()
        defer { actions = Settled.end(restoring: recorded) }
        settled = false
        let session = PostgresSession(connection: connection, logger: logger)
        let store = StoreTransaction(sql: SQLDatabase(connection: session))
        // Sent with the body's first statement: one wait for both.
        session.sendSimple(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN ISOLATION LEVEL SERIALIZABLE")
        // A read nested in a write body (on another connection) leaves the write's record alone.
        let previous = TableChanges.current
        let changes = readOnly ? nil : TableChanges.begin()
        defer { if !readOnly { TableChanges.restore(previous) } }
        let outcome: Result<T, any Error>
        // Only what a node caches: identities and policies (object lookups are not cached on a
        // cluster node, so a PUT sends nothing — NOTIFY serialises commits).
        var moved: Set<Int> = []
        do {
            outcome = try run(body, recover: recover, on: session, store)
            moved = changes?.words().intersection(Self.cachedWords) ?? []
            if !moved.isEmpty {
                let payload = moved.sorted().map(String.init).joined(separator: ",")
                try session.run("SELECT pg_notify('\(channel)', ?)", [payload.databaseValue]) { _ in true }
            }
        } catch {
            // Whatever failed, the connection leaves with no transaction open.
            session.rollback()
            if error is PassThrough { settled = true }  // the body's own failure: it will not run again
            throw error
        }
        do {
            try session.simple("COMMIT")
        } catch let error where Self.isConnectionLost(error) && !readOnly {
            // Whether the commit happened is unknown: never run the body a second time.
            throw PassThrough(error: StoreBusy(mayHaveCommitted: true))
        } catch let error where !Self.mustRestart(error) && !Self.isReadOnly(error) && !Self.isConnectionLost(error) {
            // A statement sent unanswered failed on its own (a lock timeout, say), not in a
            // conflict: the body's failure, as it would have been had the body waited for it.
            settled = true
            throw PassThrough(error: error)
        }
        settled = true
        generation.move(moved)
        return try outcome.get()
    }

    /// The body, and on its failure (not one that restarts the transaction) `recover` after a
    /// rollback to the savepoint; without `recover`, the failure passes through unchanged.
    private func run<T>(_ body: (StoreTransaction) throws -> T, recover: ((any Error, StoreTransaction) throws -> Void)?,
                        on session: PostgresSession, _ store: StoreTransaction) throws -> Result<T, any Error> {
        if recover != nil { try session.simple("SAVEPOINT body") }
        do {
            let value = try body(store)
            // With a recovery, a statement sent and not answered fails inside the body, as one
            // waited for would (the COMMIT would otherwise be the first to hear of it).
            if recover != nil { try session.flush() }
            return .success(value)
        } catch let error where !Self.mustRestart(error) && !Self.isConnectionLost(error) && !Self.isReadOnly(error) {
            guard let recover else { throw PassThrough(error: error) }
            try session.simple("ROLLBACK TO SAVEPOINT body")
            try recover(error, store)
            return .failure(error)
        }
    }

    /// A body's own error, carried out of the retry loop unchanged.
    private struct PassThrough: Error {
        let error: any Error
    }

    /// Runs `work` on a connection, again when PostgreSQL asks for a restart (serialization
    /// failure, deadlock) or on a fresh connection when the server went away or turned read-only;
    /// `StoreBusy` after `maxAttempts`.
    ///
    /// The first attempt is optimistic. A transaction that lost a conflict runs again holding the
    /// cluster-wide retry lock (a session advisory lock, taken before its snapshot), so losers
    /// queue one behind another instead of colliding again: a hundred concurrent guesses at one
    /// device's code are all judged, in turn, rather than most ending in 503.
    private func withRetries<T>(_ work: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 0
        var conflicted = false
        var held: PostgresConnection?  // holds the retry lock
        defer {
            if let held {
                _ = try? PostgresSession(connection: held, logger: logger).advisory("pg_advisory_unlock", PostgresSchema.retryLockID)
                give(held)
            }
        }
        while true {
            attempt += 1
            let connection: PostgresConnection
            if let held {
                connection = held
            } else {
                do {
                    connection = try take()
                } catch {
                    guard attempt < Self.maxAttempts, !closed.load(ordering: .relaxed) else { throw StoreBusy() }
                    Thread.sleep(forTimeInterval: min(0.05 * Double(attempt), 0.5))
                    continue
                }
                if conflicted {
                    do {
                        try PostgresSession(connection: connection, logger: logger).advisory("pg_advisory_lock", PostgresSchema.retryLockID)
                        held = connection
                    } catch {
                        if Self.isConnectionLost(error) || Self.isReadOnly(error) {
                            discard(connection, dropIdle: true, reason: Self.describe(error))
                            guard attempt < Self.maxAttempts else { throw StoreBusy() }
                            continue
                        }
                        // The retry lock was not free within lock_timeout: the cluster is busy.
                        give(connection)
                        throw StoreBusy()
                    }
                }
            }
            do {
                let result = try work(connection)
                if held == nil { give(connection) }
                return result
            } catch let carried as PassThrough {
                if !StoreBusy.wroteNothing(carried.error) {
                    // The connection went silent or away at COMMIT: it is not reused.
                    held = nil
                    discard(connection, dropIdle: true, reason: "no answer to COMMIT")
                } else if held == nil {
                    give(connection)
                }
                throw Self.translated(carried.error)
            } catch {
                if Self.isConnectionLost(error) || Self.isReadOnly(error) {
                    if held != nil { held = nil }  // the server released the lock with the session
                    discard(connection, dropIdle: true, reason: Self.describe(error))
                } else if Self.mustRestart(error) {
                    conflicted = true
                    if held == nil { give(connection) }
                } else {
                    if held == nil { give(connection) }
                    throw Self.translated(error)
                }
                // Under the lock, a transaction loses only to first attempts already running, each
                // of which then queues behind it: a bound of its own, far above what a burst takes.
                guard attempt < (held == nil ? Self.maxAttempts : Self.maxAttemptsHoldingLock) else { throw StoreBusy() }
                // Jittered, growing pauses: two nodes that conflicted do not meet again at once.
                if held == nil { Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.004) * Double(attempt)) }
            }
        }
    }

    /// Runs `body` while holding the cluster-wide advisory lock `id`, or not at all when another
    /// node holds it.
    func exclusively(_ id: Int64, _ body: () throws -> Void) throws {
        let connection = try take()
        let session = PostgresSession(connection: connection, logger: logger)
        var locked = false
        var healthy = false
        defer {
            if locked { _ = try? session.advisory("pg_advisory_unlock", id) }
            if healthy { give(connection) } else { Self.close(connection) }
        }
        locked = try session.advisory("pg_try_advisory_lock", id)
        healthy = true
        if locked { try body() }
    }

    // MARK: Errors

    static func sqlState(_ error: any Error) -> String? {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] }
        // A prepared statement's failure arrives in postgres-nio's older error type.
        if case .server(let server) = error as? PostgresError { return server.fields[.sqlState] }
        return nil
    }

    /// Serialization failure, deadlock, or a unique violation: the transaction must run again from
    /// the start. A unique violation here is a concurrent transaction's insert of the same key (two
    /// first PUTs of one key both add its latest version): PostgreSQL reports it as 40001 only when
    /// this transaction read the key's absence through that same unique index, and a PUT reads
    /// through the hash indexes (`StoreTransaction.sameKey`). Run again, it sees the other's row;
    /// every uniqueness the store relies on is checked by its code before the insert, so a
    /// violation that is not a race answers as that check does.
    static func mustRestart(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return state == "40001" || state == "40P01" || state == "23505"
    }

    static func isReadOnly(_ error: any Error) -> Bool {
        sqlState(error) == "25006"
    }

    static func isConnectionLost(_ error: any Error) -> Bool {
        if let state = sqlState(error) {
            // admin_shutdown, crash_shutdown, cannot_connect_now, connection exceptions
            return state.hasPrefix("57P") || state.hasPrefix("08")
        }
        if let error = error as? PSQLError {
            return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown]
                .contains(error.code)
        }
        switch error as? PostgresError {
        case .connectionClosed: return true
        case .protocol(let message): return message == "Unexpected connection close"
        case .server, nil: break
        }
        return error is ChannelError || error is IOError || error is PostgresSilent
    }

    /// PostgreSQL's "disk full" is a blob write's ENOSPC: 507.
    static func translated(_ error: any Error) -> any Error {
        if sqlState(error) == "53100" { return BlobError.noSpace }
        if sqlState(error) == "55P03" || sqlState(error) == "57014" { return StoreBusy() }  // a lock or statement timed out
        return error
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        if case .server(let server) = error as? PostgresError, let message = server.fields[.message] { return message }
        return "\(error)"
    }

    // MARK: Connections

    private func take() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        return try connectWritable()
    }

    private func give(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < Self.maxIdle else { return false }
            idle.append(connection)
            return true
        }
        if !kept { Self.close(connection) }
    }

    private func discard(_ connection: PostgresConnection, dropIdle: Bool, reason: String) {
        Self.close(connection)
        if dropIdle {
            for other in takeIdle() { Self.close(other) }
        }
        problem("metadata: lost the PostgreSQL server (\(reason)); reconnecting")
    }

    /// Logs a pause once, and its end.
    private func problem(_ message: String?) {
        let changed = lastProblem.withLock { last -> Bool in
            defer { last = message }
            return last != message
        }
        guard changed else { return }
        if let message {
            report(message)
        } else {
            report("metadata: writing to PostgreSQL \(target.hosts[preferredHost.load(ordering: .relaxed)].name):\(target.hosts[preferredHost.load(ordering: .relaxed)].port) again")
        }
    }

    /// A connection to the first host (from the one that last worked) that accepts writes.
    private func connectWritable() throws -> PostgresConnection {
        var reasons: [String] = []
        let count = target.hosts.count
        let start = preferredHost.load(ordering: .relaxed)
        for offset in 0..<count {
            let index = (start + offset) % count
            let host = target.hosts[index]
            do {
                let connection = try connect(to: host)
                let inRecovery: Bool
                do {
                    inRecovery = try connection.query("SELECT pg_is_in_recovery()", logger: logger).blockingResult()
                        .first.map { try $0.decode(Bool.self) } ?? true
                    // No lock (a row, the retry lock) is waited for longer than this: then 503.
                    try connection.query("SET lock_timeout = '10s'", logger: logger).blockingResult()
                } catch {
                    Self.close(connection)
                    throw error
                }
                if inRecovery {
                    Self.close(connection)
                    reasons.append("\(host.name):\(host.port) is a standby (read-only)")
                    continue
                }
                preferredHost.store(index, ordering: .relaxed)
                problem(nil)
                return connection
            } catch {
                reasons.append("\(host.name):\(host.port): \(Self.describe(error))")
            }
        }
        problem("metadata: no PostgreSQL server takes writes (\(reasons.joined(separator: "; "))); requests answer 503 until one does")
        throw StoreBusy()
    }

    /// Closes in the background, keeping the connection alive until it is closed.
    static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func connect(to host: PostgresTarget.Host) throws -> PostgresConnection {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        return try PostgresConnection.connect(on: group.next(), configuration: Self.configuration(target, host), id: id,
                                              logger: logger).blockingResult()
    }

    static func configuration(_ target: PostgresTarget, _ host: PostgresTarget.Host) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(host: host.name, port: host.port, username: target.user,
                                                             password: target.password, database: target.database,
                                                             tls: .disable)
        configuration.options.connectTimeout = .seconds(2)
        // The server notices a node that vanished (its locks and transaction go with the session)
        // within seconds, not the kernel's two hours; a transaction left open is ended after a minute.
        var parameters = [("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"), ("tcp_keepalives_count", "3"),
                          ("idle_in_transaction_session_timeout", "60000")]
        if let schema = target.schema { parameters.append(("search_path", schema)) }
        configuration.options.additionalStartupParameters = parameters
        return configuration
    }

    // MARK: Schema

    private func migrate() throws {
        let connection = try withStartupRetries { try connectWritable() }
        defer { try? connection.close().blockingResult() }
        let session = PostgresSession(connection: connection, logger: logger)
        try session.advisory("pg_advisory_lock", PostgresSchema.lockID)
        defer { _ = try? session.advisory("pg_advisory_unlock", PostgresSchema.lockID) }
        if let schema = target.schema {
            guard schema.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }),
                  (1...63).contains(schema.utf8.count)
            else { throw PostgresTarget.Invalid(description: "schema \(schema): a-z, 0-9 and _ only") }
            try session.simple("CREATE SCHEMA IF NOT EXISTS \(schema)")
        }
        try session.simple("CREATE TABLE IF NOT EXISTS coffer_schema (name TEXT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
        var applied: Set<String> = []
        try session.run("SELECT name FROM coffer_schema", []) { row in
            if let name: String = row[0] { applied.insert(name) }
            return true
        }
        for migration in PostgresSchema.migrations where !applied.contains(migration.name) {
            try session.simple("BEGIN")
            do {
                // One statement per query: the extended protocol takes no more.
                for statement in migration.sql.components(separatedBy: ";\n") where !statement.allSatisfy(\.isWhitespace) {
                    try session.simple(statement)
                }
                try session.run("INSERT INTO coffer_schema(name, applied_ms) VALUES (?, ?)",
                                [migration.name.databaseValue, Int64(Date().timeIntervalSince1970 * 1000).databaseValue]) { _ in true }
                try session.simple("COMMIT")
            } catch {
                session.rollback()
                throw error
            }
        }
    }

    /// At start-up a server may still be starting or promoting: try for 10 seconds.
    private func withStartupRetries<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(10)
        while true {
            do {
                return try body()
            } catch where Date() < deadline {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    // MARK: Cache notifications

    /// Listens for other nodes' commits on a connection of its own. While it is not listening,
    /// every cache is off (a missed notification would leave a stale entry); once listening
    /// again, every word moves.
    private func startListening() {
        let generation = generation
        let (target, channel, logger) = (target, channel, logger)
        // Holds no reference to the engine: a store dropped without close() still goes (its
        // deinit cancels this task, which ends the LISTEN and closes its connection).
        let task = Task.detached {
            generation.cachingOff(true)  // until the first LISTEN holds
            while !Task.isCancelled {
                if let connection = await Self.listeningConnection(target: target, logger: logger) {
                    try? await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await connection.listen(on: channel) { notifications in
                                generation.move(WriteGeneration.allWords)
                                generation.cachingOff(false)
                                for try await notification in notifications {
                                    generation.move(Self.words(notification.payload))
                                }
                            }
                        }
                        // A connection whose server vanished without a word would leave the
                        // caches on and never moved: it must answer a ping every 5 seconds.
                        group.addTask {
                            while true {
                                try await Task.sleep(for: .seconds(5))
                                try await withThrowingTaskGroup(of: Void.self) { ping in
                                    ping.addTask { _ = try await connection.query("SELECT 1", logger: logger).collect() }
                                    ping.addTask {
                                        try await Task.sleep(for: .seconds(3))
                                        throw PostgresSilent()
                                    }
                                    try await ping.next()
                                    ping.cancelAll()
                                }
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                    generation.cachingOff(true)
                    try? await connection.close()
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        listener.withLock { $0 = task }
    }

    /// A connection to the first host that is not a standby, for LISTEN.
    private static func listeningConnection(target: PostgresTarget, logger: Logger) async -> PostgresConnection? {
        for host in target.hosts {
            guard let connection = try? await PostgresConnection.connect(
                on: loops.next(), configuration: configuration(target, host), id: 0, logger: logger) else { continue }
            if let rows = try? await connection.query("SELECT pg_is_in_recovery()", logger: logger).collect(),
               let inRecovery = try? rows.first?.decode(Bool.self), !inRecovery {
                return connection
            }
            try? await connection.close()
        }
        return nil
    }

    /// The words a notification names (all of them when it cannot be read).
    static func words(_ payload: String) -> Set<Int> {
        var words: Set<Int> = []
        for item in payload.split(separator: ",") {
            guard let word = Int(item), (0..<(WriteGeneration.firstKeySlot + WriteGeneration.keySlots)).contains(word) else {
                return WriteGeneration.allWords
            }
            words.insert(word)
        }
        return words
    }

    /// A store dropped without `close()` (tests) still closes its connections and threads.
    deinit {
        for connection in stop() { Self.close(connection) }
        threads.shutdownGracefully { _ in }
        readThreads.shutdownGracefully { _ in }
    }

    func close() throws {
        for connection in stop() { try? connection.close().blockingResult() }
        try? threads.syncShutdownGracefully()
        try? readThreads.syncShutdownGracefully()
    }

    /// Refuses new work, ends the LISTEN, and hands over the idle connections to close.
    private func stop() -> [PostgresConnection] {
        closed.store(true, ordering: .relaxed)
        listener.withLock { $0?.cancel() }
        return takeIdle()
    }

    private func takeIdle() -> [PostgresConnection] {
        idle.withLock { idle in
            defer { idle.removeAll() }
            return idle
        }
    }
}

/// One PostgreSQL connection as a `SQLConnection`: SQLite's `?`/`?NNN` parameters become `$N`,
/// values travel as int8, float8, text or bytea, and each write statement's table is recorded
/// for the caches (`TableChanges`), as SQLite's observer does for the embedded store.
struct PostgresSession: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    /// Statements sent without waiting for their answers (`send`), oldest first.
    private let unanswered = Unanswered()
    var isPostgres: Bool { true }

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Answers not waited for yet. PostgreSQL answers one connection's statements in order, so
    /// they are all in once a later statement's answer is.
    private final class Unanswered {
        var futures: [EventLoopFuture<Answer>] = []
    }

    /// A statement's rows, and how many rows it changed (0 for a query, or for a statement
    /// sent without waiting: nobody reads it).
    struct Answer: Sendable {
        var rows: [PostgresRow]
        var changed: Int
    }

    /// One of PostgreSQL's advisory-lock functions on `id`; what it returned, when it returns a boolean
    /// (`pg_try_advisory_lock`, `pg_advisory_unlock`).
    @discardableResult
    func advisory(_ function: String, _ id: Int64) throws -> Bool {
        var result = false
        try run("SELECT \(function)(?)", [id.databaseValue]) { row in
            // pg_advisory_lock returns void (an empty text here): only a boolean counts.
            if case .int64(let value) = row.value(at: 0).storage { result = value != 0 }
            return false
        }
        return result
    }

    /// A statement without parameters or results (BEGIN, COMMIT, DDL).
    func simple(_ sql: String) throws {
        _ = try answer(unnamed(PostgresQuery(unsafeSQL: sql)))
    }

    /// `simple` without waiting for the answer (a transaction's BEGIN): a failure surfaces at the
    /// next statement that is waited for.
    func sendSimple(_ sql: String) {
        unanswered.futures.append(unnamed(PostgresQuery(unsafeSQL: sql)))
    }

    /// Sends a statement whose answer nobody reads, without waiting for it: the next statement
    /// follows at once, and the thread waits for both answers together. A failure surfaces at the
    /// next statement that is waited for (at the latest, the COMMIT: `flush`), as that
    /// statement's failure, so PostgreSQL's verdict on the transaction is never lost.
    func send(_ sql: String, _ arguments: [DatabaseValue]) throws {
        unanswered.futures.append(try statement(sql, arguments, counted: false))
    }

    /// Waits for every statement sent and not yet answered; throws the first one's failure.
    func flush() throws {
        let futures = unanswered.futures
        unanswered.futures.removeAll()
        for future in futures { _ = try future.blockingResult() }
    }

    /// `future`'s answer, after the answers to the statements sent before it: the first failure
    /// among them is the one thrown (the later ones only say the transaction had failed).
    private func answer(_ future: EventLoopFuture<Answer>) throws -> Answer {
        let result = Result { try future.blockingResult() }
        if case .failure(let error) = result, PostgresEngine.isConnectionLost(error) {
            // A connection that went silent or away is that, whatever failed before: it must
            // not go back to the pool.
            try? flush()
            throw error
        }
        try flush()
        return try result.get()
    }

    private func unnamed(_ query: PostgresQuery) -> EventLoopFuture<Answer> {
        connection.query(query, logger: logger).map { Answer(rows: $0.rows, changed: $0.metadata.rows ?? 0) }
    }

    /// Sends one statement: parameters numbered, values bound by type, the table it changes
    /// recorded for the caches. A query, or a statement whose count nobody reads (`counted`
    /// false), runs as a statement prepared once per connection (`PostgresPrepared`): PostgreSQL
    /// then parses it once, not at every run. Others run unnamed, which reports the count.
    private func statement(_ sql: String, _ arguments: [DatabaseValue], counted: Bool) throws -> EventLoopFuture<Answer> {
        let statement = PostgresStatements.translated(sql)
        if let table = statement.table, let changes = TableChanges.current {
            changes.record(table: table, nextSequenceOnly: statement.nextSequenceOnly)
        }
        // Statements with long argument lists (the sweep's `IN (…)` batches) vary in length:
        // prepared, each length would take a place of its own.
        if !counted || statement.isQuery, arguments.count <= PostgresPrepared.maxArguments {
            let bound = PostgresPrepared.bind(sql, arguments)
            let (known, room) = PostgresPrepared.lookUp(bound.signature, on: connection)
            if let known {
                // Sent from this thread, as every other statement is: in the order they were sent.
                return known.execute(bound.values).map { Answer(rows: $0, changed: 0) }
            }
            if room {
                // Prepared once, waited for: a statement sent after this one must not overtake
                // it. A preparation that fails because an earlier statement failed reports that one.
                let preparing = Result { try connection.prepare(query: bound.sql).blockingResult() }
                try flush()
                let query = try preparing.get()
                PostgresPrepared.remember(query, as: bound.signature, on: connection)
                return query.execute(bound.values).map { Answer(rows: $0, changed: 0) }
            }
            // No room left on this connection: unnamed, as below (its declared types are the casts).
        }
        var binds = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value.storage {
            case .null: binds.appendNull()
            case .int64(let number): binds.append(number)
            case .double(let number): binds.append(number)
            case .string(let text): binds.append(text)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
        }
        return unnamed(PostgresQuery(unsafeSQL: statement.sql, binds: binds))
    }

    @discardableResult
    func run(_ sql: String, _ arguments: [DatabaseValue], onRow: (SQLRow) throws -> Bool) throws -> Int {
        let result = try answer(try statement(sql, arguments, counted: true))
        var columns: [String]?
        for row in result.rows {
            var values: [DatabaseValue] = []
            values.reserveCapacity(row.count)
            if columns == nil { columns = row.map(\.columnName) }
            for cell in row { values.append(try Self.value(of: cell)) }
            if try !onRow(SQLRow(values: values, columns: columns ?? [])) { break }
        }
        return result.changed
    }

    static func value(of original: PostgresCell) throws -> DatabaseValue {
        guard original.bytes != nil else { return .null }
        // Every statement runs on the extended protocol, which asks for binary rows; a prepared
        // statement's row description (postgres-nio 1.33's `prepare(query:)`) still says text.
        var cell = original
        cell.format = .binary
        switch cell.dataType {
        case .int8, .int4, .int2: return try cell.decode(Int64.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? Int64(1) : 0).databaseValue
        case .bytea: return Data(buffer: try cell.decode(ByteBuffer.self)).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .numeric:
            // SUM and AVG of integers: read back as an integer when whole.
            let text = try cell.decode(String.self)
            if let integer = Int64(text) { return integer.databaseValue }
            return (Double(text) ?? 0).databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }
}

/// Statements prepared once per connection (PostgreSQL's extended protocol: a named Parse, then
/// only Bind and Execute), so that the server parses each of the store's statements once per
/// connection instead of at every run: a PUT's statements cost PostgreSQL about half the CPU.
///
/// A statement is prepared per kind of its arguments (integer, real, text, bytes, NULL), each
/// parameter cast to the type the value is bound as — the types an unnamed statement declares —
/// so a prepared statement means exactly what the unnamed one did. NULL arguments are left to
/// PostgreSQL to infer. At most `limit` statements per connection (each costs its server process
/// a few kilobytes, a generic plan included); the rest run unnamed. The statements of the hot
/// paths (PUT, GET, listings, the signature's and policies' lookups) come first and stay.
enum PostgresPrepared {
    static let limit = 128
    static let maxArguments = 32

    /// A connection's prepared statements, while that connection is open: the entry goes when
    /// the connection closes, for whatever reason (a `PreparedQuery` holds its connection).
    private final class Statements: @unchecked Sendable {
        let connection: PostgresConnection
        var prepared: [String: PreparedQuery] = [:]
        init(_ connection: PostgresConnection) { self.connection = connection }
    }

    private static let registry = Mutex<[ObjectIdentifier: Statements]>([:])

    /// A statement bound to `arguments`: its key among the prepared ones (the SQL and the kind of
    /// each argument), the text to prepare (each parameter cast to its value's type), the values.
    struct Bound {
        let signature: String
        let statement: String
        let casts: [String?]
        let values: [PostgresData]
        /// The text to prepare: built only when a statement is prepared, not at every run.
        var sql: String { PostgresStatements.numbered(statement, casts: casts) }
    }

    static func bind(_ sql: String, _ arguments: [DatabaseValue]) -> Bound {
        var signature = sql
        signature.reserveCapacity(sql.utf8.count + arguments.count + 1)
        signature.append("\u{0}")
        var casts: [String?] = []
        casts.reserveCapacity(arguments.count)
        var values: [PostgresData] = []
        values.reserveCapacity(arguments.count)
        for value in arguments {
            switch value.storage {
            case .null: signature.append("n"); casts.append(nil); values.append(.null)
            case .int64(let number): signature.append("i"); casts.append("int8"); values.append(PostgresData(int64: number))
            case .double(let number): signature.append("d"); casts.append("float8"); values.append(PostgresData(double: number))
            case .string(let text): signature.append("t"); casts.append("text"); values.append(PostgresData(string: text))
            case .blob(let data):
                signature.append("b"); casts.append("bytea")
                values.append(PostgresData(type: .bytea, formatCode: .binary, value: ByteBuffer(bytes: data)))
            }
        }
        return Bound(signature: signature, statement: sql, casts: casts, values: values)
    }

    /// The statement prepared on `connection` for `signature`; nil, with `room` false when the
    /// connection holds `limit` already (the statement then runs unnamed).
    static func lookUp(_ signature: String, on connection: PostgresConnection) -> (query: PreparedQuery?, room: Bool) {
        registry.withLock { registry in
            let id = ObjectIdentifier(connection)
            guard let statements = registry[id], statements.connection === connection else { return (nil, true) }
            return (statements.prepared[signature], statements.prepared.count < limit)
        }
    }

    static func remember(_ query: PreparedQuery, as signature: String, on connection: PostgresConnection) {
        let id = ObjectIdentifier(connection)
        let added = registry.withLock { registry -> Bool in
            if let statements = registry[id], statements.connection === connection {
                statements.prepared[signature] = query
                return false
            }
            let statements = Statements(connection)
            statements.prepared[signature] = query
            registry[id] = statements
            return true
        }
        // Registered outside the lock: a connection closed already runs this at once.
        if added {
            connection.closeFuture.whenComplete { _ in
                registry.withLock { registry in
                    if registry[id]?.connection === connection { registry[id] = nil }
                }
            }
        }
    }
}

/// SQLite-dialect statements as PostgreSQL runs them, translated once each.
enum PostgresStatements {
    struct Statement: Sendable {
        let sql: String
        /// The table an INSERT, UPDATE or DELETE changes.
        let table: String?
        /// An UPDATE of `buckets.next_seq` alone (caches keep what they hold).
        let nextSequenceOnly: Bool
        /// A SELECT: what it returns is its rows, never a count of changed ones.
        let isQuery: Bool
    }

    private static let cache = Mutex<[String: Statement]>([:])

    static func translated(_ sql: String) -> Statement {
        if let known = cache.withLock({ $0[sql] }) { return known }
        let statement = Statement(sql: numbered(sql), table: changedTable(sql),
                                  nextSequenceOnly: sql.contains("SET next_seq = next_seq + 1") && !sql.contains(","),
                                  isQuery: sql.split(maxSplits: 1, whereSeparator: \.isWhitespace).first?.uppercased() == "SELECT")
        cache.withLock { cache in
            if cache.count > 4096 { cache.removeAll() }  // statements are few; built ones vary a little
            cache[sql] = statement
        }
        return statement
    }

    /// `?` and `?NNN` to `$N` (a bare `?` takes the largest number so far plus one, as in
    /// SQLite), outside quoted strings and identifiers.
    static func numbered(_ sql: String, casts: [String?] = []) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var highest = 0
        var quote: Character?
        var characters = sql[...]
        while let character = characters.popFirst() {
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.append(character)
            case "?":
                let digits = characters.prefix(while: \.isASCII).prefix(while: \.isNumber)
                let number: Int
                if let given = Int(digits), !digits.isEmpty {
                    characters = characters.dropFirst(digits.count)
                    highest = max(highest, given)
                    number = given
                } else {
                    highest += 1
                    number = highest
                }
                output += "$\(number)"
                if number >= 1, number <= casts.count, let cast = casts[number - 1] { output += "::\(cast)" }
            default:
                output.append(character)
            }
        }
        return output
    }

    /// The table after `INSERT INTO`, `UPDATE` or `DELETE FROM` at the start of the statement.
    static func changedTable(_ sql: String) -> String? {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "(" }).prefix(4).map { $0.uppercased() }
        guard let first = words.first else { return nil }
        func word(_ index: Int) -> String? {
            index < words.count ? words[index].lowercased() : nil
        }
        switch first {
        case "INSERT": return words.count > 2 && words[1] == "INTO" ? word(2) : nil
        case "UPDATE": return word(1)
        case "DELETE": return words.count > 2 && words[1] == "FROM" ? word(2) : nil
        default: return nil
        }
    }
}

extension EventLoopFuture where Value: Sendable {
    /// Blocks the calling thread until the future completes. NIO's `wait()` refuses to run on any
    /// event loop; the store's synchronous reads are called from the server's loops too, and
    /// block them only until PostgreSQL answers — on loops of the engine's own (`PostgresEngine.loops`),
    /// never the caller's, so the answer always arrives.
    ///
    /// After `timeout` seconds it gives up with `PostgresSilent` (the connection is then dropped):
    /// a query sent just as its server died has been seen never to complete.
    func blockingResult(timeout: Double = 30) throws -> Value {
        let done = DispatchSemaphore(value: 0)
        let box = Mutex<Result<Value, any Error>?>(nil)
        whenComplete { result in
            box.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { throw PostgresSilent() }
        return try box.withLock { $0! }.get()
    }
}

/// A query got no answer in time: its connection is treated as lost.
struct PostgresSilent: Error {}

extension PostgresSession {
    /// Ends a failed transaction, briefly: on a connection that is going, nothing is waited for.
    func rollback() {
        guard !connection.isClosed else { return }
        _ = try? connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: logger).blockingResult(timeout: 2)
    }
}
