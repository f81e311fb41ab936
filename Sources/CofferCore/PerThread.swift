import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One `Value` per thread, made on the thread's first use: state the request path touches on
/// every request — caches, counters — without a lock and without a reference count shared by the
/// event loops (two threads retaining one object keep moving its cache line between cores, a cost
/// that grows with the distance between them and shows on some machines and not others).
public final class PerThread<Value: AnyObject>: @unchecked Sendable {
    private var key = pthread_key_t()
    private let make: @Sendable () -> Value
    /// Every value made, for readers that sum over threads (`all`); kept alive here.
    private var made: [Value] = []
    private let madeLock = Mutex(())

    public init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
        // Keys are few (1,024 per process); each holder keeps one for its lifetime.
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
    }

    deinit { pthread_key_delete(key) }

    /// The calling thread's value.
    @inline(__always)
    public var value: Value {
        if let raw = pthread_getspecific(key) { return Unmanaged<Value>.fromOpaque(raw).takeUnretainedValue() }
        return makeForThisThread()
    }

    private func makeForThisThread() -> Value {
        let value = make()
        madeLock.withLock { _ in made.append(value) }
        pthread_setspecific(key, Unmanaged.passUnretained(value).toOpaque())
        return value
    }

    /// Every thread's value (their contents may be changing: read them with atomics).
    public var all: [Value] { madeLock.withLock { _ in made } }
}
