import Foundation
import GRDB

/// Who a policy is attached to or embedded in.
public enum PolicyOwner: Sendable, Hashable {
    case user(String)
    case group(String)

    var kind: String {
        switch self {
        case .user: "user"
        case .group: "group"
        }
    }

    var name: String {
        switch self {
        case .user(let name), .group(let name): name
        }
    }
}

public struct GroupRecord: Sendable, Equatable {
    public var name: String
    public var groupID: String
    public var path: String
    public var created: Int64
    public init(name: String, groupID: String, path: String, created: Int64) {
        self.name = name
        self.groupID = groupID
        self.path = path
        self.created = created
    }
}

/// A customer managed policy (AWS managed ones are built in, not stored).
public struct ManagedPolicyRecord: Sendable, Equatable {
    public var arn: String
    public var name: String
    public var policyID: String
    public var path: String
    public var description: String
    public var defaultVersion: String
    /// The number the next version gets (`v3` after v1 and v2, even if v1 was deleted).
    public var nextVersion: Int
    public var created: Int64
    public var updated: Int64
    public init(arn: String, name: String, policyID: String, path: String, description: String, defaultVersion: String,
                nextVersion: Int, created: Int64, updated: Int64) {
        self.arn = arn
        self.name = name
        self.policyID = policyID
        self.path = path
        self.description = description
        self.defaultVersion = defaultVersion
        self.nextVersion = nextVersion
        self.created = created
        self.updated = updated
    }
}

public struct PolicyVersionRecord: Sendable, Equatable {
    public var versionID: String
    public var document: String
    public var created: Int64
    public init(versionID: String, document: String, created: Int64) {
        self.versionID = versionID
        self.document = document
        self.created = created
    }
}

/// SQL for groups, inline and managed policies, attachments and bucket policies.
extension StoreTransaction {
    // MARK: Groups

    /// A group whose name equals `name` but for ASCII case.
    public func groupNamedIgnoringCase(_ name: String) throws -> String? {
        try db.one(String.self, sql: "SELECT name FROM iam_groups WHERE lower(name) = lower(?) LIMIT 1", arguments: [name])
    }

    public func group(named name: String) throws -> GroupRecord? {
        try db.record(GroupRecord.self, sql: "SELECT \(GroupRecord.columns) FROM iam_groups WHERE name = ?", arguments: [name])
    }

    public func groups(after marker: String?, limit: Int) throws -> [GroupRecord] {
        try db.records(GroupRecord.self, sql: "SELECT \(GroupRecord.columns) FROM iam_groups WHERE name > ? ORDER BY name LIMIT ?",
                       arguments: [marker ?? "", limit])
    }

    public func insertGroup(_ group: GroupRecord) throws {
        try db.execute(sql: "INSERT INTO iam_groups(name, group_id, path, created_ms) VALUES (?, ?, ?, ?)",
                       arguments: [group.name, group.groupID, group.path, group.created])
    }

    public func deleteGroup(named name: String) throws {
        try db.execute(sql: "DELETE FROM iam_groups WHERE name = ?", arguments: [name])
    }

    public func groupCount() throws -> Int { try db.one(Int.self, sql: "SELECT COUNT(*) FROM iam_groups") ?? 0 }

    public func members(ofGroup group: String) throws -> [String] {
        try db.all(String.self, sql: "SELECT user_name FROM group_members WHERE group_name = ? ORDER BY user_name",
                   arguments: [group])
    }

    public func groups(ofUser user: String) throws -> [String] {
        try db.all(String.self, sql: "SELECT group_name FROM group_members WHERE user_name = ? ORDER BY group_name",
                   arguments: [user])
    }

    public func addMember(group: String, user: String) throws {
        try db.execute(sql: "INSERT INTO group_members(group_name, user_name) VALUES (?, ?) ON CONFLICT DO NOTHING",
                       arguments: [group, user])
    }

    public func removeMember(group: String, user: String) throws {
        try db.execute(sql: "DELETE FROM group_members WHERE group_name = ? AND user_name = ?", arguments: [group, user])
    }

    // MARK: Inline policies

