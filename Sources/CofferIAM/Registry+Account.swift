import CofferCore
import CofferStore
import Foundation

/// Temporary credentials from GetSessionToken.
public struct SessionCredentials: Sendable {
    public var accessKey: String
    public var secret: String
    public var token: String
    /// Milliseconds since 1970.
    public var expiration: Int64
}

/// The account as a whole: temporary credentials (GetSessionToken), the account summary, the
/// credential report, and the audit log's pages.
public struct Account: RegistryPart {
    public let core: RegistryCore

    /// GetSessionToken: 900–129,600 s (at most 3,600 for the root; longer asks get one hour, as on
    /// AWS). With SerialNumber + TokenCode the session is MFA-authenticated; a bad code is
    /// `AccessDenied`, and the code goes through the one verifier (single use, throttled).
    public func getSessionToken(_ caller: Principal, duration: Int?, serial: String?, code: String?,
                                info: RequestInfo) async throws -> SessionCredentials {
        guard !caller.isSession else {
            throw IAMError(.accessDenied, "Cannot call GetSessionToken with session credentials")
        }
        var seconds = duration ?? (caller.isRoot ? 3600 : 43_200)
        guard (900...129_600).contains(seconds) else {
            throw IAMError.validation("durationSeconds", "Member must have value between 900 and 129600")
        }
        if caller.isRoot { seconds = min(seconds, 3600) }
        guard (serial == nil) == (code == nil) else {
            throw IAMError(.missingParameter, "SerialNumber and TokenCode must be given together.")
        }
        if let serial { try Names.validateSerial(serial) }
        if let code { try Names.validateCode(code, parameter: "tokenCode") }

        let issued = now()
        let (session, credentials) = try newSession(user: caller.userName, mfaAuthenticated: serial != nil,
                                                    expires: issued + Int64(seconds) * 1000, authenticated: issued)
        let context = self.context("GetSessionToken", caller, info)
        do {
            try await MFAFailureRecorder.write(store) { transaction in
                if let serial, let code {
                    try self.verifier.check(serial: serial, code: code, user: caller.userName, context: context,
                                            in: transaction)
                }
                try transaction.deleteExpiredSessions(before: self.now())
                try transaction.insertSession(session)
            }
        } catch let error as DeviceVerifier.CheckError where error.failure == .securityKey {
            throw IAMError(.accessDenied, "MultiFactorAuthentication failed: \(serial ?? "the device") is a security key, which "
                + "cannot be used with GetSessionToken; use a virtual or hardware TOTP device.")
        } catch let error as DeviceVerifier.CheckError where error.failure == .smsDevice {
            throw IAMError(.accessDenied, "MultiFactorAuthentication failed: \(serial ?? "the device") is an SMS device, whose "
                + "codes are sent for console sign-in only and cannot be used with GetSessionToken; use a virtual or hardware "
                + "TOTP device.")
        } catch is DeviceVerifier.CheckError {
            throw IAMError(.accessDenied, "MultiFactorAuthentication failed with invalid MFA one time pass code.")
        }
        return credentials
    }

    /// New temporary credentials (`ASIA…`, a 40-character secret sealed at rest, a session token
    /// stored only as its hash) and the row that stands for them.
    func newSession(user: String, mfaAuthenticated: Bool, expires: Int64, authenticated: Int64?) throws
        -> (SessionRecord, SessionCredentials) {
        let accessKey = "ASIA" + Names.random(Names.upperAlphanumeric, count: 16)
        let secret = Names.random(Names.secretAlphabet, count: 40)
        let token = Names.random(Names.secretAlphabet, count: 160)
        let session = SessionRecord(accessKey: accessKey, sealedSecret: try masterKey.seal(Array(secret.utf8), context: accessKey),
                                    tokenHash: Registry.tokenHash(token), userName: user, mfaAuthenticated: mfaAuthenticated,
                                    expires: expires, authenticated: authenticated)
        return (session, SessionCredentials(accessKey: accessKey, secret: secret, token: token, expiration: expires))
    }

    /// Temporary credentials standing in for a console session — for the links the console
    /// presigns, so that no long-term key (the root's least of all) signs them. They carry the
    /// session's MFA state and expire at `expires` (the caller keeps that within the session).
    public func consoleSessionCredentials(_ principal: Principal, expires: Int64) async throws -> SessionCredentials {
        guard principal.isConsole, expires > now() else {
            throw IAMError(.accessDenied, "Only a console session that has not ended gets temporary credentials here.")
        }
        let (session, credentials) = try newSession(user: principal.userName, mfaAuthenticated: principal.mfaAuthenticated,
                                                    expires: expires, authenticated: principal.mfaAuthenticatedAt)
        try await store.write { transaction in
            try transaction.deleteExpiredSessions(before: self.now())
            // Each link is a row until it expires: a bound, so that no session can fill the disk.
            guard try transaction.liveSessionCount(user: principal.userName, at: self.now()) < Self.maxConsoleLinkSessions else {
                throw IAMError(.limitExceeded, "You have \(Self.maxConsoleLinkSessions) temporary credentials that have not "
                    + "expired yet: wait for some to expire before making more links.")
            }
            try transaction.insertSession(session)
        }
        return credentials
    }

    /// Live temporary credentials a user may hold when the console makes one more for a link.
    public static let maxConsoleLinkSessions = 200

    // MARK: Audits

