import Dispatch
import GRDB
import Synchronization

/// Group commit: writes that arrive while a transaction is being committed wait and then share
/// the next one. Each runs in its own savepoint (so one that fails rolls back alone and does not
/// disturb the others), in arrival order on one connection (so later ones see earlier ones'
/// effects), and every caller is resumed only after the shared COMMIT — one fsync for the batch —
/// has succeeded. If the commit fails, every caller in the batch gets the error.
final class GroupCommit: Sendable {
    private typealias Job = @Sendable (Database) -> @Sendable () -> Void

    private let pool: DatabasePool
    private let generation: WriteGeneration
    private let queue = DispatchQueue(label: "coffer.group-commit")
    private let state = Mutex<(pending: [PendingJob], draining: Bool)>(([], false))
    static let maxBatch = 256

    private struct PendingJob: Sendable {
        /// Runs the work inside the transaction; returns what to do after the commit succeeded.
        let run: @Sendable (Database) -> @Sendable () -> Void
        /// Called instead when the transaction as a whole failed.
        let fail: @Sendable (any Error) -> Void
    }

    init(pool: DatabasePool, generation: WriteGeneration) {
        self.pool = pool
        self.generation = generation
    }

    /// `recover`, when given, runs right after `body` failed and its savepoint rolled back, in a
    /// savepoint of its own in the same transaction, before any other job: what it writes about
    /// the failure (a throttle counter) is seen by the very next job, in this process or another.
    /// The caller still gets `body`'s error.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T,
                            recover: (@Sendable (any Error, Database) throws -> Void)? = nil) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = PendingJob(
                run: { db in
                    var outcome: Result<T, any Error> = .failure(CancellationError())
                    do {
                        try db.inSavepoint {
                            outcome = .success(try body(db))
                            return .commit
                        }
                    } catch {
                        outcome = .failure(error)
                        if let recover {
                            do {
                                try db.inSavepoint {
                                    try recover(error, db)
                                    return .commit
                                }
                            } catch let recoveryError {
                                outcome = .failure(recoveryError)
                            }
                        }
                    }
                    let settled = outcome
                    return { continuation.resume(with: settled) }
                },
                fail: { continuation.resume(throwing: $0) })
            let start = state.withLock { state -> Bool in
                state.pending.append(job)
                if state.draining { return false }
                state.draining = true
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [PendingJob] in
                let taken = Array(state.pending.prefix(Self.maxBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            do {
                // Callers resume only after the write generation has moved on (see `WriteGeneration`).
                let resumptions = try generation.write(in: pool) { db in batch.map { $0.run(db) } }
                for resume in resumptions { resume() }
            } catch {
                for job in batch { job.fail(error) }
            }
        }
    }
}
