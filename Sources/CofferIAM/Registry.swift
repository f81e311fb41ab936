import CofferCore
import CofferStore
import Crypto
import Foundation
import Synchronization

/// The IAM-style registry: one object that holds the shared state and hands out its parts, each
/// a concern of its own — `users` (users and access keys), `devices` (MFA devices and the
/// verifier's writes), `securityKeys` (WebAuthn), `passwords` (login profiles, the password
/// policy, the root's password), `policies` (inline and managed policies, attachments, groups),
/// `console` (console sign-in and sessions) and `account` (temporary credentials, the account
/// summary, the credential report, the audit log).
///
/// Who may call what is decided before any of these functions runs, at the IAM API's
/// authorization point (`AccessControl`, from the caller's policies). What stays in the parts are
/// the rules that are not policies: the root's MFA changes need an MFA session
/// (`requireRootMFA`), and only an unassigned device's creator or the root may enable it.
public final class Registry: Sendable {
    public static let rootUser = "root"
    public static let maxDevicesPerUser = 8
    /// Unassigned virtual devices an IAM user may hold at once (the root is not capped).
    public static let maxUnassignedDevicesPerUser = 8
    public static let maxKeysPerUser = 2

    let core: RegistryCore
    public let users: Users
    public let devices: MFADevices
    public let securityKeys: SecurityKeys
    public let passwords: Passwords
    public let policies: Policies
    public let console: ConsoleSignIn
    public let account: Account
    public let sms: SMSDevices

    public var store: Store { core.store }
    public var verifier: DeviceVerifier { core.verifier }
    public var accountID: String { core.accountID }
    /// The authorization point's policies and decisions (shared by the S3 and IAM APIs).
    public var access: AccessControl { core.access }
    public var signInThrottle: SignInThrottle { core.signInThrottle }
    public var rootArn: String { core.rootArn }

    public init(store: Store, verifier: DeviceVerifier, accountID: String, passwords: PasswordHasher = PasswordHasher(),
                sms: SMSSettings = SMSSettings()) {
        let core = RegistryCore(store: store, verifier: verifier, accountID: accountID, hasher: passwords, sms: sms)
        self.core = core
        users = Users(core: core)
        devices = MFADevices(core: core)
        securityKeys = SecurityKeys(core: core)
        self.passwords = Passwords(core: core)
        policies = Policies(core: core)
        console = ConsoleSignIn(core: core)
        account = Account(core: core)
        self.sms = SMSDevices(core: core)
    }

    public func userArn(_ user: UserRecord) -> String { core.userArn(user) }

    public func arn(of caller: Principal) -> String { core.arn(of: caller) }

    /// The root as a principal with its long-term keys.
    public func rootPrincipal(accessKey: String) -> Principal {
        Principal(userName: Self.rootUser, accessKey: accessKey, userID: accountID, accountID: accountID)
    }

    public static func tokenHash(_ token: String) -> String {
        hexString(SHA256.hash(data: Array(token.utf8)))
    }
}

/// What every part of the registry shares: the store, the verifier, the account, and the state
/// kept in memory between calls (throttles, caches). One per registry.
public final class RegistryCore: Sendable {
    let store: Store
    let verifier: DeviceVerifier
    let accountID: String
    /// Access keys looked up recently (every signed request by an IAM user or session looks its
    /// key up): valid until the next write to the data folder, by any process.
    let credentials: ThreadLocalGenerationCache<String, Credential?>
    let access: AccessControl
    /// Console passwords (scrypt, a few at a time).
    let hasher: PasswordHasher
    /// Failed console sign-ins, per (user, address) and per address (counted in the database).
    let signInThrottle = SignInThrottle()
    /// Failed sign-ins audited this second, and how many were left out.
    let signInAuditWindow = Mutex<(second: Int64, count: Int, skipped: Int)>((0, 0, 0))
    /// The hash a missing user's password is checked against (made once, at the current cost).
    let decoy = Mutex<String?>(nil)
    /// When this process last recorded each access key's use (Unix ms).
    let keyUseRecorded = Mutex<[String: Int64]>([:])
    /// Where SMS codes go and what the account allows of them.
    let smsSettings: SMSSettings

    init(store: Store, verifier: DeviceVerifier, accountID: String, hasher: PasswordHasher, sms: SMSSettings) {
        self.smsSettings = sms
        self.store = store
        self.verifier = verifier
        self.accountID = accountID
        self.hasher = hasher
        credentials = store.makeThreadLocalCache(maxEntries: 4096, domain: .access)
        access = AccessControl(store: store, accountID: accountID)
    }

    var rootArn: String { "arn:aws:iam::\(accountID):root" }

    func userArn(_ user: UserRecord) -> String { "arn:aws:iam::\(accountID):user\(user.path)\(user.name)" }

