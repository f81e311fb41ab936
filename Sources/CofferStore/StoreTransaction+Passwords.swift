import Foundation
import GRDB

/// An IAM user's console password: its scrypt hash (never the password), the salt its history
/// entries share, whether it must be changed at the next sign-in, and when it was last set.
public struct LoginProfileRecord: Sendable, Equatable {
    public var userName: String
    public var passwordHash: String
    public var historySalt: [UInt8]
    public var resetRequired: Bool
    public var created: Int64
    public var changed: Int64
    public init(userName: String, passwordHash: String, historySalt: [UInt8], resetRequired: Bool, created: Int64,
                changed: Int64) {
        self.userName = userName
        self.passwordHash = passwordHash
        self.historySalt = historySalt
        self.resetRequired = resetRequired
        self.created = created
        self.changed = changed
    }
}

/// SQL for login profiles and password history.
extension StoreTransaction {
    public func loginProfile(user: String) throws -> LoginProfileRecord? {
        try db.record(LoginProfileRecord.self, sql: "SELECT \(LoginProfileRecord.columns) FROM login_profiles WHERE user_name = ?",
                      arguments: [user])
    }

    public func saveLoginProfile(_ profile: LoginProfileRecord) throws {
        try db.execute(sql: """
            INSERT INTO login_profiles(user_name, password_hash, history_salt, reset_required, created_ms, changed_ms)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(user_name) DO UPDATE SET password_hash = excluded.password_hash, history_salt = excluded.history_salt,
                reset_required = excluded.reset_required, created_ms = excluded.created_ms, changed_ms = excluded.changed_ms
            """, arguments: [profile.userName, profile.passwordHash, Data(profile.historySalt), profile.resetRequired,
                             profile.created, profile.changed])
    }

    public func deleteLoginProfile(user: String) throws {
        try db.execute(sql: "DELETE FROM login_profiles WHERE user_name = ?", arguments: [user])
        try db.execute(sql: "DELETE FROM password_history WHERE user_name = ?", arguments: [user])
    }

    /// The user's most recent `limit` password digests, newest first.
    public func passwordHistory(user: String, limit: Int) throws -> [[UInt8]] {
        try db.all(Data.self, sql: """
            SELECT digest FROM password_history WHERE user_name = ? ORDER BY changed_ms DESC, rowid DESC LIMIT ?
            """, arguments: [user, limit]).map { Array($0) }
    }

    /// Records a digest and keeps only the newest `keep` (24: AWS's largest reuse prevention).
    public func appendPasswordHistory(user: String, digest: [UInt8], at time: Int64, keep: Int) throws {
        try db.execute(sql: "INSERT INTO password_history(user_name, digest, changed_ms) VALUES (?, ?, ?)",
                       arguments: [user, Data(digest), time])
        try db.execute(sql: """
            DELETE FROM password_history WHERE user_name = ?1 AND rowid NOT IN
                (SELECT rowid FROM password_history WHERE user_name = ?1 ORDER BY changed_ms DESC, rowid DESC LIMIT ?2)
            """, arguments: [user, keep])
    }

    public func loginProfileCount() throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM login_profiles") ?? 0
    }
}
