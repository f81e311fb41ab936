import CofferCore
import CofferStore
import Crypto
import Foundation
import CofferPolicy
import Synchronization

extension Registry {
    /// How a sign-in attempt ended (the console turns these into pages, `/metrics` counts them).
    public enum SignInOutcome: String, Sendable {
        case success, wrongPassword, wrongCode, throttled, expired
    }

    /// What the password step leads to.
    public enum SignInResult: Sendable {
        /// A session at `record.stage`: `.code` (a code is owed), `.newPassword`, or `.active`.
        case session(token: String, record: ConsoleSessionRecord)
        /// Wrong account, user or password — the same answer for each.
        case refused
        /// Too many failures from this address (for this user, or at all): try again later.
        case throttled(retryAfterSeconds: Int64)
        /// The password expired under a policy with HardExpiry: only an administrator can reset it.
        case expired
        /// Too many password checks are running: nothing was judged (nor counted against anyone).
        case busy
    }
}

/// Console sign-in, as the IAM side sees it: passwords checked off the event loops, failures
/// backed off, MFA codes through the one verifier, server-side sessions. No HTTP here.
public struct ConsoleSignIn: RegistryPart {
    public let core: RegistryCore

    /// Root sessions last 1 hour, IAM users' 12 (AWS's console); a sign-in waiting for its code, 5 minutes.
    public static let rootConsoleSessionMs: Int64 = 3_600_000
    public static let userConsoleSessionMs: Int64 = 43_200_000
    static let pendingSessionMs: Int64 = 300_000
    /// Wrong codes a pending sign-in may make before it must start again with the password.
    static let codesPerSignIn = 5

    /// The password step. `userName` is `root` for the root (whose account id is not asked);
    /// an IAM user names the account id too. Unknown users, users without a console password and
    /// wrong passwords all cost one hash and answer `.refused`.
    public func consoleSignIn(accountID account: String?, userName: String, password: String, source: String?)
        async throws -> SignInResult {
        let started = now()
        let key = userName.lowercased()
        let isRoot = userName == Registry.rootUser && account == nil
        let address = source ?? ""
        let throttle = core.signInThrottle
        // Checked and counted in one transaction, before the hash runs (a burst — on one process
        // or spread over several — cannot outrun the count); forgiven below if right.
        let locked: Int64? = try await store.write { transaction in
            if let wait = try throttle.retryAfter(user: key, source: address, now: started, in: transaction) { return wait }
            try throttle.failed(user: key, source: address, now: started, in: transaction)
            return nil
        }
        if let wait = locked {
            await auditSignInFailure(user: userName, isRoot: isRoot, source: source, outcome: .refused, detail: "throttled")
            return .throttled(retryAfterSeconds: (wait + 999) / 1000)
        }
        var profile: LoginProfileRecord?
        var hash: String?
        var userRecord: UserRecord?
        if (1...128).contains(password.count) {
            if isRoot {
                hash = try await store.asyncRead { try $0.setting("root_password_hash") }
            } else if account == accountID, userName != Registry.rootUser, (1...64).contains(userName.utf8.count) {
                (userRecord, profile) = try await store.asyncRead { (try $0.user(named: userName), try $0.loginProfile(user: userName)) }
                hash = userRecord == nil ? nil : profile?.passwordHash
            }
        }
        // A missing user costs a hash like a present one: neither the answer nor its time tells.
        let against: String
        if let hash { against = hash } else { against = await decoyHash() }
        switch await core.hasher.check(password, against: against) {
        case .busy:
            try await store.write { try throttle.forgive(user: key, source: address, in: $0) }
            return .busy
        case .mismatch:
            await auditSignInFailure(user: userRecord == nil && !isRoot ? nil : userName, isRoot: isRoot, source: source,
                                     outcome: .failed, detail: "wrong password")
            return .refused
        case .match:
            guard hash != nil else { return .refused }
        }
        try await store.write { transaction in
            try throttle.forgive(user: key, source: address, in: transaction)
            try throttle.succeeded(user: key, source: address, in: transaction)
        }
        let principalName = isRoot ? Registry.rootUser : userName
        var mustChange = profile?.resetRequired ?? false
        if let profile, let policy = try await passwords.passwordPolicy(), passwordExpired(profile, policy: policy) {
            if policy.hardExpiry ?? false {
                await auditSignInFailure(user: userName, isRoot: false, source: source, outcome: .refused,
                                         detail: "password expired (hard expiry)")
                return .expired
            }
            mustChange = true
        }
        let hasDevice = try await store.asyncRead {
            try !$0.devices(user: principalName, assigned: true, kind: nil, after: nil, limit: 1).isEmpty
        }
        let stage: ConsoleSessionRecord.Stage = hasDevice ? .code : (mustChange ? .newPassword : .active)
        let (token, record) = newConsoleSession(user: principalName, stage: stage, mfaAt: nil, source: source)
        try await store.write { transaction in
            try transaction.deleteExpiredConsoleSessions(before: self.now())
            try transaction.saveConsoleSession(record)
            try transaction.appendAudit(self.consoleAudit("ConsoleLogin", user: principalName, source: source,
                                                          outcome: hasDevice ? .passed : .done,
                                                          detail: hasDevice ? "password accepted; MFA code required" : "signed in",
                                                          in: transaction))
        }
        return .session(token: token, record: record)
    }

