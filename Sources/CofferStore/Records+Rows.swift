import CofferCore
import Foundation
import GRDB

/// How each record is read from its table: by column name, with the columns written once (the
/// SELECT lists use `columns`). Two reads keep positional columns, on purpose: a GET's bucket and
/// version come from one joined row (`StoreTransaction.bucketAndVersion`, `version(from:at:)`,
/// `bucket(from:)`) on every uncached GET, where a name lookup per column costs more than the read.
extension UserRecord: SQLRecord {
    static let columns = "name, user_id, path, created_ms"
    public init(row: SQLRow) {
        self.init(name: row["name"], userID: row["user_id"], path: row["path"], created: row["created_ms"])
    }
}

extension GroupRecord: SQLRecord {
    static let columns = "name, group_id, path, created_ms"
    public init(row: SQLRow) {
        self.init(name: row["name"], groupID: row["group_id"], path: row["path"], created: row["created_ms"])
    }
}

extension PolicyVersionRecord: SQLRecord {
    static let columns = "version_id, document, created_ms"
    public init(row: SQLRow) {
        self.init(versionID: row["version_id"], document: row["document"], created: row["created_ms"])
    }
}

extension LoginProfileRecord: SQLRecord {
    static let columns = "user_name, password_hash, history_salt, reset_required, created_ms, changed_ms"
    public init(row: SQLRow) {
        self.init(userName: row["user_name"], passwordHash: row["password_hash"], historySalt: Array(row["history_salt"] as Data),
                  resetRequired: row["reset_required"], created: row["created_ms"], changed: row["changed_ms"])
    }
}

extension SessionRecord: SQLRecord {
    static let columns = "access_key, sealed_secret, token_hash, user_name, mfa_authenticated, expires_ms, authenticated_ms"
    public init(row: SQLRow) {
        self.init(accessKey: row["access_key"], sealedSecret: Array(row["sealed_secret"] as Data), tokenHash: row["token_hash"],
                  userName: row["user_name"], mfaAuthenticated: row["mfa_authenticated"], expires: row["expires_ms"],
                  authenticated: row["authenticated_ms"])
    }
}

extension AuditRecord: SQLRecord {
    static let columns = "id, time_ms, event, outcome, principal, serial, source, request_id, detail"
    public init(row: SQLRow) {
        self.init(id: row["id"], time: row["time_ms"], event: row["event"],
                  outcome: AuditOutcome(rawValue: row["outcome"]) ?? .refused, principal: row["principal"],
                  serial: row["serial"], source: row["source"], requestID: row["request_id"], detail: row["detail"])
    }
}

extension AccessKeyRecord: SQLRecord {
    static let columns = "access_key, user_name, sealed_secret, status, created_ms"
    public init(row: SQLRow) {
        self.init(accessKey: row["access_key"], userName: row["user_name"], sealedSecret: Array(row["sealed_secret"] as Data),
                  status: AccessKeyStatus(rawValue: row["status"]) ?? .inactive,  // an unknown status never authenticates
                  created: row["created_ms"])
    }
}

extension DeviceRecord: SQLRecord {
    static let columns = """
        serial, kind, name, path, sealed_seed, algorithm, digits, period, user_name, enabled_ms, created_ms, drift,
        last_step, failures, window_step, window_failures, backoffs, throttled_until_ms, creator
        """
    public init(row: SQLRow) {
        self.init(serial: row["serial"], kind: DeviceKind(rawValue: row["kind"]) ?? .hardware, name: row["name"],
                  path: row["path"], sealedSeed: Array(row["sealed_seed"] as Data), algorithm: row["algorithm"],
                  digits: row["digits"], period: row["period"], userName: row["user_name"], enabled: row["enabled_ms"],
                  created: row["created_ms"], drift: row["drift"], lastStep: row["last_step"], failures: row["failures"],
                  windowStep: row["window_step"], windowFailures: row["window_failures"], backoffs: row["backoffs"],
                  throttledUntil: row["throttled_until_ms"], creator: row["creator"])
    }
}

extension UploadRecord: SQLRecord {
    static let columns = "upload_id, bucket_id, key, created_ms, headers, checksum_algorithm"
    public init(row: SQLRow) {
        self.init(uploadID: row["upload_id"], bucketID: row["bucket_id"], key: row["key"], created: row["created_ms"],
                  headers: StoredHeaders(encoded: row["headers"]), checksumAlgorithm: row["checksum_algorithm"])
    }
}

extension PartRecord: SQLRecord {
    static let columns = "part_number, etag, size, checksum, blob_file, blob_inline, modified_ms"
    public init(row: SQLRow) {
        let blob: BlobLocation
        if let file: String = row["blob_file"] { blob = .file(file) } else { blob = .inline(Array((row["blob_inline"] as Data?) ?? Data())) }
        self.init(number: row["part_number"], etag: row["etag"], size: row["size"], checksum: row["checksum"], blob: blob,
                  modified: row["modified_ms"])
    }
}

extension ManagedPolicyRecord: SQLRecord {
    static let columns = "arn, name, policy_id, path, description, default_version, next_version, created_ms, updated_ms"
    public init(row: SQLRow) {
        self.init(arn: row["arn"], name: row["name"], policyID: row["policy_id"], path: row["path"],
                  description: row["description"], defaultVersion: row["default_version"], nextVersion: row["next_version"],
                  created: row["created_ms"], updated: row["updated_ms"])
    }
}

extension ConsoleSessionRecord {
    static let columns = "token_hash, user_name, stage, csrf, created_ms, expires_ms, mfa_ms, source"
    /// Nil for a stage this build does not know (a newer version's): it signs nobody in.
    static func decoded(_ row: SQLRow) -> ConsoleSessionRecord? {
        Stage(rawValue: row["stage"]).map {
            ConsoleSessionRecord(tokenHash: row["token_hash"], userName: row["user_name"], stage: $0, csrf: row["csrf"],
                                 created: row["created_ms"], expires: row["expires_ms"], mfaAt: row["mfa_ms"],
                                 source: row["source"])
        }
    }
}

extension ChallengeRecord: SQLRecord {
    static let columns = "challenge, purpose, user_name, session_hash, expires_ms"
    public init(row: SQLRow) {
        self.init(challenge: row["challenge"], purpose: row["purpose"], userName: row["user_name"],
                  sessionHash: row["session_hash"], expires: row["expires_ms"])
    }
}
