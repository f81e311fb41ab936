import CofferCore
import CofferStore
import Foundation

/// Console passwords of IAM users (login profiles) and the account password policy, as the IAM API.
/// Passwords are hashed (scrypt) before any transaction opens and never stored, logged or returned.
public struct Passwords: RegistryPart {
    public let core: RegistryCore

    /// Password history kept per user: AWS's largest PasswordReusePrevention.
    static let historyKept = 24

    /// IAM's passwordType: 1–128 characters from tab, line feed, carriage return and U+0020–U+00FF.
    static func validatePassword(_ password: String, parameter: String) throws {
        guard (1...128).contains(password.count),
              password.unicodeScalars.allSatisfy({ [0x09, 0x0A, 0x0D].contains($0.value) || (0x20...0xFF).contains($0.value) })
        else {
            throw IAMError.validation(parameter, "Member must satisfy regular expression pattern: "
                + "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+ and length 1-128")
        }
    }

    public func passwordPolicy() async throws -> PasswordPolicy? {
        try await store.asyncRead { try Self.passwordPolicy(in: $0) }
    }

    static func passwordPolicy(in transaction: StoreTransaction) throws -> PasswordPolicy? {
        guard let text = try transaction.setting("password_policy") else { return nil }
        return try JSONDecoder().decode(PasswordPolicy.self, from: Data(text.utf8))
    }

    public func updatePasswordPolicy(_ policy: PasswordPolicy) async throws {
        guard (6...128).contains(policy.minimumLength) else {
            throw IAMError.validation("minimumPasswordLength", "Member must have value between 6 and 128")
        }
        if let age = policy.maxAge, !(1...1095).contains(age) {
            throw IAMError.validation("maxPasswordAge", "Member must have value between 1 and 1095")
        }
        if let reuse = policy.reusePrevention, !(1...24).contains(reuse) {
            throw IAMError.validation("passwordReusePrevention", "Member must have value between 1 and 24")
        }
        let text = String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
        try await store.write { try $0.setSetting("password_policy", text) }
    }

    public func deletePasswordPolicy() async throws {
        try await store.write { transaction in
            guard try transaction.setting("password_policy") != nil else { throw Self.noPasswordPolicy(self.accountID) }
            try transaction.deleteSetting("password_policy")
        }
    }

    static func noPasswordPolicy(_ account: String) -> IAMError {
        IAMError(.noSuchEntity, "The Password Policy with domain name \(account) cannot be found.")
    }

    /// Checks `password` against the policy (or AWS's default) and, with reuse prevention, against
    /// the user's earlier passwords; returns the new hash and history digest.
    func preparePassword(_ password: String, user: String, historySalt: [UInt8], parameter: String) async throws
        -> (hash: String, digest: [UInt8]) {
        try Self.validatePassword(password, parameter: parameter)
        let policy = try await passwordPolicy()
        let problems = PasswordPolicy.violations(of: password, user: user, policy: policy)
        guard problems.isEmpty else {
            throw IAMError(.passwordPolicyViolation, "Password does not conform to the account password policy: "
                + problems.joined(separator: "; ") + ".")
        }
        let digest = try await core.hasher.digest(password, salt: historySalt)
        if let reuse = policy?.reusePrevention {
            let earlier = try await store.asyncRead { try $0.passwordHistory(user: user, limit: reuse) }
            if earlier.contains(where: { constantTimeEqual($0, digest) }) {
                throw IAMError(.passwordPolicyViolation, "Password does not conform to the account password policy: "
                    + "it was used among the last \(reuse) passwords.")
            }
        }
        return (try await core.hasher.hash(password), digest)
    }