    /// GetAccountSummary's SummaryMap.
    public func accountSummary(_ caller: Principal) async throws -> [(String, Int)] {
        return try await store.asyncRead { transaction in
            let rootDevices = try transaction.devices(user: Registry.rootUser, assigned: nil, kind: nil, after: nil, limit: 1)
            return [
                ("AccessKeysPerUserQuota", Registry.maxKeysPerUser),
                ("AccountAccessKeysPresent", 1),
                ("AccountMFAEnabled", rootDevices.isEmpty ? 0 : 1),
                ("AttachedPoliciesPerGroupQuota", Policies.maxAttachedPolicies),
                ("AttachedPoliciesPerUserQuota", Policies.maxAttachedPolicies),
                ("GroupPolicySizeQuota", Policies.maxGroupInlineSize),
                ("Groups", try transaction.groupCount()),
                ("GroupsPerUserQuota", Policies.maxGroupsPerUser),
                ("GroupsQuota", Policies.maxGroups),
                ("MFADevices", try transaction.deviceCount()),
                ("MFADevicesInUse", try transaction.deviceCount(assigned: true)),
                ("Policies", try transaction.managedPolicyCount()),
                ("PoliciesQuota", Policies.maxManagedPolicies),
                ("PolicySizeQuota", Policies.maxManagedPolicySize),
                ("PolicyVersionsInUse", try transaction.attachedArns().count),
                ("UserPolicySizeQuota", Policies.maxUserInlineSize),
                ("Users", try transaction.userCount()),
                ("UsersQuota", 5000),
                ("VersionsPerPolicyQuota", Policies.maxPolicyVersions),
            ]
        }
    }

    /// GenerateCredentialReport: builds the CSV now (the state is COMPLETE at once).
    public func generateCredentialReport(_ caller: Principal) async throws {
        let generated = now()
        try await store.write { transaction in
            var lines = ["user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,"
                + "access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated"]
            let created = try transaction.setting("account_created_ms").flatMap(Int64.init) ?? generated
            let rootMFA = try !transaction.devices(user: Registry.rootUser, assigned: nil, kind: nil, after: nil, limit: 1).isEmpty
            lines.append("<root_account>,\(self.rootArn),\(Self.iso(created)),not_supported,\(rootMFA),true,N/A,false,N/A")
            var marker: String?
            while true {
                let users = try transaction.users(after: marker, limit: 500)
                for user in users {
                    let mfa = try !transaction.devices(user: user.name, assigned: nil, kind: nil, after: nil, limit: 1).isEmpty
                    let keys = try transaction.accessKeys(user: user.name)
                    func key(_ index: Int) -> String {
                        guard index < keys.count else { return "false,N/A" }
                        return "\(keys[index].status == .active),\(Self.iso(keys[index].created))"
                    }
                    let password = try transaction.loginProfile(user: user.name) != nil
                    lines.append("\(user.name),\(self.userArn(user)),\(Self.iso(user.created)),\(password),\(mfa),\(key(0)),\(key(1))")
                }
                guard users.count == 500 else { break }
                marker = users.last?.name
            }
            try transaction.setSetting("credential_report", lines.joined(separator: "\n") + "\n")
            try transaction.setSetting("credential_report_ms", String(generated))
        }
    }

    /// GetCredentialReport: the CSV and when it was generated; `ReportNotPresent` before one was.
    public func credentialReport(_ caller: Principal) async throws -> (csv: String, generated: Int64) {
        return try await store.asyncRead { transaction in
            guard let csv = try transaction.setting("credential_report"),
                  let time = try transaction.setting("credential_report_ms").flatMap(Int64.init)
            else { throw IAMError(.reportNotPresent, "Credential report does not exist. Use GenerateCredentialReport.") }
            return (csv, time)
        }
    }

    static func iso(_ milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// What the console shows of IAM, read for it here: the console never opens a store transaction
/// of its own. Each is one consistent snapshot.
extension Registry {
    /// What the credential report tells of a user: console password, assigned devices, access keys.
    public struct UserSummary: Sendable {
        public var user: UserRecord
        public var hasPassword: Bool
        public var deviceKinds: [DeviceKind]
        public var accessKeys: Int
    }
}

/// What the console shows of IAM, read for it here: the console never opens a store transaction
/// of its own. Each is one consistent snapshot.
extension Account {
    /// The names of users (among the first 1,000) with no assigned MFA device.
    public func usersWithoutMFA() async throws -> [String] {
        try await store.asyncRead { transaction in
            try transaction.users(after: nil, limit: 1000).filter {
                try transaction.devices(user: $0.name, assigned: true, kind: nil, after: nil, limit: 1).isEmpty
            }.map(\.name)
        }
    }

    public func summaries(of users: [UserRecord]) async throws -> [UserSummary] {
        try await store.asyncRead { transaction in
            try users.map { user in
                UserSummary(user: user, hasPassword: try transaction.loginProfile(user: user.name) != nil,
                            deviceKinds: try transaction.devices(user: user.name, assigned: true, kind: nil, after: nil,
                                                                 limit: Registry.maxDevicesPerUser).map(\.kind),
                            accessKeys: try transaction.accessKeys(user: user.name).count)
            }
        }
    }

    /// A page of the audit log, newest first, before entry `before`.
    public func auditPage(before: Int64?, principalSuffix: String?, outcome: String?, limit: Int) async throws -> [AuditRecord] {
        try await store.asyncRead { try $0.auditPage(before: before, principalSuffix: principalSuffix, outcome: outcome, limit: limit) }
    }
    /// Appends an audit entry made elsewhere (a console action); a row that cannot be written is
    /// dropped rather than failing the action it records.
    public func appendAudit(_ entry: AuditRecord) async {
        _ = try? await store.write { try $0.appendAudit(entry) }
    }
}