    /// The code step of a sign-in at stage `.code`: the code goes through the one verifier
    /// (single use — it cannot serve again for a delete —, throttled, audited). Returns the
    /// session's next state; nil when the session is unknown, expired or not waiting for a code.
    public func consoleVerifyCode(token: String, serial: String, code: String, source: String?) async throws
        -> (token: String, record: ConsoleSessionRecord)? {
        guard let (pending, _) = try await consoleSession(token: token, allowing: [.code]) else { return nil }
        try Names.validateSerial(serial)
        let user = pending.userName
        let context = await DeviceVerifier.Context(event: "ConsoleLogin", principal: principalArn(user),
                                             source: source, requestID: nil)
        let mustChange = try await mustChangePassword(user)
        let (newToken, next) = newConsoleSession(user: user, stage: mustChange ? .newPassword : .active, mfaAt: now(),
                                                 source: source)
        let sms = self.sms
        do {
            try await MFAFailureRecorder.write(store, { transaction in
                // A fresh token after the second factor: a token seen before it is worth nothing now.
                // Guesses in flight when too many wrong codes ended the pending sign-in find it gone.
                guard try transaction.deleteConsoleSession(tokenHash: pending.tokenHash) == 1 else {
                    throw IAMError(.accessDenied, "The sign-in has ended: start again with the password.")
                }
                if let device = try transaction.device(serial), device.kind == .sms, device.userName == user {
                    try sms.checkSignIn(serial: serial, code: code, pending: pending, context: context, in: transaction)
                } else {
                    try self.verifier.check(serial: serial, code: code, user: user, context: context, in: transaction)
                }
                try transaction.saveConsoleSession(next)
            }, recordAlso: { error, transaction in
                if let failure = error as? SMSDevices.CodeFailure { try SMSDevices.record(failure, in: transaction) }
                // A wrong code is counted on the pending sign-in in the transaction that judged it,
                // before the next answer is judged (writes run one at a time): a burst of parallel
                // guesses ends the sign-in after exactly `codesPerSignIn` of them.
                guard error is DeviceVerifier.CheckError || error is SMSDevices.CodeFailure,
                      let tries = try transaction.countFactorTry(tokenHash: pending.tokenHash), tries >= Self.codesPerSignIn
                else { return }
                try transaction.deleteConsoleSession(tokenHash: pending.tokenHash)
            })
        } catch is DeviceVerifier.CheckError {
            throw IAMError(.accessDenied, "The MFA code is not valid.")
        } catch let failure as SMSDevices.CodeFailure {
            throw failure.refusal
        }
        return (newToken, next)
    }

    /// Counts an answer to a pending sign-in before it is judged; false (and the pending sign-in
    /// ended) once `codesPerSignIn` answers have been made.
    func reserveFactorAttempt(_ pending: ConsoleSessionRecord) async throws -> Bool {
        guard try await countFactor(pending) <= Self.codesPerSignIn else {
            try await endPending(pending)
            return false
        }
        return true
    }

    /// One more answer for a pending sign-in: the count so far, kept on the pending sign-in's row
    /// (every process sees it; it goes with the row). A sign-in already gone counts as used up.
    private func countFactor(_ pending: ConsoleSessionRecord) async throws -> Int {
        try await store.write { try $0.countFactorTry(tokenHash: pending.tokenHash) } ?? Self.codesPerSignIn + 1
    }