    public func createLoginProfile(user: String, password: String, resetRequired: Bool) async throws -> LoginProfileRecord {
        try Names.validateUserName(user)
        guard user != Registry.rootUser else {
            throw IAMError(.invalidInput, "The root's password is set with `coffer admin root-password`, not CreateLoginProfile.")
        }
        guard try await store.asyncRead({ try $0.user(named: user) }) != nil else {
            throw IAMError(.noSuchEntity, "The user with name \(user) cannot be found.")
        }
        let salt = SecureRandom.bytes(16)
        let (hash, digest) = try await preparePassword(password, user: user, historySalt: salt, parameter: "password")
        let time = now()
        let profile = LoginProfileRecord(userName: user, passwordHash: hash, historySalt: salt, resetRequired: resetRequired,
                                         created: time, changed: time)
        try await store.write { transaction in
            guard try transaction.user(named: user) != nil else {
                throw IAMError(.noSuchEntity, "The user with name \(user) cannot be found.")
            }
            guard try transaction.loginProfile(user: user) == nil else {
                throw IAMError(.entityAlreadyExists, "Login Profile for user \(user) already exists.")
            }
            try transaction.saveLoginProfile(profile)
            try transaction.appendPasswordHistory(user: user, digest: digest, at: time, keep: Self.historyKept)
        }
        return profile
    }

    public func loginProfile(user: String) async throws -> LoginProfileRecord {
        try Names.validateUserName(user)
        guard let profile = try await store.asyncRead({ try $0.loginProfile(user: user) }) else { throw Self.noLoginProfile(user) }
        return profile
    }

    static func noLoginProfile(_ user: String) -> IAMError {
        IAMError(.noSuchEntity, "Login Profile for User \(user) cannot be found.")
    }

    /// UpdateLoginProfile: a new password (an administrator's reset), the reset flag, or both.
    public func updateLoginProfile(user: String, password: String?, resetRequired: Bool?) async throws {
        var profile = try await loginProfile(user: user)
        var digest: [UInt8]?
        if let password {
            let prepared = try await preparePassword(password, user: user, historySalt: profile.historySalt,
                                                     parameter: "password")
            profile.passwordHash = prepared.hash
            profile.changed = now()
            digest = prepared.digest
        }
        if let resetRequired { profile.resetRequired = resetRequired }
        try await save(profile, digest: digest, expecting: user)
    }

    public func deleteLoginProfile(user: String) async throws {
        try Names.validateUserName(user)
        try await store.write { transaction in
            guard try transaction.loginProfile(user: user) != nil else { throw Self.noLoginProfile(user) }
            try transaction.deleteLoginProfile(user: user)
            // A user without a console password has no console sessions either.
            try transaction.deleteSessions(user: user)
            try self.console.endConsoleSessions(user: user, because: "its console password was deleted", in: transaction)
        }
    }

    /// How long a run of wrong ChangePassword guesses is remembered after the last one.
    static let failureRunKeptMs: Int64 = 86_400_000

    /// ChangePassword: an IAM user changes their own password, proving the old one. Wrong old
    /// passwords are audited and, after five in a row, refused unchecked for a doubling time (up to
    /// 15 minutes): an access key alone cannot be used to guess the console password.
    public func changePassword(_ caller: Principal, old: String, new: String, info: RequestInfo) async throws {
        guard !caller.isRoot, !caller.isAnonymous else {
            throw IAMError(.invalidUserType, "Only IAM users can change their own password with ChangePassword.")
        }
        try Self.validatePassword(old, parameter: "oldPassword")
        var profile = try await loginProfile(user: caller.userName)
        let user = caller.userName
        // Counted before the hash is awaited (a burst of parallel guesses cannot outrun the lock):
        // the fifth wrong password in a row locks for a doubling time; a right one is forgiven.
        let start = now()
        let key = "password:\(user)"
        // In the database: guesses spread over several processes (or nodes) count together.
        let admitted: (failures: Int?, lockedUntil: Int64) = try await store.write { transaction in
            var entry = try transaction.attemptCounter(key) ?? AttemptCounter(failures: 0, lockedUntil: 0, last: start)
            guard entry.lockedUntil <= start else { return (nil, entry.lockedUntil) }
            entry.failures += 1
            entry.last = start
            if entry.failures >= 5 {
                entry.lockedUntil = start + min(Int64(1) << min(entry.failures - 5, 10), 900) * 1000
            }
            try transaction.saveAttemptCounter(key, entry, forgetBefore: start - Self.failureRunKeptMs)
            return (entry.failures, entry.lockedUntil)
        }
        guard let failures = admitted.failures else {
            throw IAMError(.limitExceeded, "Too many wrong passwords: try again in \((max(admitted.lockedUntil - start, 0) + 999) / 1000) seconds.")
        }
        switch await core.hasher.check(old, against: profile.passwordHash) {
        case .match: break
        case .busy:
            // Nothing was judged: the guess counted above is taken back.
            try await store.write { transaction in
                guard var entry = try transaction.attemptCounter(key) else { return }
                entry.failures = max(0, entry.failures - 1)
                if entry.failures < 5 { entry.lockedUntil = 0 }  // the lock this guess set, if it did
                try transaction.saveAttemptCounter(key, entry, forgetBefore: start - Self.failureRunKeptMs)
            }
            throw IAMError(.limitExceeded, "Too many password operations at once: try again shortly.")
        case .mismatch:
            let entry = audit("ChangePassword", caller, info, serial: nil, outcome: .failed,
                              detail: "wrong old password (\(failures) in a row)")
            try? await store.write { try $0.appendAudit(entry) }
            throw IAMError(.accessDenied, "The old password is incorrect.")
        }
        try await store.write { try $0.deleteAttemptCounter(key) }
        let prepared = try await preparePassword(new, user: caller.userName, historySalt: profile.historySalt,
                                                 parameter: "newPassword")
        profile.passwordHash = prepared.hash
        profile.changed = now()
        profile.resetRequired = false
        try await save(profile, digest: prepared.digest, expecting: caller.userName)
    }

