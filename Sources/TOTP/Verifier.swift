#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Checks one-time passwords against a device's parameters. Pure: the caller supplies the
/// instant, the device's learned drift and its last accepted step, and stores the returned step.
///
/// Every candidate step is computed and compared, whether or not an earlier one matched, and the
/// comparison itself is branch-free, so the time taken says nothing about which step (if any)
/// matched. A code of the wrong shape is refused before any HMAC is computed.
public enum TOTPVerifier {
    /// The outcome of checking one code.
    public enum Result: Equatable, Sendable {
        /// The code matched `step`, which is newer than the last accepted step.
        case accepted(step: Int64)
        case rejected(Failure)
    }

    /// The outcome of checking two consecutive codes (enable, resync).
    public enum PairResult: Equatable, Sendable {
        /// The codes matched `first` and `first + 1`, both newer than the last accepted step.
        case accepted(first: Int64, second: Int64)
        case rejected(Failure)
    }

    /// Why a code was refused.
    public enum Failure: Equatable, Sendable {
        /// Not exactly `digits` ASCII digits. No HMAC was computed.
        case malformed
        /// No candidate step produced this code.
        case noMatch
        /// The code matched only steps at or before the last accepted one.
        case replayed(step: Int64)
    }

    /// Checks `code` at Unix time `seconds`: candidates are the steps within ±`window` of the
    /// current step and within ±`window` of the current step + `drift`.
    public static func verify(code: String, parameters: TOTPParameters, at seconds: Int64, window: Int = 1,
                              drift: Int64 = 0, lastAcceptedStep: Int64?) -> Result {
        guard let value = parse(code, digits: parameters.digits) else { return .rejected(.malformed) }
        let now = parameters.step(at: seconds)
        let reach = Int64(max(0, window))
        let around = (now - reach)...(now + reach)
        let drifted = (now + drift - reach)...(now + drift + reach)
        let floor = lastAcceptedStep ?? Int64.min
        var newest = Int64.min     // the newest matching step above the floor, if any
        var replayed = Int64.min   // the newest matching step at or below the floor, if any
        let codeAt = codeSource(parameters)
        do {
            func consider(_ step: Int64) {
                let match = equalMask(codeAt(step), value)
                let fresh = lessMask(floor, step)
                newest = select(match & fresh & lessMask(newest, step), step, newest)
                replayed = select(match & ~fresh & lessMask(replayed, step), step, replayed)
            }
            for step in around { consider(step) }
            for step in drifted where !around.contains(step) { consider(step) }
        }
        if newest != Int64.min { return .accepted(step: newest) }
        if replayed != Int64.min { return .rejected(.replayed(step: replayed)) }
        return .rejected(.noMatch)
    }

    /// Looks for two codes of consecutive steps (`first` at s, `second` at s + 1) with s within
    /// ±`window` of the current step; the newest such pair wins. Both steps must be newer than
    /// `lastAcceptedStep`. For enabling and resynchronising a device, where codes may be typed late
    /// or the device's clock may be off, so the window is wider than a login's but still bounded.
    public static func verifyConsecutive(first: String, second: String, parameters: TOTPParameters,
                                         at seconds: Int64, window: Int, lastAcceptedStep: Int64?) -> PairResult {
        guard let firstValue = parse(first, digits: parameters.digits),
              let secondValue = parse(second, digits: parameters.digits)
        else { return .rejected(.malformed) }
        let now = parameters.step(at: seconds)
        let reach = Int64(max(0, window))
        let floor = lastAcceptedStep ?? Int64.min
        var newest = Int64.min
        var replayed = Int64.min
        let codeAt = codeSource(parameters)
        do {
            var previous = codeAt(now - reach)
            for step in (now - reach)...(now + reach) {
                let next = codeAt(step + 1)
                let match = equalMask(previous, firstValue) & equalMask(next, secondValue)
                let fresh = lessMask(floor, step)
                newest = select(match & fresh & lessMask(newest, step), step, newest)
                replayed = select(match & ~fresh & lessMask(replayed, step), step, replayed)
                previous = next
            }
        }
        if newest != Int64.min { return .accepted(first: newest, second: newest + 1) }
        if replayed != Int64.min { return .rejected(.replayed(step: replayed)) }
        return .rejected(.noMatch)
    }

    /// The numeric value of a code that is exactly `digits` ASCII digits, else nil.
    static func parse(_ code: String, digits: Int) -> UInt32? {
        var value: UInt32 = 0
        var count = 0
        for byte in code.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < digits else { return nil }
            value = value &* 10 &+ UInt32(byte - UInt8(ascii: "0"))
            count += 1
        }
        return count == digits ? value : nil
    }

    /// The code value of a step under the parameters' key, key schedule paid once.
    private static func codeSource(_ parameters: TOTPParameters) -> CodeSource {
        CodeSource(truncator: Truncator(secret: parameters.secret, algorithm: parameters.algorithm),
                   modulus: HOTP.modulus(parameters.digits))
    }

    private struct CodeSource {
        let truncator: Truncator
        let modulus: UInt32

        @inline(__always)
        func callAsFunction(_ step: Int64) -> UInt32 { truncator(UInt64(bitPattern: step)) % modulus }
    }

    /// All ones when `a == b`, else zero; no branch.
    @inline(__always)
    static func equalMask(_ a: UInt32, _ b: UInt32) -> Int64 {
        let difference = UInt64(a ^ b)
        // (difference - 1) has its top bit set only when difference was 0.
        return Int64(bitPattern: 0 &- ((difference &- 1) >> 63))
    }

    /// All ones when `a < b`, else zero; no branch.
    @inline(__always)
    static func lessMask(_ a: Int64, _ b: Int64) -> Int64 {
        // a < b  ⇔  the subtraction's sign, corrected for overflow.
        let difference = a &- b
        let overflow = (a ^ b) & (a ^ difference)
        return (difference ^ overflow) >> 63
    }

    /// `mask` all ones → `a`, zero → `b`; no branch.
    @inline(__always)
    static func select(_ mask: Int64, _ a: Int64, _ b: Int64) -> Int64 {
        (a & mask) | (b & ~mask)
    }
}
