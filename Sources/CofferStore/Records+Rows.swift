import Foundation
import GRDB

/// How each record is read from its table: by column name, with the columns written once (the
/// SELECT lists use `columns`). The GET path's version rows keep their positional reads (see
/// `StoreTransaction.version(from:)`): they run on every uncached GET.
extension UserRecord: FetchableRecord {
    static let columns = "name, user_id, path, created_ms"
    public init(row: Row) {
        self.init(name: row["name"], userID: row["user_id"], path: row["path"], created: row["created_ms"])
    }
}

extension GroupRecord: FetchableRecord {
    static let columns = "name, group_id, path, created_ms"
    public init(row: Row) {
        self.init(name: row["name"], groupID: row["group_id"], path: row["path"], created: row["created_ms"])
    }
}

extension PolicyVersionRecord: FetchableRecord {
    static let columns = "version_id, document, created_ms"
    public init(row: Row) {
        self.init(versionID: row["version_id"], document: row["document"], created: row["created_ms"])
    }
}

extension LoginProfileRecord: FetchableRecord {
    static let columns = "user_name, password_hash, history_salt, reset_required, created_ms, changed_ms"
    public init(row: Row) {
        self.init(userName: row["user_name"], passwordHash: row["password_hash"], historySalt: Array(row["history_salt"] as Data),
                  resetRequired: row["reset_required"], created: row["created_ms"], changed: row["changed_ms"])
    }
}

extension SessionRecord: FetchableRecord {
    static let columns = "access_key, sealed_secret, token_hash, user_name, mfa_authenticated, expires_ms, authenticated_ms"
    public init(row: Row) {
        self.init(accessKey: row["access_key"], sealedSecret: Array(row["sealed_secret"] as Data), tokenHash: row["token_hash"],
                  userName: row["user_name"], mfaAuthenticated: row["mfa_authenticated"], expires: row["expires_ms"],
                  authenticated: row["authenticated_ms"])
    }
}

extension AuditRecord: FetchableRecord {
    static let columns = "id, time_ms, event, outcome, principal, serial, source, request_id, detail"
    public init(row: Row) {
        self.init(id: row["id"], time: row["time_ms"], event: row["event"],
                  outcome: AuditOutcome(rawValue: row["outcome"]) ?? .refused, principal: row["principal"],
                  serial: row["serial"], source: row["source"], requestID: row["request_id"], detail: row["detail"])
    }
}

extension AccessKeyRecord: FetchableRecord {
    static let columns = "access_key, user_name, sealed_secret, status, created_ms"
    public init(row: Row) {
        self.init(accessKey: row["access_key"], userName: row["user_name"], sealedSecret: Array(row["sealed_secret"] as Data),
                  status: AccessKeyStatus(rawValue: row["status"]) ?? .inactive,  // an unknown status never authenticates
                  created: row["created_ms"])
    }
}

extension DeviceRecord: FetchableRecord {
    static let columns = """
        serial, kind, name, path, sealed_seed, algorithm, digits, period, user_name, enabled_ms, created_ms, drift,
        last_step, failures, window_step, window_failures, backoffs, throttled_until_ms, creator
        """
    public init(row: Row) {
        self.init(serial: row["serial"], kind: DeviceKind(rawValue: row["kind"]) ?? .hardware, name: row["name"],
                  path: row["path"], sealedSeed: Array(row["sealed_seed"] as Data), algorithm: row["algorithm"],
                  digits: row["digits"], period: row["period"], userName: row["user_name"], enabled: row["enabled_ms"],
                  created: row["created_ms"], drift: row["drift"], lastStep: row["last_step"], failures: row["failures"],
                  windowStep: row["window_step"], windowFailures: row["window_failures"], backoffs: row["backoffs"],
                  throttledUntil: row["throttled_until_ms"], creator: row["creator"])
    }
}
