import CofferCore
import CofferEngine
import CofferMFA
import CofferStore
import HTTPTypes
import NIOCore
import Synchronization

/// One permission an S3 request needs: an IAM action on a resource, and the bucket whose policy applies.
struct S3Permission: Sendable {
    var action: String
    var resource: String
    var bucket: String?
}

/// What an S3 request needs, from the one exhaustive table below.
struct S3Access: Sendable {
    /// Nil only for DeleteObjects, whose entries are authorized one by one.
    var permission: S3Permission?
    /// CopyObject and UploadPartCopy also read their source.
    var source: S3Permission?
    /// Bucket-owner operations: never granted to anonymous callers, whatever a bucket policy says.
    var ownerOnly: Bool
}

extension Endpoint {
    /// The IAM action(s) and resource ARN(s) of a request, as AWS's Service Authorization Reference
    /// maps S3 operations (a request naming a versionId needs the `…Version` action).
    func access(target: RequestTarget, copySource: (bucket: String, key: String, versionID: String?)?) -> S3Access {
        let bucketArn = "arn:aws:s3:::" + bucket
        func onBucket(_ action: String, ownerOnly: Bool = false) -> S3Access {
            S3Access(permission: S3Permission(action: action, resource: bucketArn, bucket: bucket), ownerOnly: ownerOnly)
        }
        func onObject(_ action: String, versioned: String? = nil) -> S3Access {
            let named = versioned != nil && target.has("versionId")
            return S3Access(permission: S3Permission(action: named ? versioned! : action, resource: bucketArn + "/" + key,
                                                     bucket: bucket), ownerOnly: false)
        }
        func copying(_ access: S3Access) -> S3Access {
            var access = access
            if let copySource {
                access.source = S3Permission(
                    action: copySource.versionID == nil ? "s3:GetObject" : "s3:GetObjectVersion",
                    resource: "arn:aws:s3:::\(copySource.bucket)/\(copySource.key)", bucket: copySource.bucket)
            }
            return access
        }
        switch operation {
        case .listBuckets:
            return S3Access(permission: S3Permission(action: "s3:ListAllMyBuckets", resource: "*", bucket: nil), ownerOnly: true)
        case .createBucket: return onBucket("s3:CreateBucket", ownerOnly: true)
        case .deleteBucket: return onBucket("s3:DeleteBucket", ownerOnly: true)
        case .headBucket, .listObjects, .listObjectsV2: return onBucket("s3:ListBucket")
        case .getBucketLocation: return onBucket("s3:GetBucketLocation")
        case .getBucketVersioning: return onBucket("s3:GetBucketVersioning")
        case .putBucketVersioning: return onBucket("s3:PutBucketVersioning", ownerOnly: true)
        case .getBucketAcl: return onBucket("s3:GetBucketAcl")
        case .listObjectVersions: return onBucket("s3:ListBucketVersions")
        case .listMultipartUploads: return onBucket("s3:ListBucketMultipartUploads")
        case .getBucketPolicy: return onBucket("s3:GetBucketPolicy", ownerOnly: true)
        case .putBucketPolicy: return onBucket("s3:PutBucketPolicy", ownerOnly: true)
        case .deleteBucketPolicy: return onBucket("s3:DeleteBucketPolicy", ownerOnly: true)
        case .getBucketPolicyStatus: return onBucket("s3:GetBucketPolicyStatus", ownerOnly: true)
        case .deleteObjects: return S3Access(permission: nil, ownerOnly: false)
        case .putObject, .createMultipartUpload, .uploadPart, .completeMultipartUpload: return onObject("s3:PutObject")
        case .copyObject, .uploadPartCopy: return copying(onObject("s3:PutObject"))
        case .abortMultipartUpload: return onObject("s3:AbortMultipartUpload")
        case .listParts: return onObject("s3:ListMultipartUploadParts")
        case .getObject, .headObject: return onObject("s3:GetObject", versioned: "s3:GetObjectVersion")
        case .getObjectAcl: return onObject("s3:GetObjectAcl", versioned: "s3:GetObjectVersionAcl")
        case .deleteObject: return onObject("s3:DeleteObject", versioned: "s3:DeleteObjectVersion")
        }
    }

    /// The service-specific condition keys S3 defines for this request.
    func s3Keys(target: RequestTarget) -> [(String, String)] {
        switch operation {
        case .listObjects, .listObjectsV2, .listObjectVersions:
            return [("s3:prefix", target["prefix"]), ("s3:delimiter", target["delimiter"]), ("s3:max-keys", target["max-keys"])]
                .compactMap { name, value in value.map { (name, $0) } }
        case .getObject, .headObject, .deleteObject, .getObjectAcl:
            return target["versionId"].map { [("s3:versionid", $0)] } ?? []
        case .listBuckets, .createBucket, .deleteBucket, .headBucket, .getBucketLocation, .getBucketVersioning,
             .putBucketVersioning, .getBucketAcl, .listMultipartUploads, .getBucketPolicy, .putBucketPolicy,
             .deleteBucketPolicy, .getBucketPolicyStatus, .deleteObjects, .putObject, .createMultipartUpload, .uploadPart,
             .completeMultipartUpload, .copyObject, .uploadPartCopy, .abortMultipartUpload, .listParts:
            return []
        }
    }
}

