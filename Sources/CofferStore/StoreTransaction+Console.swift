import Foundation
import GRDB

/// A console sign-in, server side. The browser holds a random token; only its SHA-256 is stored.
public struct ConsoleSessionRecord: Sendable, Equatable {
    /// How far the sign-in has come.
    public enum Stage: String, Sendable {
        /// The password was right; an MFA code is owed.
        case code
        /// Signed in, but the password must be changed before anything else.
        case newPassword = "new-password"
        /// Signed in.
        case active
    }

    public var tokenHash: String
    public var userName: String
    public var stage: Stage
    /// The CSRF token of this session (sent in forms and the `X-CSRF-Token` header).
    public var csrf: String
    public var created: Int64
    public var expires: Int64
    /// When the sign-in's MFA code was checked (Unix ms): `aws:MultiFactorAuthAge`.
    public var mfaAt: Int64?
    public var source: String?

    public init(tokenHash: String, userName: String, stage: Stage, csrf: String, created: Int64, expires: Int64,
                mfaAt: Int64? = nil, source: String? = nil) {
        self.tokenHash = tokenHash
        self.userName = userName
        self.stage = stage
        self.csrf = csrf
        self.created = created
        self.expires = expires
        self.mfaAt = mfaAt
        self.source = source
    }
}

extension StoreTransaction {
    public func consoleSession(tokenHash: String) throws -> ConsoleSessionRecord? {
        try db.row(sql: """
            SELECT \(ConsoleSessionRecord.columns) FROM console_sessions WHERE token_hash = ?
            """, arguments: [tokenHash]).flatMap(ConsoleSessionRecord.decoded)
    }

    /// Saves a session whole: saving over an existing one starts its count of factor tries again.
    public func saveConsoleSession(_ session: ConsoleSessionRecord) throws {
        try db.execute(sql: """
            INSERT INTO console_sessions(token_hash, user_name, stage, csrf, created_ms, expires_ms, mfa_ms, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(token_hash) DO UPDATE SET user_name = excluded.user_name, stage = excluded.stage,
                csrf = excluded.csrf, created_ms = excluded.created_ms, expires_ms = excluded.expires_ms,
                mfa_ms = excluded.mfa_ms, source = excluded.source, factor_tries = 0
            """, arguments: [session.tokenHash, session.userName, session.stage.rawValue, session.csrf, session.created,
                             session.expires, session.mfaAt, session.source])
    }

    /// Ends one session; the number of rows removed (0 or 1).
    @discardableResult
    public func deleteConsoleSession(tokenHash: String) throws -> Int {
        try db.execute(sql: "DELETE FROM console_sessions WHERE token_hash = ?", arguments: [tokenHash])
    }

    /// Ends every console session of `user`; the number ended.
    @discardableResult
    public func deleteConsoleSessions(user: String) throws -> Int {
        try db.execute(sql: "DELETE FROM console_sessions WHERE user_name = ?", arguments: [user])
    }

    public func deleteExpiredConsoleSessions(before time: Int64) throws {
        try db.execute(sql: "DELETE FROM console_sessions WHERE expires_ms < ?", arguments: [time])
    }

    public func consoleSessionCount(user: String) throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM console_sessions WHERE user_name = ?", arguments: [user]) ?? 0
    }

    /// Audit entries, newest first, optionally only those whose principal ends with `principalSuffix`
    /// (`:root`, `/NAME`) and with one outcome; `before` pages (an id).
    public func auditPage(before id: Int64?, principalSuffix: String?, outcome: String?, limit: Int) throws -> [AuditRecord] {
        var conditions: [String] = []
        var arguments: SQLDatabase.Arguments = []
        if let id { conditions.append("id < ?"); arguments.append(id) }
        if let principalSuffix {
            // A suffix match without LIKE's wildcards: the name is the caller's to choose.
            conditions.append("length(principal) >= length(?) AND substr(principal, length(principal) - length(?) + 1) = ?")
            arguments += [principalSuffix, principalSuffix, principalSuffix]
        }
        if let outcome { conditions.append("outcome = ?"); arguments.append(outcome) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(limit)
        return try db.records(AuditRecord.self, sql: "SELECT \(AuditRecord.columns) FROM audit \(filter) ORDER BY id DESC LIMIT ?",
                              arguments: arguments)
    }
}

/// A WebAuthn challenge: what it is for, whose, and which console session asked for it.
public struct ChallengeRecord: Sendable, Equatable {
    public var challenge: String
    public var purpose: String
    public var userName: String
    public var sessionHash: String
    public var expires: Int64
    public init(challenge: String, purpose: String, userName: String, sessionHash: String, expires: Int64) {
        self.challenge = challenge
        self.purpose = purpose
        self.userName = userName
        self.sessionHash = sessionHash
        self.expires = expires
    }
}

extension StoreTransaction {
    public func insertSecurityKey(_ device: DeviceRecord, credentialID: [UInt8], format: String) throws {
        try insertDevice(device)
        try updateDevice(device)
        try db.execute(sql: "INSERT INTO security_keys(serial, credential_id, format) VALUES (?, ?, ?)",
                       arguments: [device.serial, Data(credentialID), format])
    }

