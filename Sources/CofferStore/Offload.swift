import Dispatch

/// Runs blocking file work — fsyncs, renames, unlinks, copies — on threads of its own. Request
/// handlers run on the network event loops, which must never wait on the disk.
public enum Offload {
    private static let queue = DispatchQueue(label: "coffer.blocking-io", attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
