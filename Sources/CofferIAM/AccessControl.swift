import CofferCore
import CofferPolicy
import CofferStore
import Foundation

/// One policy as the evaluator and SimulatePrincipalPolicy see it: where it came from and what it says.
public struct PolicySource: Sendable {
    /// AWS's SourcePolicyType values.
    public enum Kind: String, Sendable {
        case user, group, awsManaged = "aws-managed", userManaged = "user-managed", resource, none
    }
    /// The inline policy's name, or the managed policy's ARN, or the bucket.
    public var id: String
    public var kind: Kind
    public var document: PolicyDocument
    /// The document as stored or sent (the simulator locates statements in it).
    public var text: String

    public init(id: String, kind: Kind, document: PolicyDocument, text: String = "") {
        self.id = id
        self.kind = kind
        self.document = document
        self.text = text
    }
}

/// Why a request was refused: the client's message (AWS's wording) and the audit log's reason.
public struct Denial: Error, Sendable {
    /// What refused the request: AWS's evaluation, or a rule of Coffer's own before it.
    public enum Cause: Sendable, Equatable {
        /// An explicit Deny, in a bucket policy or in an identity policy.
        case explicitDeny(inResourcePolicy: Bool)
        /// No policy allows it.
        case implicitDeny
        /// A rule outside the policies (anonymous owner operations, sessions without MFA, a
        /// console request from elsewhere…).
        case rule
    }

    public var message: String
    /// `with an explicit deny in an identity-based policy`, `because no identity-based policy allows …`, …
    public var reason: String
    public var action: String
    public var resource: String
    public var cause: Cause
    /// Refused by an explicit Deny (not merely for want of an Allow).
    public var isExplicit: Bool {
        if case .explicitDeny = cause { return true }
        return false
    }

    public init(message: String, reason: String, action: String, resource: String, cause: Cause = .rule) {
        self.message = message
        self.reason = reason
        self.action = action
        self.resource = resource
        self.cause = cause
    }
}

/// The one authorization point: who may do what, decided by AWS's evaluation logic over the
/// caller's identity policies (inline and attached, the user's and their groups') and the bucket
/// policy. Policies are read once per write generation and per thread (`ThreadLocalGenerationCache`):
/// a request pays no database read and no shared lock or reference count while nothing has been
/// written, and a revoked permission applies at the next request in every process.
public final class AccessControl: Sendable {
    let store: Store
    public let accountID: String
    private let identities: ThreadLocalGenerationCache<String, [PolicySource]>
    private let buckets: ThreadLocalGenerationCache<String, PolicySource?>

    public init(store: Store, accountID: String) {
        self.store = store
        self.accountID = accountID
        identities = store.makeThreadLocalCache(maxEntries: 1024, domain: .access)
        buckets = store.makeThreadLocalCache(maxEntries: 1024, domain: .bucketPolicies)
    }

    // MARK: Policies

    /// Every identity policy that applies to an IAM user: the user's inline and attached
    /// policies, then each group's.
    public func identityPolicies(user: String) throws -> [PolicySource] {
        try identities.value(for: user) {
            try store.decisionRead("identity\u{0}" + user) { try Self.identityPolicies(user: user, in: $0) }
        }
    }

    /// A group's inline and attached policies (SimulatePrincipalPolicy on a group).
    public func groupPolicies(group: String) async throws -> [PolicySource] {
        try await store.asyncRead { try Self.policies(of: .group(group), inline: .group, in: $0) }
    }

    /// Runs a decision (`authorize`, or an API's check around it) whose reads suspend rather than
    /// block while a cluster node's database answers (`Store.resolving`).
    public func resolving<T>(_ decide: () throws -> T) async throws -> T {
        try await store.resolving(decide)
    }

    static func identityPolicies(user: String, in transaction: StoreTransaction) throws -> [PolicySource] {
        var sources = try policies(of: .user(user), inline: .user, in: transaction)
        for group in try transaction.groups(ofUser: user) {
            sources += try policies(of: .group(group), inline: .group, in: transaction)
        }
        return sources
    }

    static func policies(of owner: PolicyOwner, inline kind: PolicySource.Kind,
                         in transaction: StoreTransaction) throws -> [PolicySource] {
        var sources: [PolicySource] = []
        for (name, json) in try transaction.inlinePolicies(owner) {
            sources.append(PolicySource(id: name, kind: kind, document: try stored(json), text: json))
        }
        for arn in try transaction.attachedPolicies(owner) {
            if let source = try managed(arn, in: transaction) { sources.append(source) }
        }
        return sources
    }