    func arn(of caller: Principal) -> String {
        caller.isRoot ? rootArn : "arn:aws:iam::\(accountID):user\(caller.path)\(caller.userName)"
    }
}

/// A part of the registry: its functions read the shared state through `core`, and reach the
/// other parts for the few steps that cross concerns (deleting a user unassigns its devices).
public protocol RegistryPart: Sendable {
    var core: RegistryCore { get }
}

extension RegistryPart {
    public typealias RequestInfo = Registry.RequestInfo
    public typealias SignInOutcome = Registry.SignInOutcome
    public typealias SignInResult = Registry.SignInResult
    public typealias ManagedPolicy = Registry.ManagedPolicy
    public typealias PolicyScope = Registry.PolicyScope
    public typealias UserSummary = Registry.UserSummary
    public typealias ChallengePurpose = Registry.ChallengePurpose

    var store: Store { core.store }
    var verifier: DeviceVerifier { core.verifier }
    var accountID: String { core.accountID }
    var access: AccessControl { core.access }
    var masterKey: MasterKey { core.verifier.masterKey }
    func now() -> Int64 { core.verifier.now() }
    var rootArn: String { core.rootArn }
    func userArn(_ user: UserRecord) -> String { core.userArn(user) }
    func arn(of caller: Principal) -> String { core.arn(of: caller) }

    var users: Users { Users(core: core) }
    var devices: MFADevices { MFADevices(core: core) }
    var securityKeys: SecurityKeys { SecurityKeys(core: core) }
    var passwords: Passwords { Passwords(core: core) }
    var policies: Policies { Policies(core: core) }
    var console: ConsoleSignIn { ConsoleSignIn(core: core) }
    var account: Account { Account(core: core) }
    var sms: SMSDevices { SMSDevices(core: core) }

    /// The verifier's view of a request: what it is for and who made it (for the audit log).
    func context(_ event: String, _ caller: Principal, _ info: RequestInfo) -> DeviceVerifier.Context {
        DeviceVerifier.Context(event: event, principal: arn(of: caller), source: info.source, requestID: info.requestID)
    }

    func audit(_ event: String, _ caller: Principal, _ info: RequestInfo, serial: String?, outcome: AuditOutcome = .done,
               detail: String? = nil) -> AuditRecord {
        AuditRecord(time: now(), event: event, outcome: outcome, principal: arn(of: caller), serial: serial,
                    source: info.source, requestID: info.requestID, detail: detail)
    }

    /// Refuses a new device for `user` once it has `maxDevicesPerUser` (every kind counts, as on AWS).
    func requireDeviceRoom(user: String, in transaction: StoreTransaction) throws {
        guard try transaction.devices(user: user, assigned: nil, kind: nil, after: nil,
                                      limit: Registry.maxDevicesPerUser).count < Registry.maxDevicesPerUser
        else { throw IAMError(.limitExceeded, "Cannot exceed quota for MFADevicesPerUser: \(Registry.maxDevicesPerUser)") }
    }

    /// The user a request names, or the caller when it names none. `root` names the account root.
    func requireUser(_ name: String?, caller: Principal, in transaction: StoreTransaction) throws -> String {
        let name = name ?? caller.userName
        if name == Registry.rootUser {
            // The root's credentials are the root's alone: no policy lets an IAM user name them (AWS).
            guard caller.isRoot else { throw IAMError(.noSuchEntity, "The user with name \(name) cannot be found.") }
            return name
        }
        try Names.validateUserName(name)
        guard try transaction.user(named: name) != nil else {
            throw IAMError(.noSuchEntity, "The user with name \(name) cannot be found.")
        }
        return name
    }

    /// IAM's answer to a name that is taken — by itself, or by a name that differs only by case
    /// (IAM names are not distinguished by case).
    static func nameTaken(_ kind: String, _ name: String, by existing: String) -> IAMError {
        IAMError(.entityAlreadyExists, existing == name ? "\(kind) with name \(name) already exists."
            : "\(kind) with name \(name) already exists as \(existing) (names are not distinguished by case).")
    }
}

/// IAM users and their access keys, and the credential lookup every signed request makes.
public struct Users: RegistryPart {
    public let core: RegistryCore

    /// Whether the account has any IAM user.
    public func hasAnyUser() async throws -> Bool {
        try await store.asyncRead { try !$0.users(after: nil, limit: 1).isEmpty }
    }

