#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// A source of the current Unix time in whole seconds. Everything that needs "now" takes one,
/// so tests can drive time by hand.
public protocol UnixClock: Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    func now() -> Int64
}

/// The system's wall clock.
public struct SystemUnixClock: UnixClock {
    public init() {}
    public func now() -> Int64 { Int64(Date().timeIntervalSince1970.rounded(.down)) }
}

/// A clock that stands still until told to move: for tests and simulations.
public final class ManualUnixClock: UnixClock {
    private let current: Mutex<Int64>

    public init(_ seconds: Int64) { current = Mutex(seconds) }

    public func now() -> Int64 { current.withLock { $0 } }

    /// Sets the time.
    public func set(_ seconds: Int64) { current.withLock { $0 = seconds } }

    /// Moves the time forward (or back, with a negative value).
    public func advance(by seconds: Int64) { current.withLock { $0 += seconds } }
}