    /// A managed policy's default version (AWS's or the account's); nil when there is none.
    static func managed(_ arn: String, in transaction: StoreTransaction) throws -> PolicySource? {
        if let managed = AWSManagedPolicy.named(arn: arn) {
            return PolicySource(id: arn, kind: .awsManaged, document: try stored(managed.document), text: managed.document)
        }
        guard let policy = try transaction.managedPolicy(arn: arn),
              let version = try transaction.policyVersion(arn: arn, versionID: policy.defaultVersion)
        else { return nil }
        return PolicySource(id: arn, kind: .userManaged, document: try stored(version.document), text: version.document)
    }

    /// A document stored after validation; one that no longer parses fails closed.
    static func stored(_ json: String, kind: PolicyDocument.Kind = .identity) throws -> PolicyDocument {
        do {
            return try PolicyDocument(json: Array(json.utf8), kind: kind, maxSize: .max)
        } catch {
            throw IAMError(.serviceFailure, "A stored policy document no longer parses: \(error.message)")
        }
    }

    /// The bucket's policy, if it has one (nil for a bucket that does not exist).
    public func bucketPolicy(bucket: String) throws -> PolicySource? {
        try buckets.value(for: bucket) {
            try store.decisionRead("bucket-policy\u{0}" + bucket) { transaction -> PolicySource? in
                guard let record = try transaction.bucket(named: bucket),
                      let json = try transaction.bucketPolicy(bucketID: record.id)
                else { return nil }
                return PolicySource(id: bucket, kind: .resource, document: try Self.stored(json, kind: .resource), text: json)
            }
        }
    }

    /// Whether a bucket exists (a refused request on a bucket that does not answers NoSuchBucket,
    /// as AWS does: bucket names are no secret).
    public func bucketExists(_ name: String) throws -> Bool {
        try store.decisionRead("bucket\u{0}" + name) { try $0.bucket(named: name) != nil }
    }

    // MARK: Decisions

    /// Actions a bucket policy's Deny never takes from the root, so a bucket is never locked for good.
    static let rootPolicyActions: Set<String> = ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"]

    /// Refuses (throws `Denial`) unless `principal` may perform `action` on `resource`.
    /// `bucket`: the bucket whose policy applies (S3); `keys`: the condition keys, built only if
    /// a statement needs them.
    /// `resource` is made only when a policy is read (the root of a bucket without one needs none).
    public func authorize(_ principal: Principal, action: String, resource makeResource: @autoclosure () -> String,
                          bucket: String?, service: Service, keys: () -> [String: [String]]) throws {
        // The root's bucket-policy calls never read the policy: whatever it says (or if it no
        // longer parses), the root can always replace or remove it.
        if principal.isRoot, Self.rootPolicyActions.contains(action) { return }
        let resourcePolicy = try bucket.flatMap { try bucketPolicy(bucket: $0) }
        if principal.isRoot {
            // The root is not subject to identity policies; only a bucket policy's Deny binds it.
            guard let resourcePolicy else { return }
            let resource = makeResource()
            let evaluation = evaluate(principal, action: action, resource: resource, identity: [],
                                      resourcePolicy: resourcePolicy, keys: keys)
            if evaluation.decision == .explicitDeny {
                throw denial(principal, action, resource, service, .explicitDeny(inResourcePolicy: true))
            }
            return
        }
        let identity = principal.isAnonymous ? [] : try identityPolicies(user: principal.userName)
        let resource = makeResource()
        let evaluation = evaluate(principal, action: action, resource: resource, identity: identity,
                                  resourcePolicy: resourcePolicy, keys: keys)
        switch evaluation.decision {
        case .allowed: return
        case .explicitDeny:
            throw denial(principal, action, resource, service, .explicitDeny(inResourcePolicy: evaluation.deniedByResourcePolicy))
        case .implicitDeny:
            throw denial(principal, action, resource, service, .implicitDeny)
        }
    }

    public enum Service: Sendable { case s3, iam }

    public func evaluate(_ principal: Principal, action: String, resource: String, identity: [PolicySource],
                         resourcePolicy: PolicySource?, budget: WorkBudget = WorkBudget(),
                         keys: () -> [String: [String]]) -> Evaluation {
        PolicyEvaluator.evaluate(identity: identity.map { ($0.id, $0.document) },
                                 resource: resourcePolicy.map { ($0.id, $0.document) },
                                 action: action, resourceArn: resource,
                                 principalArn: principal.isAnonymous ? nil : principal.arn,
                                 principalAccount: principal.isAnonymous ? nil : accountID, budget: budget, keys: keys)
    }