    /// Writes a changed profile unless it was deleted (or replaced) meanwhile.
    private func save(_ profile: LoginProfileRecord, digest: [UInt8]?, expecting user: String) async throws {
        try await store.write { transaction in
            guard let current = try transaction.loginProfile(user: user), current.created == profile.created else {
                throw Self.noLoginProfile(user)
            }
            try transaction.saveLoginProfile(profile)
            if let digest {
                try transaction.appendPasswordHistory(user: user, digest: digest, at: profile.changed, keep: Self.historyKept)
                // A new password ends the user's console sessions (the console starts a new one for
                // the browser that changed it).
                try self.console.endConsoleSessions(user: user, because: "its password changed", in: transaction)
            }
        }
    }
    public func rootPasswordIsSet() async throws -> Bool {
        try await store.asyncRead { try $0.setting("root_password_hash") != nil }
    }

    /// Sets (or changes) the root's password, checked against the account policy or AWS's default.
    public func setRootPassword(_ password: String) async throws {
        try Self.validatePassword(password, parameter: "password")
        let problems = PasswordPolicy.violations(of: password, user: Registry.rootUser, policy: try await passwordPolicy())
        guard problems.isEmpty else {
            throw IAMError(.passwordPolicyViolation, "Password does not conform to the account password policy: "
                + problems.joined(separator: "; ") + ".")
        }
        let hash = try await core.hasher.hash(password)
        try await store.write { transaction in
            try transaction.setSetting("root_password_hash", hash)
            try transaction.setSetting("root_password_changed_ms", String(self.now()))
            // A new password ends the root's console sessions.
            try self.console.endConsoleSessions(user: Registry.rootUser, because: "its password changed", in: transaction)
        }
    }

    /// Whether `password` is the root's (false when none is set).
    public func verifyRootPassword(_ password: String) async throws -> Bool {
        guard let hash = try await store.asyncRead({ try $0.setting("root_password_hash") }) else { return false }
        return await core.hasher.verify(password, against: hash)
    }

    /// A password that AWS's default rules accept: 20 characters of all four classes.
    public static func generatePassword() -> String {
        let classes = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#$%^&*()_+-=[]{}|"]
        var characters = Array(classes.map { SecureRandom.string($0, count: 1) }.joined()
            + SecureRandom.string(classes.joined(), count: 20 - classes.count))
        var generator = SystemRandomNumberGenerator()
        characters.shuffle(using: &generator)
        return String(characters)
    }
}

/// What the console shows of IAM, read for it here: the console never opens a store transaction
/// of its own. Each is one consistent snapshot.
extension Passwords {
    /// Whether the user has a console password.
    public func hasLoginProfile(user: String) async throws -> Bool {
        try await store.asyncRead { try $0.loginProfile(user: user) } != nil
    }
}
