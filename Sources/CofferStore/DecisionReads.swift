import Synchronization

/// Reads made by a synchronous decision — a signature check, an authorization — that a request's
/// task resolves with `Store.resolving`.
///
/// Decisions are synchronous on purpose: the in-place GET path makes them on the event loop, and
/// they read only what the per-thread caches hold while nothing has been written. On a cluster
/// node a cache miss is a PostgreSQL round trip, which must not hold a thread. So inside
/// `resolving`, `Store.decisionRead` answers a miss by remembering the read and throwing
/// `Pending`; `resolving` then awaits the read (`MetadataEngine.asyncRead`) and runs the
/// decision again, which now finds the value here. A decision that swallowed the `Pending` (a
/// `try?`) is run again all the same: what counts is that a read was left pending.
///
/// A value read here is used only while the cache words it was read under have not moved, so a
/// value read before a concurrent write is never served after it (and never enters a cache with
/// the write's words).
final class DecisionReads: Sendable {
    @TaskLocal static var current: DecisionReads?

    /// Thrown out of a decision whose read is pending.
    struct Pending: Error {}

    struct Held: Sendable {
        var value: any Sendable
        var words: [UInt64]
    }

    private struct State: ~Copyable {
        var values: [String: Held] = [:]
        var pending: (@Sendable () async throws -> Void)?
        /// Set when the bound of rounds ran out: reads then block their thread, as outside `resolving`.
        var blocking = false
    }

    private let state = Mutex(State())

    var blocking: Bool { state.withLock { $0.blocking } }

    func held(_ key: String) -> Held? { state.withLock { $0.values[key] } }

    func keep(_ key: String, _ held: Held) { state.withLock { $0.values[key] = held } }

    /// The first pending read of a round (a decision stops at its first miss).
    func await(_ load: @escaping @Sendable () async throws -> Void) {
        state.withLock { if $0.pending == nil { $0.pending = load } }
    }

    func takePending() -> (@Sendable () async throws -> Void)? {
        state.withLock { state in
            defer { state.pending = nil }
            return state.pending
        }
    }

    func block() { state.withLock { $0.blocking = true } }

    /// Rounds before reads block: a decision reads at most a handful of values (a credential, a
    /// user's policies, a bucket's policy, whether a bucket exists), and a value goes stale only
    /// when a write lands between its read and its use.
    static let maxRounds = 16
}

extension Store {
    /// Runs a synchronous decision whose reads (`decisionRead`) suspend rather than block: see
    /// `DecisionReads`. On the data folder the reads are in memory and run in place.
    public func resolving<T>(_ decide: () throws -> T) async throws -> T {
        guard !engine.cachesObjects else { return try decide() }
        let reads = DecisionReads()
        return try await DecisionReads.$current.withValue(reads) {
            var rounds = 0
            while true {
                let outcome = Result { try decide() }
                guard let pending = reads.takePending() else { return try outcome.get() }
                rounds += 1
                if rounds >= DecisionReads.maxRounds { reads.block() } else { try await pending() }
            }
        }
    }

    /// A read made by a synchronous decision: in place on the data folder (and outside
    /// `resolving`); inside `resolving` on a cluster node, answered from the values `resolving`
    /// read, or left pending. `key` names what `body` reads (the same key, the same read).
    public func decisionRead<T: Sendable>(_ key: String,
                                          _ body: @escaping @Sendable (StoreTransaction) throws -> T) throws -> T {
        guard !engine.cachesObjects, let reads = DecisionReads.current, !reads.blocking else { return try engine.read(body) }
        let words = cacheWords()
        if let held = reads.held(key), held.words == words, let value = held.value as? DecisionValue<T> {
            return value.value
        }
        reads.await { [engine] in
            // The words before the read: a write that moves them after it makes the value unusable.
            let before = self.cacheWords()
            let value = try await engine.asyncRead(statement: false, body)
            reads.keep(key, DecisionReads.Held(value: DecisionValue(value: value), words: before))
        }
        throw DecisionReads.Pending()
    }

    /// The words every cluster cache checks: a value read while one was odd (a write under way)
    /// never matches, since the word is even again (and higher) once the write ends.
    private func cacheWords() -> [UInt64] {
        let generation = engine.generation
        return [generation.current(CacheDomain.access.rawValue), generation.current(CacheDomain.bucketPolicies.rawValue),
                generation.current(WriteGeneration.offWord)]
    }
}

/// A value as `DecisionReads` holds it (an optional stays one level deep).
private struct DecisionValue<T: Sendable>: Sendable {
    var value: T
}