    private func endPending(_ pending: ConsoleSessionRecord) async throws {
        try await store.write { try $0.deleteConsoleSession(tokenHash: pending.tokenHash) }
    }

    /// The session a cookie's token stands for, if it exists, has not expired and is at one of
    /// `stages`; with the principal it acts as.
    public func consoleSession(token: String, allowing stages: Set<ConsoleSessionRecord.Stage> = [.active])
        async throws -> (ConsoleSessionRecord, Principal)? {
        guard (20...200).contains(token.utf8.count) else { return nil }
        let hash = Registry.tokenHash(token)
        let found: (ConsoleSessionRecord, UserRecord?)? = try await store.asyncRead { transaction in
            guard let record = try transaction.consoleSession(tokenHash: hash) else { return nil }
            return (record, record.userName == Registry.rootUser ? nil : try transaction.user(named: record.userName))
        }
        guard let (record, user) = found, record.expires > now(), stages.contains(record.stage) else { return nil }
        if record.userName == Registry.rootUser {
            return (record, Principal(userName: Registry.rootUser, isConsole: true, mfaAuthenticated: record.mfaAt != nil,
                                      mfaAuthenticatedAt: record.mfaAt, userID: accountID, accountID: accountID))
        }
        guard let user else { return nil }  // deleted meanwhile
        return (record, Principal(userName: user.name, isConsole: true, mfaAuthenticated: record.mfaAt != nil,
                                  mfaAuthenticatedAt: record.mfaAt, path: user.path, userID: user.userID, accountID: accountID))
    }

    /// Ends every console session of `user` (a password change, a deactivated device, a deleted
    /// user or login profile), audited when there were any.
    func endConsoleSessions(user: String, because reason: String, in transaction: StoreTransaction) throws {
        let ended = try transaction.deleteConsoleSessions(user: user)
        guard ended > 0 else { return }
        try transaction.appendAudit(consoleAudit("ConsoleSessionsEnded", user: user, source: nil, outcome: .done,
                                                 detail: "\(ended) console session\(ended == 1 ? "" : "s") ended: \(reason)",
                                                 in: transaction))
    }

    /// Sign-out: this session only.
    public func endConsoleSession(token: String, source: String?) async throws {
        let hash = Registry.tokenHash(token)
        try await store.write { transaction in
            guard let record = try transaction.consoleSession(tokenHash: hash) else { return }
            try transaction.deleteConsoleSession(tokenHash: hash)
            try transaction.appendAudit(self.consoleAudit("ConsoleLogout", user: record.userName, source: source,
                                                          outcome: .done, detail: "signed out", in: transaction))
        }
    }

    /// After a forced or chosen password change (which ended every session of the user): this
    /// browser carries on in a new session, with the MFA time of the one it came from.
    public func consoleContinue(after record: ConsoleSessionRecord, source: String?) async throws -> String {
        let (token, next) = newConsoleSession(user: record.userName, stage: .active, mfaAt: record.mfaAt, source: source)
        try await store.write { try $0.saveConsoleSession(next) }
        return token
    }

    /// The root changes its console password (old one checked, throttled like a sign-in); every
    /// root console session ends.
    public func changeRootPassword(old: String, new: String, source: String?) async throws {
        try await confirmRootPassword(old, source: source, wrong: "The old password is incorrect.")
        try await passwords.setRootPassword(new)
    }

    /// A fresh code of one of the caller's own enabled devices, through the one verifier (single
    /// use, throttled, audited under `event`): what the console asks before the root removes one
    /// of its own devices.
    public func confirmCode(_ caller: Principal, serial: String, code: String, event: String, info: RequestInfo) async throws {
        try Names.validateSerial(serial)
        try Names.validateCode(code, parameter: "code")
        let context = self.context(event, caller, info)
        do {
            try await MFAFailureRecorder.write(store) { transaction in
                try self.verifier.check(serial: serial, code: code, user: caller.userName, context: context, in: transaction)
            }
        } catch is DeviceVerifier.CheckError {
            throw IAMError(.accessDenied, "The MFA code is not valid.")
        }
    }

