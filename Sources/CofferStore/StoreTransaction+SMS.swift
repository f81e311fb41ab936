import Foundation
import GRDB

/// The live code of an SMS device: only a keyed MAC of it is stored.
public struct SMSCodeRecord: Sendable, Equatable {
    /// What the code proves: a new device's number, or a sign-in.
    public enum Purpose: String, Sendable {
        case enable
        case signIn = "sign-in"
    }

    public var serial: String
    /// The user whose phone it is (for a device being assigned, the user it will be assigned to).
    public var userName: String
    public var purpose: Purpose
    /// Who may answer it: the pending sign-in's token hash, or the assigning caller's name.
    public var boundTo: String
    public var codeMAC: [UInt8]
    public var expires: Int64
    public var tries: Int

    public init(serial: String, userName: String, purpose: Purpose, boundTo: String, codeMAC: [UInt8], expires: Int64,
                tries: Int = 0) {
        self.serial = serial
        self.userName = userName
        self.purpose = purpose
        self.boundTo = boundTo
        self.codeMAC = codeMAC
        self.expires = expires
        self.tries = tries
    }
}

/// How many SMS messages were sent lately: what the rate limits read.
public struct SMSSendCounts: Sendable, Equatable {
    /// The latest send to this user, and to this number (Unix ms).
    public var userLatest: Int64?
    public var phoneLatest: Int64?
    /// Sends in the last hour to this user, and to this number.
    public var userHour: Int
    public var phoneHour: Int
    /// Sends in the last minute, to anyone.
    public var globalMinute: Int
}

extension StoreTransaction {
    public func smsCode(serial: String) throws -> SMSCodeRecord? {
        guard let row = try db.row(sql: """
            SELECT serial, user_name, purpose, bound_to, code_mac, expires_ms, tries FROM sms_codes WHERE serial = ?
            """, arguments: [serial]), let purpose = SMSCodeRecord.Purpose(rawValue: row["purpose"])
        else { return nil }
        return SMSCodeRecord(serial: row["serial"], userName: row["user_name"], purpose: purpose, boundTo: row["bound_to"],
                             codeMAC: Array(row["code_mac"] as Data), expires: row["expires_ms"], tries: row["tries"])
    }

    /// Saves the device's one live code, replacing any earlier one.
    public func saveSMSCode(_ code: SMSCodeRecord) throws {
        try db.execute(sql: """
            INSERT INTO sms_codes(serial, user_name, purpose, bound_to, code_mac, expires_ms, tries)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(serial) DO UPDATE SET user_name = excluded.user_name, purpose = excluded.purpose,
                bound_to = excluded.bound_to, code_mac = excluded.code_mac, expires_ms = excluded.expires_ms,
                tries = excluded.tries
            """, arguments: [code.serial, code.userName, code.purpose.rawValue, code.boundTo, Data(code.codeMAC),
                             code.expires, code.tries])
    }

    public func setSMSCodeTries(serial: String, tries: Int) throws {
        try db.execute(sql: "UPDATE sms_codes SET tries = ? WHERE serial = ?", arguments: [tries, serial])
    }

    @discardableResult
    public func deleteSMSCode(serial: String) throws -> Int {
        try db.execute(sql: "DELETE FROM sms_codes WHERE serial = ?", arguments: [serial])
    }

    /// Counts of recent sends for the limits, as of `time`. For a sign-in code the number's count
    /// takes only sign-in sends (which need the number's owner's password): a stranger's wizard
    /// aimed at someone else's number cannot use up that person's sign-in codes. A wizard's send
    /// counts every send to the number.
    public func smsSendCounts(user: String, phoneMAC: String, purpose: SMSCodeRecord.Purpose, at time: Int64) throws -> SMSSendCounts {
        let hourAgo = time - 3_600_000
        let user = try db.row(sql: "SELECT MAX(time_ms) AS latest, COUNT(*) AS sends FROM sms_sends WHERE user_name = ? AND time_ms > ?",
                              arguments: [user, hourAgo])
        let phone = purpose == .signIn
            ? try db.row(sql: """
                SELECT MAX(time_ms) AS latest, COUNT(*) AS sends FROM sms_sends WHERE phone_mac = ? AND time_ms > ? AND purpose = ?
                """, arguments: [phoneMAC, hourAgo, purpose.rawValue])
            : try db.row(sql: "SELECT MAX(time_ms) AS latest, COUNT(*) AS sends FROM sms_sends WHERE phone_mac = ? AND time_ms > ?",
                         arguments: [phoneMAC, hourAgo])
        let minute = try db.one(Int.self, sql: "SELECT COUNT(*) FROM sms_sends WHERE time_ms > ?", arguments: [time - 60_000]) ?? 0
        return SMSSendCounts(userLatest: user?["latest"], phoneLatest: phone?["latest"], userHour: user?["sends"] ?? 0,
                             phoneHour: phone?["sends"] ?? 0, globalMinute: minute)
    }

    /// Records a send (before the message leaves: a send that fails still counts); forgets sends
    /// older than a day. Returns the row's id, for its outcome.
    public func recordSMSSend(at time: Int64, user: String, phoneMAC: String, purpose: SMSCodeRecord.Purpose,
                              outcome: String) throws -> Int64 {
        try db.execute(sql: "DELETE FROM sms_sends WHERE time_ms < ?", arguments: [time - 86_400_000])
        // RETURNING always answers the inserted row.
        return try db.one(Int64.self, sql: """
            INSERT INTO sms_sends(time_ms, user_name, phone_mac, purpose, outcome) VALUES (?, ?, ?, ?, ?) RETURNING id
            """, arguments: [time, user, phoneMAC, purpose.rawValue, outcome])!
    }

    /// Unassigned SMS devices `creator` started, whose serial begins with `prefix` (a user's).
    public func pendingSMSDevices(creator: String, serialPrefix: String) throws -> [DeviceRecord] {
        try db.records(DeviceRecord.self, sql: """
            SELECT \(DeviceRecord.columns) FROM mfa_devices
            WHERE kind = 'sms' AND user_name IS NULL AND creator = ? AND serial >= ? AND serial < ? ORDER BY serial
            """, arguments: [creator, serialPrefix, serialPrefix + "\u{10FFFF}"])
    }

    public func setSMSSendOutcome(id: Int64, outcome: String) throws {
        try db.execute(sql: "UPDATE sms_sends SET outcome = ? WHERE id = ?", arguments: [outcome, id])
    }
}