    public func inlinePolicy(_ owner: PolicyOwner, name: String) throws -> String? {
        try db.one(String.self, sql: "SELECT document FROM inline_policies WHERE owner_kind = ? AND owner = ? AND name = ?",
                   arguments: [owner.kind, owner.name, name])
    }

    /// (name, document) in name order.
    public func inlinePolicies(_ owner: PolicyOwner) throws -> [(name: String, document: String)] {
        try db.rows(sql: """
            SELECT name, document FROM inline_policies WHERE owner_kind = ? AND owner = ? ORDER BY name
            """, arguments: [owner.kind, owner.name]).map { ($0["name"], $0["document"]) }
    }

    public func putInlinePolicy(_ owner: PolicyOwner, name: String, document: String) throws {
        try db.execute(sql: """
            INSERT INTO inline_policies(owner_kind, owner, name, document) VALUES (?, ?, ?, ?)
            ON CONFLICT(owner_kind, owner, name) DO UPDATE SET document = excluded.document
            """, arguments: [owner.kind, owner.name, name, document])
    }

    public func deleteInlinePolicy(_ owner: PolicyOwner, name: String) throws {
        try db.execute(sql: "DELETE FROM inline_policies WHERE owner_kind = ? AND owner = ? AND name = ?",
                       arguments: [owner.kind, owner.name, name])
    }

    /// The total size of an owner's inline documents (AWS caps it: 2,048 for users, 5,120 for groups).
    public func inlinePolicySize(_ owner: PolicyOwner, excluding name: String) throws -> Int {
        try db.one(Int.self, sql: """
            SELECT COALESCE(SUM(LENGTH(document)), 0) FROM inline_policies WHERE owner_kind = ? AND owner = ? AND name != ?
            """, arguments: [owner.kind, owner.name, name]) ?? 0
    }

    // MARK: Managed policies

    public func managedPolicy(arn: String) throws -> ManagedPolicyRecord? {
        try db.record(ManagedPolicyRecord.self, sql: "SELECT \(ManagedPolicyRecord.columns) FROM managed_policies WHERE arn = ?",
                      arguments: [arn])
    }

    public func managedPolicies() throws -> [ManagedPolicyRecord] {
        try db.records(ManagedPolicyRecord.self, sql: "SELECT \(ManagedPolicyRecord.columns) FROM managed_policies ORDER BY name")
    }

