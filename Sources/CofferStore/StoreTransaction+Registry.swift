import Foundation
import GRDB

/// SQL for users, access keys, sessions, MFA devices, tags and the audit log.
extension StoreTransaction {
    // MARK: Users

    public func user(named name: String) throws -> UserRecord? {
        try db.record(UserRecord.self, sql: "SELECT \(UserRecord.columns) FROM iam_users WHERE name = ?", arguments: [name])
    }

    /// A user whose name equals `name` but for ASCII case (IAM names are not distinguished by case).
    public func userNamedIgnoringCase(_ name: String) throws -> String? {
        try db.one(String.self, sql: "SELECT name FROM iam_users WHERE lower(name) = lower(?) LIMIT 1", arguments: [name])
    }

    public func users(after marker: String?, limit: Int) throws -> [UserRecord] {
        try db.records(UserRecord.self, sql: "SELECT \(UserRecord.columns) FROM iam_users WHERE name > ? ORDER BY name LIMIT ?",
                       arguments: [marker ?? "", limit])
    }

    public func insertUser(_ user: UserRecord) throws {
        try db.execute(sql: "INSERT INTO iam_users(name, user_id, path, created_ms) VALUES (?, ?, ?, ?)",
                       arguments: [user.name, user.userID, user.path, user.created])
    }

    public func deleteUser(named name: String) throws {
        try db.execute(sql: "DELETE FROM iam_users WHERE name = ?", arguments: [name])
    }

    public func userCount() throws -> Int { try db.one(Int.self, sql: "SELECT COUNT(*) FROM iam_users") ?? 0 }

    // MARK: Access keys

    public func accessKey(_ accessKey: String) throws -> AccessKeyRecord? {
        try db.record(AccessKeyRecord.self, sql: "SELECT \(AccessKeyRecord.columns) FROM access_keys WHERE access_key = ?",
                      arguments: [accessKey])
    }

    public func accessKeys(user: String) throws -> [AccessKeyRecord] {
        try db.records(AccessKeyRecord.self, sql: """
            SELECT \(AccessKeyRecord.columns) FROM access_keys WHERE user_name = ? ORDER BY created_ms, access_key
            """, arguments: [user])
    }

    public func insertAccessKey(_ key: AccessKeyRecord) throws {
        try db.execute(sql: """
            INSERT INTO access_keys(access_key, user_name, sealed_secret, status, created_ms) VALUES (?, ?, ?, ?, ?)
            """, arguments: [key.accessKey, key.userName, Data(key.sealedSecret), key.status.rawValue, key.created])
    }

    public func setAccessKeyStatus(_ accessKey: String, _ status: AccessKeyStatus) throws {
        try db.execute(sql: "UPDATE access_keys SET status = ? WHERE access_key = ?", arguments: [status.rawValue, accessKey])
    }

    public func deleteAccessKey(_ accessKey: String) throws {
        try db.execute(sql: "DELETE FROM access_keys WHERE access_key = ?", arguments: [accessKey])
        try db.execute(sql: "DELETE FROM access_key_usage WHERE access_key = ?", arguments: [accessKey])
    }

    /// An access key signed a request at `time` (Unix ms) for `service` in `region`; a key
    /// deleted meanwhile is not recorded.
    public func recordKeyUse(_ accessKey: String, at time: Int64, service: String, region: String) throws {
        try db.execute(sql: """
            INSERT INTO access_key_usage(access_key, used_ms, service, region)
            SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM access_keys WHERE access_key = ?)
            ON CONFLICT(access_key) DO UPDATE SET used_ms = excluded.used_ms, service = excluded.service, region = excluded.region
            WHERE excluded.used_ms > access_key_usage.used_ms
            """, arguments: [accessKey, time, service, region, accessKey])
    }

    public func keyUse(_ accessKey: String) throws -> (time: Int64, service: String, region: String)? {
        guard let row = try db.row(sql: "SELECT used_ms, service, region FROM access_key_usage WHERE access_key = ?",
                                   arguments: [accessKey])
        else { return nil }
        return (row["used_ms"], row["service"], row["region"])
    }

    // MARK: Sessions

    public func session(_ accessKey: String) throws -> SessionRecord? {
        try db.record(SessionRecord.self, sql: "SELECT \(SessionRecord.columns) FROM sessions WHERE access_key = ?",
                      arguments: [accessKey])
    }

