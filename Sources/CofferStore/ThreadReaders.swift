import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One read-only connection per thread, for single-statement reads on the request path.
///
/// `DatabasePool` hands its reader connections out under a lock and a barrier queue; with a
/// request on each event loop, every read made the two loops wait on each other (futex waits and
/// wake-ups, measured at more than two per GET). A connection owned by the calling thread needs
/// no coordination: SQLite's WAL lets any number of connections read beside the writer.
final class ThreadReaders: @unchecked Sendable {
    private var key = pthread_key_t()
    private let path: String
    /// Every connection made, kept alive here (threads hold unretained references) and closed
    /// together at shutdown.
    private let opened = Mutex<(queues: [DatabaseQueue], closed: Bool)>(([], false))

    init(path: String) {
        self.path = path
        // Keys are few (1,024 per process); each store holds one for its lifetime.
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
    }

    deinit {
        // glibc versions keys: a later key with the same number never sees this one's values.
        pthread_key_delete(key)
    }

    /// The calling thread's connection, opened on first use.
    func connection() throws -> DatabaseQueue {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<DatabaseQueue>.fromOpaque(raw).takeUnretainedValue()
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try opened.withLock { opened in
            guard !opened.closed else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "store closed") }
            opened.queues.append(queue)
        }
        pthread_setspecific(key, Unmanaged.passUnretained(queue).toOpaque())
        return queue
    }

    /// Closes every connection. Later reads fail (the connections stay allocated, so a thread's
    /// reference never dangles).
    func close() {
        opened.withLock { opened in
            opened.closed = true
            for queue in opened.queues { try? queue.close() }
        }
    }
}
