import Crypto
import Foundation
import TOTP

/// Micro-benchmarks for `scripts/bench-totp`. Prints one `name ns_per_op ops_per_second` line each.
@main
struct CofferBench {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "mfa" {
            try await MFABench.run(count: Int(arguments.dropFirst().first ?? "2000") ?? 2000)
            return
        }
        let seconds = Double(arguments.first ?? "2") ?? 2
        let secret = Array("12345678901234567890".utf8)
        let parameters = try TOTPParameters(secret: secret)
        let now: Int64 = 1_763_900_000
        let step = parameters.step(at: now)
        let code = parameters.code(step: step)
        let wrong = parameters.code(step: step + 7)

        // A check with the ±1 window and the replay floor, accepting (the common case)…
        report("verify_accept_window1", measure(seconds) {
            if case .accepted(let matched) = TOTPVerifier.verify(code: code, parameters: parameters, at: now,
                                                                 window: 1, lastAcceptedStep: step - 1) {
                return Int(truncatingIfNeeded: matched)
            }
            return 0
        })
        // …and refusing a wrong code (every candidate is computed either way).
        report("verify_reject_window1", measure(seconds) {
            TOTPVerifier.verify(code: wrong, parameters: parameters, at: now, window: 1,
                                lastAcceptedStep: step - 1) == .rejected(.noMatch) ? 1 : 0
        })
        // The raw cost it is compared to: three HMAC-SHA1 over an 8-byte counter, key given.
        let key = SymmetricKey(data: secret)
        var counters = [[UInt8]](repeating: [], count: 3)
        for index in 0..<3 {
            counters[index] = withUnsafeBytes(of: UInt64(step - 1 + Int64(index)).bigEndian) { Array($0) }
        }
        report("raw_3x_hmac_sha1_8_bytes", measure(seconds) {
            var sink = 0
            for counter in counters {
                let tag = HMAC<Insecure.SHA1>.authenticationCode(for: counter, using: key)
                sink &+= tag.withUnsafeBytes { Int($0[0]) }
            }
            return sink
        })
    }

    /// Runs `body` in batches until `seconds` have passed; returns nanoseconds per call.
    static func measure(_ seconds: Double, _ body: () -> Int) -> Double {
        var sink = 0
        for _ in 0..<2_000 { sink &+= body() }  // warm-up
        let clock = ContinuousClock()
        let start = clock.now
        var calls = 0
        let budget = Duration.milliseconds(Int(seconds * 1000))
        while clock.now - start < budget {
            for _ in 0..<1_000 { sink &+= body() }
            calls += 1_000
        }
        let elapsed = clock.now - start
        if sink == Int.min { print("") }  // keep the work observable
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return nanoseconds / Double(calls)
    }

    static func report(_ name: String, _ nanoseconds: Double) {
        print(String(format: "%@ %.1f %.0f", name, nanoseconds, 1e9 / nanoseconds))
    }
}