    public func createUser(_ caller: Principal, name: String, path: String?) async throws -> UserRecord {
        try Names.validateUserName(name)
        // IAM names are not distinguished by case: `Root` would pass for the root, `Bob` for `bob`.
        guard name.lowercased() != Registry.rootUser else {
            throw IAMError(.invalidInput, "The user name '\(name)' is reserved for the account root (names are not distinguished by case).")
        }
        let path = path ?? "/"
        try Names.validatePath(path)
        let user = UserRecord(name: name, userID: "AIDA" + Names.random(Names.upperAlphanumeric, count: 17), path: path,
                              created: now())
        return try await store.write { transaction in
            if let existing = try transaction.userNamedIgnoringCase(name) { throw Self.nameTaken("User", name, by: existing) }
            try transaction.insertUser(user)
            return user
        }
    }

    /// GetUser: the named user, or the caller (nil for the root, which is not an IAM user).
    public func getUser(_ caller: Principal, name: String?) async throws -> UserRecord? {
        let target = name ?? caller.userName
        if target == Registry.rootUser { return nil }
        return try await store.asyncRead { transaction in
            guard let user = try transaction.user(named: target) else {
                throw IAMError(.noSuchEntity, "The user with name \(target) cannot be found.")
            }
            return user
        }
    }

    public func listUsers(_ caller: Principal, marker: String?, maxItems: Int) async throws -> Page<UserRecord> {
        let rows = try await store.asyncRead { try $0.users(after: marker, limit: maxItems + 1) }
        return Page(rows, maxItems: maxItems) { $0.name }
    }

    /// DeleteUser: `DeleteConflict` while the user still has access keys or MFA devices.
    public func deleteUser(_ caller: Principal, name: String) async throws {
        try await store.write { transaction in
            _ = try self.requireUser(name, caller: caller, in: transaction)
            guard name != Registry.rootUser else { throw IAMError(.invalidInput, "The account root cannot be deleted.") }
            if try !transaction.accessKeys(user: name).isEmpty {
                throw IAMError(.deleteConflict, "Cannot delete entity, must delete access keys first.")
            }
            if try !transaction.devices(user: name, assigned: nil, kind: nil, after: nil, limit: 1).isEmpty {
                throw IAMError(.deleteConflict, "Cannot delete entity, must remove MFA devices first.")
            }
            if try !transaction.groups(ofUser: name).isEmpty {
                throw IAMError(.deleteConflict, "Cannot delete entity, must remove users from group first.")
            }
            if try transaction.loginProfile(user: name) != nil {
                throw IAMError(.deleteConflict, "Cannot delete entity, must delete login profile first.")
            }
            if try transaction.hasPolicies(.user(name)) {
                throw IAMError(.deleteConflict, "Cannot delete entity, must delete policies first.")
            }
            try transaction.deleteUser(named: name)
            try transaction.deleteSessions(user: name)
            try self.console.endConsoleSessions(user: name, because: "the user was deleted", in: transaction)
        }
    }

    // MARK: Access keys

    /// A new key pair; the secret is returned once and stored sealed.
    public func createAccessKey(_ caller: Principal, userName: String?) async throws -> (AccessKeyRecord, secret: String) {
        let target = userName ?? caller.userName
        guard target != Registry.rootUser else {
            throw IAMError(.invalidInput, "Root keys come from the server's configuration, not from CreateAccessKey.")
        }
        let accessKey = "AKIA" + Names.random(Names.upperAlphanumeric, count: 16)
        let secret = Names.random(Names.secretAlphabet, count: 40)
        let record = AccessKeyRecord(accessKey: accessKey, userName: target,
                                     sealedSecret: try masterKey.seal(Array(secret.utf8), context: accessKey),
                                     status: .active, created: now())
        try await store.write { transaction in
            _ = try self.requireUser(target, caller: caller, in: transaction)
            guard try transaction.accessKeys(user: target).count < Registry.maxKeysPerUser else {
                throw IAMError(.limitExceeded, "Cannot exceed quota for AccessKeysPerUser: \(Registry.maxKeysPerUser)")
            }
            try transaction.insertAccessKey(record)
        }
        return (record, secret)
    }

    public func listAccessKeys(_ caller: Principal, userName: String?) async throws -> [AccessKeyRecord] {
        let target = userName ?? caller.userName
        return try await store.asyncRead { transaction in
            _ = try self.requireUser(target, caller: caller, in: transaction)
            return try transaction.accessKeys(user: target)
        }
    }

    public func updateAccessKey(_ caller: Principal, userName: String?, accessKey: String, status: String) async throws {
        guard let status = AccessKeyStatus(rawValue: status) else {
            throw IAMError.validation("status", "Member must satisfy enum value set: [Active, Inactive]")
        }
        try await store.write { transaction in
            try self.requireKey(accessKey, of: userName ?? caller.userName, in: transaction)
            try transaction.setAccessKeyStatus(accessKey, status)
        }
    }

