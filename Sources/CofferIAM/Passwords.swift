import CofferCore
import CryptoExtras
import Crypto
import Foundation

/// Console passwords hashed with scrypt at OWASP's minimum (N = 2^17, r = 8, p = 1: 128 MiB and
/// a few hundred milliseconds each), off the event loops, at most `slots` at once: a burst of
/// sign-ins queues instead of taking the machine's memory.
public final class PasswordHasher: Sendable {
    public struct Cost: Sendable, Equatable {
        public var logN: Int
        public var blockSize: Int
        public var parallelism: Int
        public init(logN: Int, blockSize: Int, parallelism: Int) {
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// OWASP's Password Storage Cheat Sheet minimum for scrypt.
        public static let owasp = Cost(logN: 17, blockSize: 8, parallelism: 1)

        var memory: Int { 128 * blockSize * (1 << logN) * parallelism }
    }

    public let cost: Cost
    private let slots: Slots

    public init(cost: Cost = .owasp, concurrent: Int = 2) {
        self.cost = cost
        slots = Slots(concurrent)
    }

    /// `$scrypt$ln=17,r=8,p=1$SALT$HASH` (base64): the parameters travel with the hash.
    public func hash(_ password: String) async throws -> String {
        let salt = SecureRandom.bytes(16)
        let derived = try await deriveOrLimit(password, salt: salt)
        return "$scrypt$ln=\(cost.logN),r=\(cost.blockSize),p=\(cost.parallelism)$"
            + Data(salt).base64EncodedString() + "$" + Data(derived).base64EncodedString()
    }

    /// Whether `password` is the one `encoded` was made from (a constant-time comparison). A
    /// malformed or implausibly costly encoding never matches.
    public func verify(_ password: String, against encoded: String) async -> Bool {
        await check(password, against: encoded) == .match
    }

    /// What a password check found: a match, a mismatch, or no hash run at all because too many
    /// were already running or waiting (the caller must not count that as a wrong password).
    public enum Verdict: Sendable, Equatable { case match, mismatch, busy }

    public func check(_ password: String, against encoded: String) async -> Verdict {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == "scrypt", let salt = Data(base64Encoded: String(parts[2])),
              let expected = Data(base64Encoded: String(parts[3])), expected.count == 32
        else { return .mismatch }
        var values: [String: Int] = [:]
        for item in parts[1].split(separator: ",") {
            let pair = item.split(separator: "=")
            guard pair.count == 2, let value = Int(pair[1]) else { return .mismatch }
            values[String(pair[0])] = value
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"], (10...20).contains(logN),
              (1...16).contains(r), (1...4).contains(p)
        else { return .mismatch }
        let derived: [UInt8]
        do {
            derived = try await derive(password, salt: Array(salt), cost: Cost(logN: logN, blockSize: r, parallelism: p))
        } catch is Busy {
            return .busy
        } catch {
            return .mismatch
        }
        return constantTimeEqual(derived, expected) ? .match : .mismatch
    }

    /// The digest of `password` under a fixed salt (password history: one derivation checks a
    /// new password against every earlier one).
    public func digest(_ password: String, salt: [UInt8]) async throws -> [UInt8] {
        try await deriveOrLimit(password, salt: salt)
    }

    private func deriveOrLimit(_ password: String, salt: [UInt8]) async throws -> [UInt8] {
        do {
            return try await derive(password, salt: salt, cost: cost)
        } catch let busy as Busy {
            throw IAMError(.limitExceeded, busy.description)
        }
    }

    /// Too many hashes running and waiting: `hash` callers see `LimitExceeded`.
    struct Busy: Error, CustomStringConvertible {
        var description: String { "Too many password operations at once: try again shortly." }
    }


    private func derive(_ password: String, salt: [UInt8], cost: Cost) async throws -> [UInt8] {
        guard await slots.acquire() else { throw Busy() }
        defer { Task { await slots.release() } }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do {
                    let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32,
                                                       rounds: 1 << cost.logN, blockSize: cost.blockSize,
                                                       parallelism: cost.parallelism, maxMemory: cost.memory + (1 << 20))
                    continuation.resume(returning: key.withUnsafeBytes { Array($0) })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// A counting semaphore for async callers.
    private actor Slots {
        private var free: Int
        private var waiting: [CheckedContinuation<Void, Never>] = []

        init(_ count: Int) { free = max(1, count) }

        /// False when 32 callers already wait: a burst fails fast instead of queueing without bound.
        func acquire() async -> Bool {
            if free > 0 {
                free -= 1
                return true
            }
            guard waiting.count < 32 else { return false }
            await withCheckedContinuation { waiting.append($0) }
            return true
        }

        func release() {
            if waiting.isEmpty {
                free += 1
            } else {
                waiting.removeFirst().resume()
            }
        }
    }
}

/// The account password policy (IAM's PasswordPolicy). Without one, AWS's default applies to new
/// passwords: at least 8 characters, three of the four character classes, not the user's name.
public struct PasswordPolicy: Codable, Sendable, Equatable {
    public var minimumLength = 6
    public var requireSymbols = false
    public var requireNumbers = false
    public var requireUppercase = false
    public var requireLowercase = false
    public var allowUsersToChangePassword = false
    /// Days; nil: passwords never expire.
    public var maxAge: Int?
    public var reusePrevention: Int?
    public var hardExpiry: Bool?

    public init() {}

    /// AWS's symbols: ! @ # $ % ^ & * ( ) _ + - = [ ] { } | '
    static let symbols = Set("!@#$%^&*()_+-=[]{}|'")

    /// Every rule `password` breaks (empty: it is acceptable), for user `user`.
    public static func violations(of password: String, user: String, policy: PasswordPolicy?) -> [String] {
        let upper = password.contains { $0.isASCII && $0.isUppercase }
        let lower = password.contains { $0.isASCII && $0.isLowercase }
        let number = password.contains { $0.isASCII && $0.isNumber }
        let symbol = password.contains { symbols.contains($0) }
        var problems: [String] = []
        guard let policy else {
            if password.count < 8 { problems.append("Password should have at least 8 characters") }
            if [upper, lower, number, symbol].filter({ $0 }).count < 3 {
                problems.append("Password should have at least three of: uppercase letters, lowercase letters, numbers, symbols")
            }
            if password == user { problems.append("Password should not be the user name") }
            return problems
        }
        if password.count < policy.minimumLength {
            problems.append("Password should have a minimum length of \(policy.minimumLength)")
        }
        if policy.requireUppercase, !upper { problems.append("Password should have at least one uppercase letter") }
        if policy.requireLowercase, !lower { problems.append("Password should have at least one lowercase letter") }
        if policy.requireNumbers, !number { problems.append("Password should have at least one number") }
        if policy.requireSymbols, !symbol { problems.append("Password should have at least one symbol") }
        return problems
    }
}