    public func managedPolicyCount() throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM managed_policies") ?? 0
    }

    public func saveManagedPolicy(_ policy: ManagedPolicyRecord) throws {
        try db.execute(sql: """
            INSERT INTO managed_policies(\(ManagedPolicyRecord.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(arn) DO UPDATE SET name = excluded.name, policy_id = excluded.policy_id, path = excluded.path,
                description = excluded.description, default_version = excluded.default_version,
                next_version = excluded.next_version, created_ms = excluded.created_ms, updated_ms = excluded.updated_ms
            """, arguments: [policy.arn, policy.name, policy.policyID, policy.path, policy.description,
                             policy.defaultVersion, policy.nextVersion, policy.created, policy.updated])
    }

    public func deleteManagedPolicy(arn: String) throws {
        try db.execute(sql: "DELETE FROM managed_policies WHERE arn = ?", arguments: [arn])
        try db.execute(sql: "DELETE FROM policy_versions WHERE arn = ?", arguments: [arn])
    }

    public func policyVersion(arn: String, versionID: String) throws -> PolicyVersionRecord? {
        try db.record(PolicyVersionRecord.self,
                      sql: "SELECT \(PolicyVersionRecord.columns) FROM policy_versions WHERE arn = ? AND version_id = ?",
                      arguments: [arn, versionID])
    }

    public func policyVersions(arn: String) throws -> [PolicyVersionRecord] {
        try db.records(PolicyVersionRecord.self, sql: """
            SELECT \(PolicyVersionRecord.columns) FROM policy_versions WHERE arn = ? ORDER BY created_ms DESC, version_id DESC
            """, arguments: [arn])
    }

    public func insertPolicyVersion(arn: String, _ version: PolicyVersionRecord) throws {
        try db.execute(sql: "INSERT INTO policy_versions(arn, version_id, document, created_ms) VALUES (?, ?, ?, ?)",
                       arguments: [arn, version.versionID, version.document, version.created])
    }

    public func deletePolicyVersion(arn: String, versionID: String) throws {
        try db.execute(sql: "DELETE FROM policy_versions WHERE arn = ? AND version_id = ?", arguments: [arn, versionID])
    }

    // MARK: Attachments

    public func attachedPolicies(_ owner: PolicyOwner) throws -> [String] {
        try db.all(String.self, sql: """
            SELECT arn FROM policy_attachments WHERE owner_kind = ? AND owner = ? ORDER BY arn
            """, arguments: [owner.kind, owner.name])
    }

    public func attach(_ owner: PolicyOwner, arn: String) throws {
        try db.execute(sql: "INSERT INTO policy_attachments(owner_kind, owner, arn) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       arguments: [owner.kind, owner.name, arn])
    }

    public func detach(_ owner: PolicyOwner, arn: String) throws {
        try db.execute(sql: "DELETE FROM policy_attachments WHERE owner_kind = ? AND owner = ? AND arn = ?",
                       arguments: [owner.kind, owner.name, arn])
    }

    public func attachmentCount(arn: String) throws -> Int {
        try db.one(Int.self, sql: "SELECT COUNT(*) FROM policy_attachments WHERE arn = ?", arguments: [arn]) ?? 0
    }

    /// Every policy ARN attached to anything (ListPolicies OnlyAttached).
    public func attachedArns() throws -> Set<String> {
        Set(try db.all(String.self, sql: "SELECT DISTINCT arn FROM policy_attachments"))
    }

    /// Whether an owner still has policies (DeleteUser / DeleteGroup answer `DeleteConflict`).
    public func hasPolicies(_ owner: PolicyOwner) throws -> Bool {
        try db.one(Int.self, sql: """
            SELECT 1 FROM inline_policies WHERE owner_kind = ?1 AND owner = ?2
            UNION ALL SELECT 1 FROM policy_attachments WHERE owner_kind = ?1 AND owner = ?2 LIMIT 1
            """, arguments: [owner.kind, owner.name]) != nil
    }

    // MARK: Bucket policies

    public func bucketPolicy(bucketID: Int64) throws -> String? {
        try db.one(String.self, sql: "SELECT document FROM bucket_policies WHERE bucket_id = ?", arguments: [bucketID])
    }

    public func setBucketPolicy(bucketID: Int64, document: String?) throws {
        if let document {
            try db.execute(sql: """
                INSERT INTO bucket_policies(bucket_id, document) VALUES (?, ?)
                ON CONFLICT(bucket_id) DO UPDATE SET document = excluded.document
                """, arguments: [bucketID, document])
        } else {
            try db.execute(sql: "DELETE FROM bucket_policies WHERE bucket_id = ?", arguments: [bucketID])
        }
    }
}

extension StoreTransaction {
    /// Every stored policy document, named as an administrator would look for it, with whether it
    /// is a resource (bucket) policy: what `coffer admin verify` parses again.
    public func allPolicyDocuments() throws -> [(name: String, isResource: Bool, document: String)] {
        var found: [(name: String, isResource: Bool, document: String)] = []
        for row in try db.rows(sql: "SELECT owner_kind, owner, name, document FROM inline_policies ORDER BY 1, 2, 3") {
            found.append(("inline policy \(row["name"] as String) of \(row["owner_kind"] as String) \(row["owner"] as String)",
                          false, row["document"]))
        }
        for row in try db.rows(sql: "SELECT arn, version_id, document FROM policy_versions ORDER BY 1, 2") {
            found.append(("\(row["arn"] as String) \(row["version_id"] as String)", false, row["document"]))
        }
        for row in try db.rows(sql: """
            SELECT b.name AS bucket, p.document AS document FROM bucket_policies p JOIN buckets b ON b.id = p.bucket_id ORDER BY 1
            """) {
            found.append(("bucket policy of \(row["bucket"] as String)", true, row["document"]))
        }
        return found
    }
}
