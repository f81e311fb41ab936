import Testing
@testable import TOTP

@Suite("The verifier")
struct VerifierTests {
    static let secret = Array("12345678901234567890".utf8)
    static let parameters = try! TOTPParameters(secret: secret)
    static let now: Int64 = 1_700_000_015  // inside step 56_666_667
    static let step = parameters.step(at: now)

    func verify(_ code: String, window: Int = 1, drift: Int64 = 0, last: Int64? = nil) -> TOTPVerifier.Result {
        TOTPVerifier.verify(code: code, parameters: Self.parameters, at: Self.now, window: window, drift: drift,
                            lastAcceptedStep: last)
    }

    func code(_ offset: Int64) -> String { Self.parameters.code(step: Self.step + offset) }

    @Test("Accepts ±1 step and reports the matched step; refuses ±2")
    func windowEdges() {
        for offset: Int64 in -1...1 {
            #expect(verify(code(offset)) == .accepted(step: Self.step + offset))
        }
        #expect(verify(code(-2)) == .rejected(.noMatch))
        #expect(verify(code(2)) == .rejected(.noMatch))
        #expect(verify(code(2), window: 2) == .accepted(step: Self.step + 2))
        #expect(verify(code(1), window: 0) == .rejected(.noMatch))
        #expect(verify(code(0), window: 0) == .accepted(step: Self.step))
    }

    @Test("Window edges by the second: the step changes exactly at multiples of the period")
    func secondEdges() {
        let start = Self.step * 30  // first second of the step
        let previous = Self.parameters.code(step: Self.step - 1)
        let twoBack = Self.parameters.code(step: Self.step - 2)
        #expect(TOTPVerifier.verify(code: previous, parameters: Self.parameters, at: start + 29,
                                    lastAcceptedStep: nil) == .accepted(step: Self.step - 1))
        #expect(TOTPVerifier.verify(code: twoBack, parameters: Self.parameters, at: start - 1,
                                    lastAcceptedStep: nil) == .accepted(step: Self.step - 2))
        #expect(TOTPVerifier.verify(code: twoBack, parameters: Self.parameters, at: start,
                                    lastAcceptedStep: nil) == .rejected(.noMatch))
    }

    @Test("Replays: the last accepted step and older ones are refused as replays")
    func replay() {
        #expect(verify(code(0), last: Self.step) == .rejected(.replayed(step: Self.step)))
        #expect(verify(code(-1), last: Self.step) == .rejected(.replayed(step: Self.step - 1)))
        #expect(verify(code(-1), last: Self.step - 1) == .rejected(.replayed(step: Self.step - 1)))
        #expect(verify(code(0), last: Self.step - 1) == .accepted(step: Self.step))
        #expect(verify(code(1), last: Self.step) == .accepted(step: Self.step + 1))
        #expect(verify(code(5), last: Self.step) == .rejected(.noMatch))
    }

    @Test("Learned drift adds a second centre at now + drift")
    func drift() {
        #expect(verify(code(5)) == .rejected(.noMatch))
        #expect(verify(code(5), drift: 5) == .accepted(step: Self.step + 5))
        #expect(verify(code(6), drift: 5) == .accepted(step: Self.step + 6))
        #expect(verify(code(0), drift: 5) == .accepted(step: Self.step))
        #expect(verify(code(-4), drift: -5) == .accepted(step: Self.step - 4))
        #expect(verify(code(3), drift: 5) == .rejected(.noMatch))
    }

    @Test("Malformed codes are refused before any HMAC",
          arguments: ["", "12345", "1234567", "12a456", " 123456", "123456 ", "١٢٣٤٥٦", "-12345", "+12345"])
    func malformed(code: String) {
        #expect(verify(code) == .rejected(.malformed))
    }

    @Test("Eight-digit devices want eight digits")
    func eightDigits() throws {
        let eight = try TOTPParameters(secret: Self.secret, digits: 8)
        let code = eight.code(at: Self.now)
        #expect(TOTPVerifier.verify(code: code, parameters: eight, at: Self.now, lastAcceptedStep: nil)
            == .accepted(step: Self.step))
        #expect(TOTPVerifier.verify(code: String(code.suffix(6)), parameters: eight, at: Self.now,
                                    lastAcceptedStep: nil) == .rejected(.malformed))
    }

    @Test("Two consecutive codes: found anywhere in the bounded window, in order, newer than the last step")
    func consecutive() {
        func pair(_ a: Int64, _ b: Int64, window: Int = 10, last: Int64? = nil) -> TOTPVerifier.PairResult {
            TOTPVerifier.verifyConsecutive(first: code(a), second: code(b), parameters: Self.parameters, at: Self.now,
                                           window: window, lastAcceptedStep: last)
        }
        #expect(pair(-1, 0) == .accepted(first: Self.step - 1, second: Self.step))
        #expect(pair(-10, -9) == .accepted(first: Self.step - 10, second: Self.step - 9))
        #expect(pair(10, 11) == .accepted(first: Self.step + 10, second: Self.step + 11))
        #expect(pair(-11, -10) == .rejected(.noMatch))
        #expect(pair(11, 12) == .rejected(.noMatch))
        #expect(pair(0, -1) == .rejected(.noMatch))   // reversed
        #expect(pair(0, 2) == .rejected(.noMatch))    // a gap
        #expect(pair(0, 0) == .rejected(.noMatch))    // the same code twice
        #expect(pair(-3, -2, last: Self.step - 3) == .rejected(.replayed(step: Self.step - 3)))
        #expect(pair(-3, -2, last: Self.step - 4) == .accepted(first: Self.step - 3, second: Self.step - 2))
        #expect(TOTPVerifier.verifyConsecutive(first: "12345", second: code(0), parameters: Self.parameters,
                                               at: Self.now, window: 10, lastAcceptedStep: nil) == .rejected(.malformed))
    }

    @Test("The branch-free helpers agree with plain comparisons, extremes included")
    func masks() {
        let values: [Int64] = [.min, .min + 1, -2, -1, 0, 1, 2, .max - 1, .max]
        for a in values {
            for b in values {
                #expect(TOTPVerifier.lessMask(a, b) == (a < b ? -1 : 0), "\(a) < \(b)")
                #expect(TOTPVerifier.select(-1, a, b) == a)
                #expect(TOTPVerifier.select(0, a, b) == b)
            }
        }
        let codes: [UInt32] = [0, 1, 999_999, 123_456, .max]
        for a in codes {
            for b in codes { #expect(TOTPVerifier.equalMask(a, b) == (a == b ? -1 : 0)) }
        }
    }

    @Test("The clocks: manual time moves only when told")
    func clocks() {
        let clock = ManualUnixClock(100)
        #expect(clock.now() == 100)
        clock.advance(by: 30)
        #expect(clock.now() == 130)
        clock.set(5)
        #expect(clock.now() == 5)
        #expect(SystemUnixClock().now() > 1_700_000_000)
    }
}