    /// Whether any of the user's policies tests `aws:MultiFactorAuthPresent` or `aws:MultiFactorAuthAge`
    /// (the console then leads a user without a device to the enrolment wizard).
    public func policiesMentionMFA(user: String) async throws -> Bool {
        guard user != Registry.rootUser else { return false }
        return try await Self.mentionMFA(access.resolving { try access.identityPolicies(user: user) })
    }

    static func mentionMFA(_ sources: [PolicySource]) -> Bool {
        sources.contains { source in
            source.document.conditionKeys.contains {
                let key = $0.lowercased()
                return key == "aws:multifactorauthpresent" || key == "aws:multifactorauthage"
            }
        }
    }

    /// What `user` could no longer do for themselves at a console sign-in once the managed policy
    /// `arn` is attached (and could before), before any MFA code, that a sign-in may need: change a password
    /// an administrator marked for change, and (when the user has no MFA device and a policy of
    /// theirs asks for MFA) assign a virtual MFA device. Each entry says it in words; an empty list
    /// means attaching traps nobody. The same evaluation as the authorization point.
    public func trapsAfterAttaching(user name: String, arn: String) async throws -> [String] {
        guard name != Registry.rootUser, let user = try await store.asyncRead({ try $0.user(named: name) }) else { return [] }
        let before = try await access.resolving { try access.identityPolicies(user: name) }
        guard !before.contains(where: { $0.id == arn }) else { return [] }
        guard let added = try await store.asyncRead({ try AccessControl.managed(arn, in: $0) }) else { return [] }
        let after = before + [added]
        let principal = Principal(userName: user.name, isSession: true, isConsole: true, mfaAuthenticated: false,
                                  path: user.path, userID: user.userID, accountID: accountID)
        let keys = ConditionKeys.global(principal, connection: ConditionKeys.Connection(secureTransport: true, sourceIP: nil,
                                                                                        userAgent: nil), now: now())
        let ownArn = userArn(user)
        let mustChangePassword = try await store.asyncRead({ try $0.loginProfile(user: name) })?.resetRequired == true
        let hasDevice = try await !store.asyncRead({ try $0.devices(user: name, assigned: true, kind: nil, after: nil, limit: 1) }).isEmpty
        // AllowUsersToChangePassword stands in for a policy, short of an explicit Deny (as at the
        // authorization point).
        let everyoneMayChange = try await passwords.passwordPolicy()?.allowUsersToChangePassword ?? false
        enum Trap { case password, mfa }
        func traps(_ identity: [PolicySource]) -> Set<Trap> {
            func decision(_ action: String, _ resource: String) -> Decision {
                access.evaluate(principal, action: action, resource: resource, identity: identity, resourcePolicy: nil,
                                keys: { keys }).decision
            }
            func allowed(_ action: String, _ resource: String) -> Bool { decision(action, resource) == .allowed }
            var found: Set<Trap> = []
            let change = decision("iam:ChangePassword", ownArn)
            if mustChangePassword, change == .explicitDeny || (change == .implicitDeny && !everyoneMayChange) {
                found.insert(.password)
            }
            if Self.mentionMFA(identity), !hasDevice,
               !allowed("iam:CreateVirtualMFADevice", "arn:aws:iam::\(accountID):mfa/\(name)") || !allowed("iam:EnableMFADevice", ownArn) {
                found.insert(.mfa)
            }
            return found
        }
        // Only what this policy changes: a user stuck already is not news about this policy.
        let new = traps(after).subtracting(traps(before))
        var words: [String] = []
        if new.contains(.password) {
            words.append("\(name) must set a new password at the next sign-in, and this policy leaves them unable to "
                + "(iam:ChangePassword is not allowed): they could not get past the password page.")
        }
        if new.contains(.mfa) {
            words.append("\(name) has no MFA device, their policies ask for MFA, and with this policy they may not "
                + "assign one themselves (iam:CreateVirtualMFADevice and iam:EnableMFADevice): what needs MFA stays "
                + "out of their reach until an administrator assigns a device.")
        }
        return words
    }

    /// The root's password as a step-up (a root whose MFA devices are all security keys), throttled
    /// like a sign-in.
    public func confirmRootPassword(_ password: String, source: String?,
                                    wrong: String = "The root password is not correct.") async throws {
        let address = source ?? ""
        let throttle = core.signInThrottle
        let time = now()
        let locked: Bool = try await store.write { transaction in
            guard try throttle.retryAfter(user: Registry.rootUser, source: address, now: time, in: transaction) == nil else {
                return true
            }
            try throttle.failed(user: Registry.rootUser, source: address, now: time, in: transaction)
            return false
        }
        guard !locked else { throw IAMError(.limitExceeded, "Too many wrong passwords: try again later.") }
        guard try await passwords.verifyRootPassword(password) else {
            throw IAMError(.accessDenied, wrong)
        }
        try await store.write { try throttle.forgive(user: Registry.rootUser, source: address, in: $0) }
    }

