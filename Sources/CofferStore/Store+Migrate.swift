import Foundation
import GRDB

/// `coffer admin migrate`: a data folder's metadata copied into a cluster's (empty) database.
extension Store {
    /// Every table, parents before children (the copy keeps every row id, and with it every
    /// reference between rows).
    static let migratedTables = [
        "meta", "buckets", "versions", "iam_users", "access_keys", "sessions", "mfa_devices", "mfa_tags", "audit", "uploads",
        "parts", "manifest_parts", "completed_uploads", "iam_groups", "group_members", "inline_policies", "managed_policies",
        "policy_versions", "policy_attachments", "bucket_policies", "login_profiles", "password_history", "console_sessions",
        "security_keys", "webauthn_challenges", "access_key_usage", "sms_codes", "sms_sends", "attempt_counters",
    ]

    public struct MigrationReport: Sendable {
        public var rows: [String: Int] = [:]
    }

    public enum MigrationError: Error, CustomStringConvertible {
        case targetNotEmpty(String)
        case notACluster

        public var description: String {
            switch self {
            case .targetNotEmpty(let table):
                "the cluster database already holds data (table \(table)): migrate only into a database no node has served"
            case .notACluster: "the target of a migration is a cluster store (--database)"
            }
        }
    }

    /// Copies every row of this (embedded) store into `target` (a cluster store whose database
    /// is empty), from one read snapshot, in batches of `batch` rows per transaction, then moves
    /// each identity column past the largest id copied. Blob files are the caller's to copy.
    public func migrate(into target: Store, batch: Int = 500) throws -> MigrationReport {
        guard target.isCluster else { throw MigrationError.notACluster }
        for table in Self.migratedTables {
            let count = try target.readNow { try $0.db.one(Int.self, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
            if count > 0 { throw MigrationError.targetNotEmpty(table) }
        }
        var report = MigrationReport()
        try readNow { source in
            for table in Self.migratedTables {
                var pending: [[(String, DatabaseValue)]] = []
                var copied = 0
                func flush() throws {
                    guard !pending.isEmpty else { return }
                    let rows = pending
                    pending.removeAll(keepingCapacity: true)
                    try target.writeNow { transaction in
                        for row in rows {
                            let columns = row.map(\.0)
                            try transaction.db.execute(
                                sql: "INSERT INTO \(table)(\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                                arguments: row.map(\.1))
                        }
                    }
                    copied += rows.count
                }
                try source.db.each(sql: "SELECT * FROM \(table)") { row in
                    pending.append(row.columnsAndValues)
                    if pending.count >= batch { try flush() }
                }
                try flush()
                report.rows[table] = copied
            }
        }
        // Identity columns continue after the copied ids (a new bucket, version or audit row).
        try target.writeNow { transaction in
            for (table, column) in [("buckets", "id"), ("versions", "id"), ("audit", "id"), ("sms_sends", "id"),
                                    ("password_history", "rowid")] {
                _ = try transaction.db.one(Int64.self, sql: """
                    SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), COALESCE((SELECT MAX(\(column)) FROM \(table)), 0) + 1, false)
                    """)
            }
            _ = try transaction.db.one(Int64.self, sql: """
                SELECT setval('version_seq', COALESCE((SELECT MAX(seq) FROM versions), 0) + 1, false)
                """)
        }
        return report
    }
}