/// The authorization point of the S3 API: every request, on both read paths, is decided here
/// before any handler runs (DeleteObjects' entries through `allows`, one by one).
struct S3Authorizer: Sendable {
    let access: AccessControl
    let refusals: RefusalAudit
    let now: @Sendable () -> Int64

    /// Throws `AccessDenied` (and audits the refusal) unless `principal` may make this request.
    func authorize(_ endpoint: Endpoint, target: RequestTarget, copySource: (bucket: String, key: String, versionID: String?)?,
                   principal: Principal, connection: ConnectionInfo) async throws {
        do {
            try check(endpoint, target: target, copySource: copySource, principal: principal, connection: connection)
        } catch let denial as Denial {
            if endpoint.operation != .createBucket, endpoint.operation != .listBuckets,
               try !access.bucketExists(endpoint.bucket) {
                throw S3Error(.noSuchBucket, details: [("BucketName", endpoint.bucket)])
            }
            await refusals.record(denial, event: "S3:\(endpoint.operation.rawValue)", principal: principal,
                                  connection: connection)
            throw S3Error(.accessDenied, denial.message)
        }
    }

    /// The decision alone (the in-place read path: a refusal goes on to the general path, which
    /// decides again and answers).
    func check(_ endpoint: Endpoint, target: RequestTarget, copySource: (bucket: String, key: String, versionID: String?)?,
               principal: Principal, connection: ConnectionInfo) throws {
        let needs = endpoint.access(target: target, copySource: copySource)
        if principal.isAnonymous, needs.ownerOnly, let permission = needs.permission {
            throw Denial(message: "Access Denied", reason: "anonymous callers may not perform bucket-owner operations",
                         action: permission.action, resource: permission.resource)
        }
        for permission in [needs.permission, needs.source].compactMap({ $0 }) {
            try access.authorize(principal, action: permission.action, resource: permission.resource,
                                 bucket: permission.bucket, service: .s3) {
                keys(principal, connection: connection, extra: endpoint.s3Keys(target: target))
            }
        }
    }

    /// Whether `principal` may perform `action` on an object (DeleteObjects' entries; the
    /// ListBucket test that picks 404 or 403 for a missing key).
    func allows(_ principal: Principal, action: String, resource: String, bucket: String, connection: ConnectionInfo,
                extra: [(String, String)] = []) throws -> Bool {
        do {
            try access.authorize(principal, action: action, resource: resource, bucket: bucket, service: .s3) {
                keys(principal, connection: connection, extra: extra)
            }
            return true
        } catch is Denial {
            return false
        }
    }

    func keys(_ principal: Principal, connection: ConnectionInfo, extra: [(String, String)]) -> [String: [String]] {
        var keys = ConditionKeys.global(principal, connection: ConditionKeys.Connection(
            secureTransport: connection.secureTransport, sourceIP: connection.sourceIP, userAgent: connection.userAgent),
                                        now: now())
        for (name, value) in extra { keys[name, default: []].append(value) }
        return keys
    }
}

/// Refused requests in the audit log: every refusal of a signed request; refusals of anonymous
/// requests at most `anonymousPerSecond` a second, so a flood cannot grow the log without bound.
final class RefusalAudit: Sendable {
    let store: Store
    let now: @Sendable () -> Int64
    let anonymousPerSecond: Int
    private let window = Mutex<(second: Int64, count: Int)>((0, 0))

    init(store: Store, now: @escaping @Sendable () -> Int64, anonymousPerSecond: Int = 10) {
        self.store = store
        self.now = now
        self.anonymousPerSecond = anonymousPerSecond
    }

    func record(_ denial: Denial, event: String, principal: Principal, connection: ConnectionInfo) async {
        let time = now()
        if principal.isAnonymous {
            let admitted = window.withLock { window in
                if window.second != time / 1000 { window = (time / 1000, 0) }
                window.count += 1
                return window.count <= anonymousPerSecond
            }
            guard admitted else { return }
        }
        let entry = AuditRecord(time: time, event: event, outcome: .denied, principal: principal.arn, serial: nil,
                                source: connection.source, requestID: connection.requestID,
                                detail: "\(denial.action) on \(denial.resource): \(denial.reason)")
        // An audit row that cannot be written must not turn a refusal into a 500.
        _ = try? await store.write { try $0.appendAudit(entry) }
    }
}