    /// Whether the user's password must be changed before anything else (reset required, or
    /// past the policy's MaxPasswordAge).
    func mustChangePassword(_ user: String) async throws -> Bool {
        guard user != Registry.rootUser, let profile = try await store.asyncRead({ try $0.loginProfile(user: user) }) else { return false }
        if profile.resetRequired { return true }
        return try await passwords.passwordPolicy().map { passwordExpired(profile, policy: $0) } ?? false
    }

    /// Past the policy's MaxPasswordAge.
    func passwordExpired(_ profile: LoginProfileRecord, policy: PasswordPolicy) -> Bool {
        guard let days = policy.maxAge else { return false }
        return profile.changed + Int64(days) * 86_400_000 < now()
    }

    func newConsoleSession(user: String, stage: ConsoleSessionRecord.Stage, mfaAt: Int64?, source: String?)
        -> (String, ConsoleSessionRecord) {
        let token = Names.random(Names.urlSafeAlphabet, count: 43)
        let created = now()
        let lifetime = stage == .code ? Self.pendingSessionMs
            : (user == Registry.rootUser ? Self.rootConsoleSessionMs : Self.userConsoleSessionMs)
        return (token, ConsoleSessionRecord(tokenHash: Registry.tokenHash(token), userName: user, stage: stage,
                                            csrf: Names.random(Names.urlSafeAlphabet, count: 43), created: created,
                                            expires: created + lifetime, mfaAt: mfaAt, source: source))
    }

    func principalArn(_ user: String, in transaction: StoreTransaction) -> String {
        user == Registry.rootUser ? rootArn : (try? transaction.user(named: user)).flatMap { $0.map(userArn) }
            ?? "arn:aws:iam::\(accountID):user/\(user)"
    }

    func principalArn(_ user: String) async -> String {
        (try? await store.asyncRead { self.principalArn(user, in: $0) }) ?? "arn:aws:iam::\(accountID):user/\(user)"
    }

    /// An audit entry about a (known) user's console session; `root` is the account root.
    func consoleAudit(_ event: String, user: String, source: String?, outcome: AuditOutcome, detail: String,
                      in transaction: StoreTransaction) -> AuditRecord {
        AuditRecord(time: now(), event: event, outcome: outcome, principal: principalArn(user, in: transaction), serial: nil,
                    source: source, requestID: nil, detail: detail)
    }

    /// A failed or refused sign-in, audited at most 20 times a second (an anonymous caller can make
    /// these as fast as it likes; every row is a durable write). A name that is no user's is not
    /// logged — people type passwords into the user field — and a typed "root" is never the root.
    func auditSignInFailure(user: String?, isRoot: Bool, source: String?, outcome: AuditOutcome, detail: String) async {
        let time = now()
        let skipped: Int? = core.signInAuditWindow.withLock { window in
            if window.second != time / 1000 { window = (time / 1000, 0, window.skipped) }
            window.count += 1
            guard window.count <= 20 else {
                window.skipped += 1
                return nil
            }
            defer { window.skipped = 0 }
            return window.skipped
        }
        guard let skipped else { return }
        let principal: String
        if isRoot {
            principal = rootArn
        } else if let user, user != Registry.rootUser,
                  let arn = try? await store.asyncRead({ try $0.user(named: user).map(self.userArn) }) {
            principal = arn
        } else {
            principal = "arn:aws:iam::\(accountID):user/HIDDEN_DUE_TO_SECURITY_REASONS"
        }
        let entry = AuditRecord(time: time, event: "ConsoleLogin", outcome: outcome, principal: principal, serial: nil,
                                source: source, requestID: nil,
                                detail: detail + (skipped > 0 ? " (\(skipped) earlier failures not logged: rate limit)" : ""))
        try? await store.write { try $0.appendAudit(entry) }
    }