    /// The condition keys that statements matching this action and resource (conditions aside)
    /// test and the request does not carry: the simulator's MissingContextValues.
    public func missingKeys(action: String, resource: String, principal: Principal, identity: [PolicySource],
                            resourcePolicy: PolicySource?, keys: [String: [String]]) -> [String] {
        var missing: [String] = []
        for source in identity + (resourcePolicy.map { [$0] } ?? []) {
            for statement in source.document.statements where !statement.conditions.isEmpty {
                var bare = statement
                bare.conditions = []
                let context = RequestContext(action: action, resource: resource,
                                             principalArn: principal.isAnonymous ? nil : principal.arn,
                                             principalAccount: accountID, keys: keys)
                guard PolicyEvaluator.matches(bare, version: source.document.version, context: context,
                                              isResource: source.kind == .resource)
                else { continue }
                for condition in statement.conditions where keys[condition.key] == nil
                    && !missing.contains(where: { $0.lowercased() == condition.key }) {
                    missing.append(condition.keyName)
                }
            }
        }
        return missing
    }

    func denial(_ principal: Principal, _ action: String, _ resource: String, _ service: Service, _ cause: Denial.Cause) -> Denial {
        let reason = switch cause {
        case .explicitDeny(let inResourcePolicy):
            inResourcePolicy ? "with an explicit deny in a resource-based policy" : "with an explicit deny in an identity-based policy"
        case .implicitDeny, .rule: "because no identity-based policy allows the \(action) action"
        }
        let message: String
        if principal.isAnonymous {
            message = "Access Denied"
        } else {
            let shown = service == .s3 ? "\"\(resource)\"" : resource
            message = "User: \(principal.arn) is not authorized to perform: \(action) on resource: \(shown) \(reason)"
        }
        return Denial(message: message, reason: reason, action: action, resource: resource, cause: cause)
    }
}

/// The global condition keys of a request (lowercased names, as the evaluator wants them).
public enum ConditionKeys {
    /// Every key Coffer supplies. A stored policy may test no other: a key that is never present
    /// would make a Deny on it silently ineffective (or an Allow on a negated test silently broad).
    public static let supported: Set<String> = [
        "aws:multifactorauthpresent", "aws:multifactorauthage", "aws:securetransport", "aws:sourceip",
        "aws:currenttime", "aws:epochtime", "aws:username", "aws:userid", "aws:principalarn", "aws:principalaccount",
        "aws:principaltype", "aws:useragent", "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:versionid",
    ]

    /// The first condition key of `document` Coffer does not supply, if any.
    public static func unsupported(in document: PolicyDocument) -> String? {
        document.conditionKeys.first { !supported.contains($0.lowercased()) }
    }

    public struct Connection: Sendable {
        public var secureTransport: Bool
        public var sourceIP: String?
        public var userAgent: String?
        public init(secureTransport: Bool, sourceIP: String?, userAgent: String?) {
            self.secureTransport = secureTransport
            self.sourceIP = sourceIP
            self.userAgent = userAgent
        }
    }

    /// `now`: Unix milliseconds.
    public static func global(_ principal: Principal, connection: Connection, now: Int64) -> [String: [String]] {
        var keys: [String: [String]] = [
            "aws:securetransport": [connection.secureTransport ? "true" : "false"],
            "aws:currenttime": [HTTPDate.iso8601(milliseconds: now / 1000 * 1000).replacingOccurrences(of: ".000", with: "")],
            "aws:epochtime": [String(now / 1000)],
        ]
        if let ip = connection.sourceIP { keys["aws:sourceip"] = [ip] }
        if let agent = connection.userAgent { keys["aws:useragent"] = [agent] }
        guard !principal.isAnonymous else { return keys }
        keys["aws:principalarn"] = [principal.arn]
        keys["aws:principalaccount"] = [principal.accountID]
        keys["aws:principaltype"] = [principal.isRoot ? "Account" : "User"]
        keys["aws:userid"] = [principal.isRoot ? principal.accountID : principal.userID]
        if !principal.isRoot { keys["aws:username"] = [principal.userName] }
        // Present only for session credentials (AWS): long-term keys carry neither key.
        if principal.isSession {
            keys["aws:multifactorauthpresent"] = [principal.mfaAuthenticated ? "true" : "false"]
            if principal.mfaAuthenticated, let at = principal.mfaAuthenticatedAt {
                keys["aws:multifactorauthage"] = [String(max(0, (now - at) / 1000))]
            }
        }
        return keys
    }
}
