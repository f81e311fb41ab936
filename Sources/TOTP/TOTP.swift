import Crypto

/// The parameters of a time-based one-time password generator (RFC 6238).
public struct TOTPParameters: Sendable, Hashable {
    /// The shared secret (the seed), raw bytes.
    public var secret: [UInt8]
    public var algorithm: OTPAlgorithm
    /// Code length, 6 to 8.
    public var digits: Int
    /// Length of a time step in seconds (X in RFC 6238), at least 1.
    public var period: Int64
    /// The Unix time at which step 0 begins (T0 in RFC 6238).
    public var epoch: Int64

    public init(secret: [UInt8], algorithm: OTPAlgorithm = .sha1, digits: Int = 6, period: Int64 = 30,
                epoch: Int64 = 0) throws(OTPError) {
        guard HOTP.digitRange.contains(digits) else { throw .invalidDigits(digits) }
        guard period >= 1 else { throw .invalidPeriod(period) }
        guard !secret.isEmpty else { throw .emptySecret }
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.epoch = epoch
    }

    /// The time step containing the Unix time `seconds` (floor division, 64-bit: valid past 2038).
    public func step(at seconds: Int64) -> Int64 {
        let elapsed = seconds - epoch
        let quotient = elapsed / period
        return (elapsed % period < 0) ? quotient - 1 : quotient
    }

    /// The code for a time step.
    public func code(step: Int64) -> String {
        HOTP.code(secret: secret, counter: UInt64(bitPattern: step), digits: digits, algorithm: algorithm)
    }

    /// The code valid at the Unix time `seconds`.
    public func code(at seconds: Int64) -> String {
        code(step: step(at: seconds))
    }

    /// Seconds left in the step containing `seconds`.
    public func secondsRemaining(at seconds: Int64) -> Int64 {
        (step(at: seconds) + 1) * period + epoch - seconds
    }
}

/// Why a one-time password input was refused.
public enum OTPError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidDigits(Int)
    case invalidPeriod(Int64)
    case emptySecret
    case unknownAlgorithm(String)

    public var description: String {
        switch self {
        case .invalidDigits(let digits): "digits must be 6, 7 or 8, not \(digits)"
        case .invalidPeriod(let period): "period must be a positive number of seconds, not \(period)"
        case .emptySecret: "the secret is empty"
        case .unknownAlgorithm(let name): "unknown algorithm '\(name)' (use SHA1, SHA256 or SHA512)"
        }
    }
}