    /// A hash of nothing anyone knows, at the current cost: what a missing user's password is checked against.
    func decoyHash() async -> String {
        if let made = core.decoy.withLock({ $0 }) { return made }
        let made = (try? await core.hasher.hash(Names.random(Names.urlSafeAlphabet, count: 32))) ?? ""
        core.decoy.withLock { $0 = made }
        return made
    }
}

/// Backoff for failed sign-ins, per (user, source address) and per source address: a stranger
/// elsewhere cannot lock a user out, and one address cannot try many users. Counters forget
/// failures 15 minutes after the last one. They live in the database (`attempt_counters`),
/// written in the caller's transaction: every process sharing the data folder — every node of a
/// cluster — counts the same failures, so a burst spread over them is bounded as on one.
public struct SignInThrottle: Sendable {
    /// Free failures before the lock, and the lock's ceiling.
    let perUserFree: Int
    let perSourceFree: Int
    static let maxLockMs: Int64 = 900_000
    static let forgetMs: Int64 = 900_000

    public init(perUserFree: Int = 3, perSourceFree: Int = 20) {
        self.perUserFree = perUserFree
        self.perSourceFree = perSourceFree
    }

    /// Milliseconds until this (user, source) may try again; nil when it may now.
    public func retryAfter(user: String, source: String, now: Int64, in transaction: StoreTransaction) throws -> Int64? {
        let locked = try [Self.pairKey(user, source), Self.sourceKey(source)].compactMap { try transaction.attemptCounter($0) }
            .filter { now - $0.last < Self.forgetMs }.map(\.lockedUntil).max() ?? 0
        return locked > now ? locked - now : nil
    }

    /// Counts a failure (before the password is judged: a burst cannot outrun the count).
    public func failed(user: String, source: String, now: Int64, in transaction: StoreTransaction) throws {
        for (key, free) in [(Self.pairKey(user, source), perUserFree), (Self.sourceKey(source), perSourceFree)] {
            var entry = try transaction.attemptCounter(key).flatMap { now - $0.last < Self.forgetMs ? $0 : nil }
                ?? AttemptCounter(failures: 0, lockedUntil: 0, last: now)
            entry.failures += 1
            entry.last = now
            if entry.failures > free {
                let shift = min(entry.failures - free - 1, 10)
                entry.lockedUntil = now + min(Int64(1000) << shift, Self.maxLockMs)
            }
            try transaction.saveAttemptCounter(key, entry, forgetBefore: now - Self.forgetMs)
        }
    }

    /// Takes back the failure counted before a check that turned out right (or never ran).
    public func forgive(user: String, source: String, in transaction: StoreTransaction) throws {
        for key in [Self.pairKey(user, source), Self.sourceKey(source)] {
            guard var entry = try transaction.attemptCounter(key) else { continue }
            entry.failures = max(0, entry.failures - 1)
            try transaction.saveAttemptCounter(key, entry, forgetBefore: entry.last - Self.forgetMs)
        }
    }

    /// A right password clears its (user, source) pair; the source's count stays (it may be guessing many users).
    public func succeeded(user: String, source: String, in transaction: StoreTransaction) throws {
        try transaction.deleteAttemptCounter(Self.pairKey(user, source))
    }

    /// Counter keys: the user's part length-prefixed (a typed name may hold any character, and
    /// SQLite text stops at a NUL), so that no two (user, network) pairs share a key.
    static func pairKey(_ user: String, _ source: String) -> String {
        let name = String(decoding: user.utf8.prefix(128), as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        return "signin:u:\(name.utf8.count):\(name):\(network(String(source.prefix(128))))"
    }
    static func sourceKey(_ source: String) -> String { "signin:s:\(network(String(source.prefix(128))))" }

    /// An IPv6 address counts as its /64 (one host usually holds a whole /64); IPv4 as itself.
    static func network(_ source: String) -> String {
        guard source.contains(":"), !source.contains(".") else { return source }
        let halves = source.lowercased().split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        let head = halves[0].split(separator: ":").map(String.init)
        let tail = halves.count > 1 ? halves[1].split(separator: ":").map(String.init) : []
        let groups = head + Array(repeating: "0", count: max(0, 8 - head.count - tail.count)) + tail
        return groups.prefix(4).map { group in String(group.drop { $0 == "0" }).isEmpty ? "0" : String(group.drop { $0 == "0" }) }
            .joined(separator: ":") + "::/64"
    }
}
