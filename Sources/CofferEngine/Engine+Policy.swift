import CofferCore
import CofferIAM
import CofferPolicy
import CofferStore

/// Bucket policies: validated with the policy language's parser and stored as sent.
extension Engine {
    /// AWS's limit for a bucket policy document.
    public static let maxBucketPolicySize = 20 * 1024

    /// PutBucketPolicy: a valid resource policy whose resources are this bucket or its objects.
    public func putBucketPolicy(_ name: String, document: [UInt8]) async throws {
        let parsed: PolicyDocument
        do {
            parsed = try PolicyDocument(json: document, kind: .resource, maxSize: Self.maxBucketPolicySize)
        } catch {
            throw S3Error(.malformedPolicy, error.message)
        }
        let bucketArn = "arn:aws:s3:::\(name)"
        if let key = ConditionKeys.unsupported(in: parsed) {
            throw S3Error(.malformedPolicy, "Coffer does not supply the condition key \(key): a condition on it would never "
                + "be what it says.")
        }
        for statement in parsed.statements {
            if statement.effect == .allow, statement.principalsNegated {
                throw S3Error(.malformedPolicy, "Allow with NotPrincipal is not supported (as on AWS): name the principals.")
            }
            for pattern in statement.resources.values where !Self.namesBucket(pattern, name) {
                throw S3Error(.malformedPolicy, "Policy has invalid resource: \(pattern) is not \(bucketArn) or one of its objects")
            }
            for action in statement.actions.values where !(action == "*" || action.lowercased().hasPrefix("s3:")) {
                throw S3Error(.malformedPolicy, "Policy has invalid action: \(action)")
            }
        }
        let text = String(decoding: document, as: UTF8.self)
        try await store.write { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            try transaction.setBucketPolicy(bucketID: bucket.id, document: text)
        }
    }

    /// Whether a Resource pattern of a bucket policy is about the bucket `name` (its bucket part,
    /// up to the first `/`, matches the name).
    static func namesBucket(_ pattern: String, _ name: String) -> Bool {
        if pattern == "*" { return true }
        let prefix = "arn:aws:s3:::"
        guard pattern.hasPrefix(prefix) else { return false }
        let rest = pattern.dropFirst(prefix.count)
        let bucketPart = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return Wildcard.matches(String(bucketPart), name, caseInsensitive: false)
            || (bucketPart.hasSuffix("*") && Wildcard.matches(String(rest), name, caseInsensitive: false))
    }

    public func bucketPolicy(_ name: String) async throws -> String {
        try await store.asyncRead { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            guard let document = try transaction.bucketPolicy(bucketID: bucket.id) else {
                throw S3Error(.noSuchBucketPolicy, details: [("BucketName", name)])
            }
            return document
        }
    }

    public func deleteBucketPolicy(_ name: String) async throws {
        try await store.write { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            try transaction.setBucketPolicy(bucketID: bucket.id, document: nil)
        }
    }

    /// GetBucketPolicyStatus: public when an Allow grants to everyone without a condition that
    /// pins the caller or its network (AWS's test, simplified to the keys Coffer knows).
    public func bucketPolicyIsPublic(_ name: String) async throws -> Bool {
        Self.isPublic(policy: try await bucketPolicy(name))
    }

    /// Whether a bucket policy's text makes its bucket public (the test above).
    public static func isPublic(policy document: String) -> Bool {
        guard let parsed = try? PolicyDocument(json: Array(document.utf8), kind: .resource, maxSize: .max) else { return false }
        let pinning: Set<String> = ["aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount",
                                    "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:userid"]
        return parsed.statements.contains { statement in
            guard statement.effect == .allow, let principals = statement.principals else { return false }
            let everyone = statement.principalsNegated || principals == .everyone
            return everyone && !statement.conditions.contains { pinning.contains($0.key) }
        }
    }
}