    /// The security key with this credential id (any user's), and its attestation format.
    public func securityKey(credentialID: [UInt8]) throws -> (device: DeviceRecord, format: String)? {
        guard let row = try db.row(sql: "SELECT serial, format FROM security_keys WHERE credential_id = ?",
                                   arguments: [Data(credentialID)]),
              let device = try device(row["serial"])
        else { return nil }
        return (device, row["format"])
    }

    /// The credential ids of a user's security keys.
    public func securityKeyIDs(user: String) throws -> [[UInt8]] {
        try db.rows(sql: """
            SELECT k.credential_id FROM security_keys k JOIN mfa_devices d ON d.serial = k.serial WHERE d.user_name = ?
            ORDER BY k.serial
            """, arguments: [user]).map { Array($0["credential_id"] as Data) }
    }

    /// Saves a challenge; a session holds at most one per purpose (asking again replaces it), so
    /// the table is bounded by the live sessions.
    public func saveChallenge(_ record: ChallengeRecord) throws {
        try db.execute(sql: "DELETE FROM webauthn_challenges WHERE expires_ms < ?", arguments: [record.expires - 600_000])
        try db.execute(sql: "DELETE FROM webauthn_challenges WHERE session_hash = ? AND purpose = ?",
                       arguments: [record.sessionHash, record.purpose])
        try db.execute(sql: """
            INSERT INTO webauthn_challenges(challenge, purpose, user_name, session_hash, expires_ms) VALUES (?, ?, ?, ?, ?)
            """, arguments: [record.challenge, record.purpose, record.userName, record.sessionHash, record.expires])
    }

    /// Takes a challenge (deletes it). Callers take it in a write of its own, before judging the
    /// answer, so a failed answer cannot roll the deletion back: single use.
    public func takeChallenge(_ challenge: String) throws -> ChallengeRecord? {
        guard let record = try db.record(ChallengeRecord.self, sql: """
            SELECT \(ChallengeRecord.columns) FROM webauthn_challenges WHERE challenge = ?
            """, arguments: [challenge]) else { return nil }
        try db.execute(sql: "DELETE FROM webauthn_challenges WHERE challenge = ?", arguments: [challenge])
        return record
    }
}

/// Failed attempts under one key (a user at a network, a network, a user's ChangePassword) and
/// until when (Unix ms) the key's attempts are refused unjudged.
public struct AttemptCounter: Sendable, Equatable {
    public var failures: Int
    public var lockedUntil: Int64
    /// The latest failure (Unix ms): counters forget 15 minutes after it.
    public var last: Int64

    public init(failures: Int, lockedUntil: Int64, last: Int64) {
        self.failures = failures
        self.lockedUntil = lockedUntil
        self.last = last
    }
}

extension StoreTransaction {
    public func attemptCounter(_ key: String) throws -> AttemptCounter? {
        try db.row(sql: "SELECT failures, locked_until_ms, last_ms FROM attempt_counters WHERE key = ?",
                   arguments: [key]).map { AttemptCounter(failures: $0["failures"], lockedUntil: $0["locked_until_ms"], last: $0["last_ms"]) }
    }

    /// Saves a counter. Counters of the same kind — the key's part up to its first `:` — that are
    /// older than `forgetBefore` and unlocked go a few at a time with each save, and a new key past
    /// `cap` of its kind pushes out the oldest unlocked ones: an anonymous spray cannot grow the
    /// table without bound, and one kind's clean-up never forgets another kind's counters.
    public func saveAttemptCounter(_ key: String, _ counter: AttemptCounter, forgetBefore: Int64, cap: Int = 100_000) throws {
        try db.execute(sql: """
            INSERT INTO attempt_counters(key, failures, locked_until_ms, last_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, locked_until_ms = excluded.locked_until_ms,
                last_ms = excluded.last_ms
            """, arguments: [key, counter.failures, counter.lockedUntil, counter.last])
        // The kind's keys are those from "kind:" up to (not including) "kind;" (';' follows ':').
        let kind = key.split(separator: ":", maxSplits: 1).first.map(String.init) ?? key
        let (low, high) = (kind + ":", kind + ";")
        try db.execute(sql: """
            DELETE FROM attempt_counters WHERE key IN (
                SELECT key FROM attempt_counters WHERE key >= ? AND key < ? AND last_ms < ? AND locked_until_ms < ?
                ORDER BY last_ms LIMIT 16)
            """, arguments: [low, high, forgetBefore, counter.last])
        guard counter.failures == 1 else { return }
        let count = try db.one(Int.self, sql: "SELECT COUNT(*) FROM attempt_counters WHERE key >= ? AND key < ?",
                               arguments: [low, high]) ?? 0
        if count > cap {
            try db.execute(sql: """
                DELETE FROM attempt_counters WHERE key IN (
                    SELECT key FROM attempt_counters WHERE key >= ? AND key < ? AND locked_until_ms < ? ORDER BY last_ms LIMIT ?)
                """, arguments: [low, high, counter.last, count - cap])
        }
    }

    public func deleteAttemptCounter(_ key: String) throws {
        try db.execute(sql: "DELETE FROM attempt_counters WHERE key = ?", arguments: [key])
    }

    /// One more answer for a pending sign-in (before it is judged); the count so far, or nil when
    /// the pending sign-in is gone.
    public func countFactorTry(tokenHash: String) throws -> Int? {
        try db.one(Int.self, sql: "UPDATE console_sessions SET factor_tries = factor_tries + 1 WHERE token_hash = ? RETURNING factor_tries",
                   arguments: [tokenHash])
    }
}
