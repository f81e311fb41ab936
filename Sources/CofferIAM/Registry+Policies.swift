import CofferCore
import CofferPolicy
import CofferStore
import Foundation

extension Registry {
    /// A managed policy as GetPolicy shows it (customer or AWS).
    public struct ManagedPolicy: Sendable {
        public var name: String
        public var policyID: String
        public var arn: String
        public var path: String
        public var defaultVersion: String
        public var attachmentCount: Int
        public var description: String
        public var created: Int64
        public var updated: Int64
        public var isAWS: Bool
    }

    public enum PolicyScope: String, Sendable { case all = "All", aws = "AWS", local = "Local" }
}

/// Inline policies, customer managed policies with their versions, attachments and groups: the
/// IAM API over the tables the authorization point reads (`AccessControl`).
public struct Policies: RegistryPart {
    public let core: RegistryCore

    /// AWS's quotas.
    public static let maxUserInlineSize = 2048
    public static let maxGroupInlineSize = 5120
    public static let maxManagedPolicySize = 6144
    public static let maxAttachedPolicies = 10
    public static let maxPolicyVersions = 5
    public static let maxGroups = 300
    public static let maxGroupsPerUser = 10
    public static let maxManagedPolicies = 1500

    // MARK: Documents

    /// A document IAM will store: valid JSON in the policy language, within `limit` characters.
    static func validatedIdentityDocument(_ text: String, limit: Int) throws -> String {
        guard !text.isEmpty else { throw IAMError.validation("policyDocument", "Member must have length greater than or equal to 1") }
        guard policySize(text) <= limit else {
            throw IAMError(.limitExceeded, "Cannot exceed quota for PolicySize: \(limit)")
        }
        let document: PolicyDocument
        do {
            document = try PolicyDocument(json: Array(text.utf8), kind: .identity, maxSize: 131_072)
        } catch {
            throw IAMError(.malformedPolicyDocument, "Syntax errors in policy: \(error.message)")
        }
        if let key = ConditionKeys.unsupported(in: document) {
            throw IAMError(.malformedPolicyDocument, "Coffer does not supply the condition key \(key): "
                + "a condition on it would never be what it says (see README, Access control).")
        }
        return text
    }