    public func deleteAccessKey(_ caller: Principal, userName: String?, accessKey: String) async throws {
        try await store.write { transaction in
            try self.requireKey(accessKey, of: userName ?? caller.userName, in: transaction)
            try transaction.deleteAccessKey(accessKey)
        }
    }

    private func requireKey(_ accessKey: String, of user: String, in transaction: StoreTransaction) throws {
        guard let record = try transaction.accessKey(accessKey), record.userName == user else {
            throw IAMError(.noSuchEntity, "The Access Key with id \(accessKey) cannot be found.")
        }
    }

    // MARK: Authentication

    /// How often a key's last use is written: AWS's own record may lag by hours.
    static let keyUseGranularityMs: Int64 = 3_600_000

    /// A request signed with this IAM user's key was verified: recorded off the request's path,
    /// at most once an hour a key per process (the first use at once).
    public func noteKeyUse(_ accessKey: String, service: String, region: String) {
        let now = now()
        let due = core.keyUseRecorded.withLock { recorded -> Bool in
            if let last = recorded[accessKey], now - last < Self.keyUseGranularityMs { return false }
            if recorded.count >= 65_536 { recorded.removeAll(keepingCapacity: true) }
            recorded[accessKey] = now
            return true
        }
        guard due else { return }
        let store = self.store
        Task { _ = try? await store.write { try $0.recordKeyUse(accessKey, at: now, service: service, region: region) } }
    }

    /// An access key id as AWS's and ours are: 16 to 128 ASCII letters and digits.
    public static func isWellFormedKeyID(_ accessKey: String) -> Bool {
        (16...128).contains(accessKey.utf8.count)
            && accessKey.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// Whose access key this is (nil: no such key; root and session keys are not IAM users' keys).
    public func accessKeyOwner(_ accessKey: String) async throws -> String? {
        guard Self.isWellFormedKeyID(accessKey) else { return nil }
        return try await store.asyncRead { try $0.accessKey(accessKey)?.userName }
    }

    /// GetAccessKeyLastUsed's answer: nil when the key has not signed a request yet.
    public func lastUsed(accessKey: String) async throws -> (time: Int64, service: String, region: String)? {
        try await store.asyncRead { try $0.keyUse(accessKey) }
    }

    /// Cached (see `credentials`): a request signed with a key costs no database read and no
    /// decryption while nothing has been written. A new, deactivated or deleted key or session is a
    /// write, and so seen at once; a session's expiry is checked on every request.
    ///
    /// Only well-formed key ids (ASCII letters and digits, at most 128, as AWS's and ours are) are
    /// looked up, and only keys that exist are remembered: a look-alike id (a Kelvin sign for the
    /// K of AKIA compares equal as a Swift String) or a stream of random ids can neither shadow a
    /// real key nor fill the cache.
    public func credential(for accessKey: String) throws -> Credential? {
        guard Self.isWellFormedKeyID(accessKey) else { return nil }
        return try core.credentials.value(for: accessKey, keep: { $0 != nil }) { try lookUpCredential(accessKey) }
    }

    private func lookUpCredential(_ accessKey: String) throws -> Credential? {
        try store.decisionRead("credential\u{0}" + accessKey) { [masterKey, accountID] transaction -> Credential? in
            if let key = try transaction.accessKey(accessKey) {
                guard key.status == .active else { return nil }
                let secret = try masterKey.open(key.sealedSecret, context: accessKey)
                let user = try transaction.user(named: key.userName)
                return Credential(secretKey: String(decoding: secret, as: UTF8.self),
                                  principal: Principal(userName: key.userName, accessKey: accessKey, path: user?.path ?? "/",
                                                       userID: user?.userID ?? "", accountID: accountID))
            }
            if let session = try transaction.session(accessKey) {
                let secret = try masterKey.open(session.sealedSecret, context: accessKey)
                let user = session.userName == Registry.rootUser ? nil : try transaction.user(named: session.userName)
                let principal = Principal(userName: session.userName, isSession: true,
                                          mfaAuthenticated: session.mfaAuthenticated,
                                          mfaAuthenticatedAt: session.mfaAuthenticated ? session.authenticated : nil,
                                          accessKey: accessKey, path: user?.path ?? "/",
                                          userID: user?.userID ?? accountID, accountID: accountID)
                return Credential(secretKey: String(decoding: secret, as: UTF8.self), principal: principal,
                                  sessionTokenHash: session.tokenHash, expiration: session.expires / 1000)
            }
            return nil
        }
    }
}

/// A page of a Marker/MaxItems listing.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var isTruncated: Bool
    public var marker: String?

    init(_ rows: [Item], maxItems: Int, key: (Item) -> String) {
        isTruncated = rows.count > maxItems
        items = Array(rows.prefix(maxItems))
        marker = isTruncated ? items.last.map(key) : nil
    }
}