    public func insertSession(_ session: SessionRecord) throws {
        try db.execute(sql: """
            INSERT INTO sessions(access_key, sealed_secret, token_hash, user_name, mfa_authenticated, expires_ms,
                                 authenticated_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [session.accessKey, Data(session.sealedSecret), session.tokenHash, session.userName,
                             session.mfaAuthenticated, session.expires, session.authenticated])
    }

    /// A user's sessions that have not expired by `time`.
    public func liveSessionCount(user: String, at time: Int64) throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM sessions WHERE user_name = ? AND expires_ms >= ?",
                   arguments: [user, time]) ?? 0
    }

    public func deleteExpiredSessions(before time: Int64) throws {
        try db.execute(sql: "DELETE FROM sessions WHERE expires_ms < ?", arguments: [time])
    }

    public func deleteSessions(user: String) throws {
        try db.execute(sql: "DELETE FROM sessions WHERE user_name = ?", arguments: [user])
    }

    // MARK: Devices

    public func device(_ serial: String) throws -> DeviceRecord? {
        try db.record(DeviceRecord.self, sql: "SELECT \(DeviceRecord.columns) FROM mfa_devices WHERE serial = ?",
                      arguments: [serial])
    }

    /// Devices in serial order after `marker`; `user` filters by assignment (nil: any).
    public func devices(user: String?, assigned: Bool?, kind: DeviceKind?, after marker: String?, limit: Int) throws -> [DeviceRecord] {
        var sql = "SELECT \(DeviceRecord.columns) FROM mfa_devices WHERE serial > ?"
        var arguments: SQLDatabase.Arguments = [marker ?? ""]
        if let user {
            sql += " AND user_name = ?"
            arguments.append(user)
        }
        if let assigned { sql += assigned ? " AND user_name IS NOT NULL" : " AND user_name IS NULL" }
        if let kind {
            sql += " AND kind = ?"
            arguments.append(kind.rawValue)
        }
        sql += " ORDER BY serial LIMIT ?"
        arguments.append(limit)
        return try db.records(DeviceRecord.self, sql: sql, arguments: arguments)
    }

    public func insertDevice(_ device: DeviceRecord) throws {
        try db.execute(sql: """
            INSERT INTO mfa_devices(serial, kind, name, path, sealed_seed, algorithm, digits, period, created_ms, creator)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [device.serial, device.kind.rawValue, device.name, device.path, Data(device.sealedSeed),
                             device.algorithm, device.digits, device.period, device.created, device.creator])
    }

    /// Writes back assignment, drift, last step and throttle state.
    public func updateDevice(_ device: DeviceRecord) throws {
        try db.execute(sql: """
            UPDATE mfa_devices SET user_name = ?, enabled_ms = ?, drift = ?, last_step = ?, failures = ?,
                window_step = ?, window_failures = ?, backoffs = ?, throttled_until_ms = ?
            WHERE serial = ?
            """, arguments: [device.userName, device.enabled, device.drift, device.lastStep, device.failures,
                             device.windowStep, device.windowFailures, device.backoffs, device.throttledUntil,
                             device.serial])
    }

    public func deleteDevice(_ serial: String) throws {
        try db.execute(sql: "DELETE FROM mfa_devices WHERE serial = ?", arguments: [serial])
        try db.execute(sql: "DELETE FROM mfa_tags WHERE serial = ?", arguments: [serial])
        try db.execute(sql: "DELETE FROM security_keys WHERE serial = ?", arguments: [serial])
        try db.execute(sql: "DELETE FROM sms_codes WHERE serial = ?", arguments: [serial])
    }

    public func throttledDeviceCount(at time: Int64) throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM mfa_devices WHERE throttled_until_ms > ?", arguments: [time]) ?? 0
    }

    /// Whether anything sealed with the master key is stored (devices, access keys, sessions).
    public func hasSealedData() throws -> Bool {
        try db.one(Bool.self, sql: """
            SELECT EXISTS (SELECT 1 FROM mfa_devices) OR EXISTS (SELECT 1 FROM access_keys)
                OR EXISTS (SELECT 1 FROM sessions)
            """) ?? false
    }

    /// Unassigned devices `creator` made (the per-user cap on CreateVirtualMFADevice).
    public func unassignedDeviceCount(creator: String) throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM mfa_devices WHERE user_name IS NULL AND creator = ?",
                   arguments: [creator]) ?? 0
    }

    public func deviceCount(assigned: Bool? = nil) throws -> Int {
        var sql = "SELECT COUNT(*) FROM mfa_devices"
        if let assigned { sql += assigned ? " WHERE user_name IS NOT NULL" : " WHERE user_name IS NULL" }
        return try db.one(Int.self, sql: sql) ?? 0
    }

    // MARK: Tags

    public func tags(serial: String) throws -> [(key: String, value: String)] {
        try db.rows(sql: "SELECT key, value FROM mfa_tags WHERE serial = ? ORDER BY key", arguments: [serial])
            .map { ($0["key"], $0["value"]) }
    }

    public func setTag(serial: String, key: String, value: String) throws {
        try db.execute(sql: """
            INSERT INTO mfa_tags(serial, key, value) VALUES (?, ?, ?)
            ON CONFLICT(serial, key) DO UPDATE SET value = excluded.value
            """, arguments: [serial, key, value])
    }

    public func removeTag(serial: String, key: String) throws {
        try db.execute(sql: "DELETE FROM mfa_tags WHERE serial = ? AND key = ?", arguments: [serial, key])
    }

    // MARK: Audit

    public func appendAudit(_ entry: AuditRecord) throws {
        try db.execute(sql: """
            INSERT INTO audit(time_ms, event, outcome, principal, serial, source, request_id, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [entry.time, entry.event, entry.outcome.rawValue, entry.principal, entry.serial, entry.source,
                             entry.requestID, entry.detail])
    }

    public func audit(after id: Int64, limit: Int) throws -> [AuditRecord] {
        try db.records(AuditRecord.self, sql: "SELECT \(AuditRecord.columns) FROM audit WHERE id > ? ORDER BY id LIMIT ?",
                       arguments: [id, limit])
    }
}