    /// A document's size as IAM counts it against its quotas: characters other than white space.
    static func policySize(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ($1.properties.isWhitespace ? 0 : 1) }
    }

    static func validatePolicyName(_ name: String, parameter: String = "policyName") throws {
        guard (1...128).contains(name.count),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_+=,.@-".contains($0)) })
        else { throw IAMError.validation(parameter, "Member must satisfy regular expression pattern: [\\w+=,.@-]+") }
    }

    /// The owner a request names, checked to exist.
    func requireOwner(_ owner: PolicyOwner, in transaction: StoreTransaction) throws {
        switch owner {
        case .user(let name):
            guard name != Registry.rootUser else {
                throw IAMError(.invalidInput, "Policies cannot be attached to the account root: it is not subject to them.")
            }
            _ = try requireUser(name, caller: Principal(userName: name), in: transaction)
        case .group(let name):
            guard try transaction.group(named: name) != nil else {
                throw IAMError(.noSuchEntity, "The group with name \(name) cannot be found.")
            }
        }
    }

    // MARK: Inline policies

    public func putInlinePolicy(_ owner: PolicyOwner, name: String, document: String) async throws {
        try Self.validatePolicyName(name)
        let limit: Int
        switch owner {
        case .user: limit = Self.maxUserInlineSize
        case .group: limit = Self.maxGroupInlineSize
        }
        let document = try Self.validatedIdentityDocument(document, limit: limit)
        try await store.write { transaction in
            try self.requireOwner(owner, in: transaction)
            let others = try transaction.inlinePolicies(owner).filter { $0.name != name }
                .reduce(0) { $0 + Self.policySize($1.document) }
            guard others + Self.policySize(document) <= limit else {
                throw IAMError(.limitExceeded, "Maximum policy size of \(limit) bytes exceeded for \(owner.description)")
            }
            try transaction.putInlinePolicy(owner, name: name, document: document)
        }
    }

    public func inlinePolicy(_ owner: PolicyOwner, name: String) async throws -> String {
        try Self.validatePolicyName(name)
        return try await store.asyncRead { transaction in
            try self.requireOwner(owner, in: transaction)
            guard let document = try transaction.inlinePolicy(owner, name: name) else {
                throw IAMError(.noSuchEntity, "The \(owner.kindName) policy with name \(name) cannot be found.")
            }
            return document
        }
    }

    public func deleteInlinePolicy(_ owner: PolicyOwner, name: String) async throws {
        try Self.validatePolicyName(name)
        try await store.write { transaction in
            try self.requireOwner(owner, in: transaction)
            guard try transaction.inlinePolicy(owner, name: name) != nil else {
                throw IAMError(.noSuchEntity, "The \(owner.kindName) policy with name \(name) cannot be found.")
            }
            try transaction.deleteInlinePolicy(owner, name: name)
        }
    }

    public func inlinePolicyNames(_ owner: PolicyOwner) async throws -> [String] {
        try await store.asyncRead { transaction in
            try self.requireOwner(owner, in: transaction)
            return try transaction.inlinePolicies(owner).map(\.name)
        }
    }

    // MARK: Managed policies

    func managed(_ record: ManagedPolicyRecord, in transaction: StoreTransaction) throws -> ManagedPolicy {
        ManagedPolicy(name: record.name, policyID: record.policyID, arn: record.arn, path: record.path,
                      defaultVersion: record.defaultVersion, attachmentCount: try transaction.attachmentCount(arn: record.arn),
                      description: record.description, created: record.created, updated: record.updated, isAWS: false)
    }

    func managed(_ policy: AWSManagedPolicy, in transaction: StoreTransaction) throws -> ManagedPolicy {
        ManagedPolicy(name: policy.name, policyID: policy.policyID, arn: policy.arn, path: "/",
                      defaultVersion: policy.versionID, attachmentCount: try transaction.attachmentCount(arn: policy.arn),
                      description: policy.description, created: policy.created, updated: policy.created, isAWS: true)
    }

    public func policyArn(name: String, path: String) -> String { "arn:aws:iam::\(accountID):policy\(path)\(name)" }

    public func createPolicy(name: String, path: String?, document: String, description: String?) async throws -> ManagedPolicy {
        try Self.validatePolicyName(name)
        let path = path ?? "/"
        try Names.validatePath(path)
        guard (description ?? "").count <= 1000 else {
            throw IAMError.validation("description", "Member must have length less than or equal to 1000")
        }
        let document = try Self.validatedIdentityDocument(document, limit: Self.maxManagedPolicySize)
        let arn = policyArn(name: name, path: path)
        let time = now()
        let record = ManagedPolicyRecord(arn: arn, name: name, policyID: "ANPA" + Names.random(Names.upperAlphanumeric, count: 17),
                                         path: path, description: description ?? "", defaultVersion: "v1", nextVersion: 2,
                                         created: time, updated: time)
        return try await store.write { transaction in
            // Policy names are not distinguished by case, nor by path.
            guard try !transaction.managedPolicies().contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw IAMError(.entityAlreadyExists, "A policy called \(name) already exists. Duplicate names are not allowed "
                    + "(names are not distinguished by case).")
            }
            guard try transaction.managedPolicyCount() < Self.maxManagedPolicies else {
                throw IAMError(.limitExceeded, "Cannot exceed quota for PoliciesPerAccount: \(Self.maxManagedPolicies)")
            }
            try transaction.saveManagedPolicy(record)
            try transaction.insertPolicyVersion(arn: arn, PolicyVersionRecord(versionID: "v1", document: document, created: time))
            return try self.managed(record, in: transaction)
        }
    }

    /// The customer managed policy `arn`, or `NoSuchEntity`.
    func requireManaged(_ arn: String, in transaction: StoreTransaction) throws -> ManagedPolicyRecord {
        guard let record = try transaction.managedPolicy(arn: arn) else {
            if AWSManagedPolicy.named(arn: arn) != nil {
                throw IAMError(.unmodifiableEntity, "Policy \(arn) is an AWS managed policy and cannot be changed.")
            }
            throw IAMError(.noSuchEntity, "Policy \(arn) does not exist or is not attachable.")
        }
        return record
    }

    public func getPolicy(arn: String) async throws -> ManagedPolicy {
        try await store.asyncRead { transaction in
            if let aws = AWSManagedPolicy.named(arn: arn) { return try self.managed(aws, in: transaction) }
            return try self.managed(try self.requireManaged(arn, in: transaction), in: transaction)
        }
    }

    public func policyVersion(arn: String, versionID: String) async throws -> (version: PolicyVersionRecord, isDefault: Bool) {
        try await store.asyncRead { transaction in
            if let aws = AWSManagedPolicy.named(arn: arn) {
                guard versionID == aws.versionID else {
                    throw IAMError(.noSuchEntity, "Policy \(arn) version \(versionID) does not exist or is not attachable.")
                }
                return (PolicyVersionRecord(versionID: aws.versionID, document: aws.document, created: aws.created), true)
            }
            let record = try self.requireManaged(arn, in: transaction)
            guard let version = try transaction.policyVersion(arn: arn, versionID: versionID) else {
                throw IAMError(.noSuchEntity, "Policy \(arn) version \(versionID) does not exist or is not attachable.")
            }
            return (version, version.versionID == record.defaultVersion)
        }
    }

    public func policyVersions(arn: String) async throws -> (versions: [PolicyVersionRecord], defaultVersion: String) {
        try await store.asyncRead { transaction in
            if let aws = AWSManagedPolicy.named(arn: arn) {
                return ([PolicyVersionRecord(versionID: aws.versionID, document: aws.document, created: aws.created)],
                        aws.versionID)
            }
            let record = try self.requireManaged(arn, in: transaction)
            return (try transaction.policyVersions(arn: arn), record.defaultVersion)
        }
    }

    public func createPolicyVersion(arn: String, document: String, setAsDefault: Bool) async throws -> PolicyVersionRecord {
        let document = try Self.validatedIdentityDocument(document, limit: Self.maxManagedPolicySize)
        let time = now()
        return try await store.write { transaction in
            var record = try self.requireManaged(arn, in: transaction)
            guard try transaction.policyVersions(arn: arn).count < Self.maxPolicyVersions else {
                throw IAMError(.limitExceeded, "A managed policy can have up to \(Self.maxPolicyVersions) versions. "
                    + "Before you create a new version, you must delete an existing version.")
            }
            let version = PolicyVersionRecord(versionID: "v\(record.nextVersion)", document: document, created: time)
            try transaction.insertPolicyVersion(arn: arn, version)
            record.nextVersion += 1
            record.updated = time
            if setAsDefault { record.defaultVersion = version.versionID }
            try transaction.saveManagedPolicy(record)
            return version
        }
    }

    public func deletePolicyVersion(arn: String, versionID: String) async throws {
        try await store.write { transaction in
            let record = try self.requireManaged(arn, in: transaction)
            guard try transaction.policyVersion(arn: arn, versionID: versionID) != nil else {
                throw IAMError(.noSuchEntity, "Policy \(arn) version \(versionID) does not exist or is not deletable.")
            }
            guard versionID != record.defaultVersion else {
                throw IAMError(.deleteConflict, "Cannot delete the default version of a policy.")
            }
            try transaction.deletePolicyVersion(arn: arn, versionID: versionID)
        }
    }

    public func setDefaultPolicyVersion(arn: String, versionID: String) async throws {
        let time = now()
        try await store.write { transaction in
            var record = try self.requireManaged(arn, in: transaction)
            guard try transaction.policyVersion(arn: arn, versionID: versionID) != nil else {
                throw IAMError(.noSuchEntity, "Policy \(arn) version \(versionID) does not exist or is not attachable.")
            }
            record.defaultVersion = versionID
            record.updated = time
            try transaction.saveManagedPolicy(record)
        }
    }

    /// DeletePolicy: `DeleteConflict` while attached or while versions other than the default remain.
    public func deletePolicy(arn: String) async throws {
        try await store.write { transaction in
            _ = try self.requireManaged(arn, in: transaction)
            guard try transaction.attachmentCount(arn: arn) == 0 else {
                throw IAMError(.deleteConflict, "Cannot delete a policy attached to entities.")
            }
            guard try transaction.policyVersions(arn: arn).count == 1 else {
                throw IAMError(.deleteConflict, "This policy has more than one version. Before you delete a policy, "
                    + "you must delete the policy's versions. The default version is deleted with the policy.")
            }
            try transaction.deleteManagedPolicy(arn: arn)
        }
    }

    public func listPolicies(scope: PolicyScope, onlyAttached: Bool, pathPrefix: String, marker: String?,
                             maxItems: Int) async throws -> Page<ManagedPolicy> {
        try await store.asyncRead { transaction in
            var policies: [ManagedPolicy] = []
            if scope != .local { policies += try AWSManagedPolicy.all.map { try self.managed($0, in: transaction) } }
            if scope != .aws { policies += try transaction.managedPolicies().map { try self.managed($0, in: transaction) } }
            policies = policies.filter { (!onlyAttached || $0.attachmentCount > 0) && $0.path.hasPrefix(pathPrefix) }
                .sorted { $0.arn < $1.arn }
            if let marker { policies = policies.filter { $0.arn > marker } }
            return Page(Array(policies.prefix(maxItems + 1)), maxItems: maxItems) { $0.arn }
        }
    }

    // MARK: Attachments

    public func attachPolicy(_ owner: PolicyOwner, arn: String) async throws {
        try await store.write { transaction in
            try self.requireOwner(owner, in: transaction)
            let exists = try AWSManagedPolicy.named(arn: arn) != nil || transaction.managedPolicy(arn: arn) != nil
            guard exists else {
                throw IAMError(.noSuchEntity, "Policy \(arn) does not exist or is not attachable.")
            }
            let attached = try transaction.attachedPolicies(owner)
            guard attached.contains(arn) || attached.count < Self.maxAttachedPolicies else {
                throw IAMError(.limitExceeded, "Cannot exceed quota for PoliciesPer\(owner.kindName.capitalized): "
                    + "\(Self.maxAttachedPolicies)")
            }
            try transaction.attach(owner, arn: arn)
        }
    }

    public func detachPolicy(_ owner: PolicyOwner, arn: String) async throws {
        try await store.write { transaction in
            try self.requireOwner(owner, in: transaction)
            guard try transaction.attachedPolicies(owner).contains(arn) else {
                throw IAMError(.noSuchEntity, "Policy \(arn) was not found.")
            }
            try transaction.detach(owner, arn: arn)
        }
    }

    /// (name, ARN) of each attached policy.
    public func attachedPolicies(_ owner: PolicyOwner) async throws -> [(name: String, arn: String)] {
        try await store.asyncRead { transaction in
            try self.requireOwner(owner, in: transaction)
            return try transaction.attachedPolicies(owner).map { arn in
                (String(arn.split(separator: "/").last ?? Substring(arn)), arn)
            }
        }
    }

    // MARK: Groups

    public func groupArn(_ group: GroupRecord) -> String { "arn:aws:iam::\(accountID):group\(group.path)\(group.name)" }

    public func createGroup(name: String, path: String?) async throws -> GroupRecord {
        try Names.validateUserName(name, parameter: "groupName")
        let path = path ?? "/"
        try Names.validatePath(path)
        let group = GroupRecord(name: name, groupID: "AGPA" + Names.random(Names.upperAlphanumeric, count: 17), path: path,
                                created: now())
        return try await store.write { transaction in
            if let existing = try transaction.groupNamedIgnoringCase(name) { throw Self.nameTaken("Group", name, by: existing) }
            guard try transaction.groupCount() < Self.maxGroups else {
                throw IAMError(.limitExceeded, "Cannot exceed quota for GroupsPerAccount: \(Self.maxGroups)")
            }
            try transaction.insertGroup(group)
            return group
        }
    }

    public func group(named name: String) async throws -> GroupRecord? { try await store.asyncRead { try $0.group(named: name) } }

    /// GetGroup: the group and its members.
    public func getGroup(name: String) async throws -> (group: GroupRecord, users: [UserRecord]) {
        try await store.asyncRead { transaction in
            guard let group = try transaction.group(named: name) else {
                throw IAMError(.noSuchEntity, "The group with name \(name) cannot be found.")
            }
            return (group, try transaction.members(ofGroup: name).compactMap { try transaction.user(named: $0) })
        }
    }

    public func listGroups(marker: String?, maxItems: Int) async throws -> Page<GroupRecord> {
        let rows = try await store.asyncRead { try $0.groups(after: marker, limit: maxItems + 1) }
        return Page(rows, maxItems: maxItems) { $0.name }
    }

    public func deleteGroup(name: String) async throws {
        try await store.write { transaction in
            guard try transaction.group(named: name) != nil else {
                throw IAMError(.noSuchEntity, "The group with name \(name) cannot be found.")
            }
            guard try transaction.members(ofGroup: name).isEmpty else {
                throw IAMError(.deleteConflict, "Cannot delete entity, must remove users from group first.")
            }
            guard try !transaction.hasPolicies(.group(name)) else {
                throw IAMError(.deleteConflict, "Cannot delete entity, must delete policies first.")
            }
            try transaction.deleteGroup(named: name)
        }
    }

    public func addUser(_ user: String, toGroup group: String) async throws {
        try await store.write { transaction in
            try self.requireOwner(.group(group), in: transaction)
            try self.requireOwner(.user(user), in: transaction)
            let groups = try transaction.groups(ofUser: user)
            guard groups.contains(group) || groups.count < Self.maxGroupsPerUser else {
                throw IAMError(.limitExceeded, "Cannot exceed quota for GroupsPerUser: \(Self.maxGroupsPerUser)")
            }
            try transaction.addMember(group: group, user: user)
        }
    }

    public func removeUser(_ user: String, fromGroup group: String) async throws {
        try await store.write { transaction in
            try self.requireOwner(.group(group), in: transaction)
            try self.requireOwner(.user(user), in: transaction)
            guard try transaction.groups(ofUser: user).contains(group) else {
                throw IAMError(.noSuchEntity, "The user with name \(user) is not in group \(group).")
            }
            try transaction.removeMember(group: group, user: user)
        }
    }

    public func groups(ofUser user: String) async throws -> [GroupRecord] {
        try await store.asyncRead { transaction in
            try self.requireOwner(.user(user), in: transaction)
            return try transaction.groups(ofUser: user).compactMap { try transaction.group(named: $0) }
        }
    }
}

extension PolicyOwner: CustomStringConvertible {
    var kindName: String {
        switch self {
        case .user: "user"
        case .group: "group"
        }
    }

    public var description: String {
        switch self {
        case .user(let name): "user \(name)"
        case .group(let name): "group \(name)"
        }
    }
}
