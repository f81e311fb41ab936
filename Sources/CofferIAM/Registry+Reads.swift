import CofferCore
import CofferStore

/// What the console shows of IAM, read for it here: the console never opens a store transaction
/// of its own. Each is one consistent snapshot.
extension Registry {
    /// A user's assigned MFA devices (at most the quota).
    public func enabledDevices(user: String) throws -> [DeviceRecord] {
        try store.read { try $0.devices(user: user, assigned: true, kind: nil, after: nil, limit: Self.maxDevicesPerUser) }
    }

    /// The device with this serial, assigned or not.
    public func device(serial: String) throws -> DeviceRecord? {
        try store.read { try $0.device(serial) }
    }

    /// Whether the user has a console password.
    public func hasLoginProfile(user: String) throws -> Bool {
        try store.read { try $0.loginProfile(user: user) } != nil
    }

    /// The names of users (among the first 1,000) with no assigned MFA device.
    public func usersWithoutMFA() throws -> [String] {
        try store.read { transaction in
            try transaction.users(after: nil, limit: 1000).filter {
                try transaction.devices(user: $0.name, assigned: true, kind: nil, after: nil, limit: 1).isEmpty
            }.map(\.name)
        }
    }

    /// What the credential report tells of a user: console password, assigned devices, access keys.
    public struct UserSummary: Sendable {
        public var user: UserRecord
        public var hasPassword: Bool
        public var deviceKinds: [DeviceKind]
        public var accessKeys: Int
    }

    public func summaries(of users: [UserRecord]) throws -> [UserSummary] {
        try store.read { transaction in
            try users.map { user in
                UserSummary(user: user, hasPassword: try transaction.loginProfile(user: user.name) != nil,
                            deviceKinds: try transaction.devices(user: user.name, assigned: true, kind: nil, after: nil,
                                                                 limit: Self.maxDevicesPerUser).map(\.kind),
                            accessKeys: try transaction.accessKeys(user: user.name).count)
            }
        }
    }

    /// A page of the audit log, newest first, before entry `before`.
    public func auditPage(before: Int64?, principalSuffix: String?, outcome: String?, limit: Int) throws -> [AuditRecord] {
        try store.read { try $0.auditPage(before: before, principalSuffix: principalSuffix, outcome: outcome, limit: limit) }
    }
}

extension Registry {
    /// Appends an audit entry made elsewhere (a console action); a row that cannot be written is
    /// dropped rather than failing the action it records.
    public func appendAudit(_ entry: AuditRecord) async {
        _ = try? await store.write { try $0.appendAudit(entry) }
    }
}
