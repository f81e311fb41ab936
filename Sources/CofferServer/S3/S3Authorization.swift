import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import HTTPTypes
import NIOCore
import Synchronization

/// One permission an S3 request needs: an IAM action on a resource, and the bucket whose policy applies.
struct S3Permission: Sendable {
    var action: String
    /// Nil: every resource (`*`, ListAllMyBuckets).
    var bucket: String?
    var key: ObjectKey?

    /// The resource's ARN, made when a policy is read or a refusal explained.
    var resource: String {
        guard let bucket else { return "*" }
        guard let key else { return "arn:aws:s3:::" + bucket }
        return "arn:aws:s3:::" + bucket + "/" + key.text
    }
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

extension S3Request {
    /// The IAM action(s) and resource ARN(s) of a request, as AWS's Service Authorization Reference
    /// maps S3 operations (a request naming a versionId needs the `…Version` action).
    var access: S3Access {
        func onBucket(_ bucket: String, _ action: String, ownerOnly: Bool = false) -> S3Access {
            S3Access(permission: S3Permission(action: action, bucket: bucket), ownerOnly: ownerOnly)
        }
        func onObject(_ bucket: String, _ key: ObjectKey, _ action: String) -> S3Permission {
            S3Permission(action: action, bucket: bucket, key: key)
        }
        func onObject(_ object: ObjectRef, _ action: String, versioned: String) -> S3Access {
            S3Access(permission: onObject(object.bucket, object.key, object.versionID == nil ? action : versioned),
                     ownerOnly: false)
        }
        func reading(_ source: CopySource) -> S3Permission {
            onObject(source.bucket, source.key, source.versionID == nil ? "s3:GetObject" : "s3:GetObjectVersion")
        }
        switch self {
        case .listBuckets:
            return S3Access(permission: S3Permission(action: "s3:ListAllMyBuckets", bucket: nil), ownerOnly: true)
        case .createBucket(let bucket): return onBucket(bucket, "s3:CreateBucket", ownerOnly: true)
        case .deleteBucket(let bucket): return onBucket(bucket, "s3:DeleteBucket", ownerOnly: true)
        case .headBucket(let bucket), .listObjects(let bucket, _), .listObjectsV2(let bucket, _):
            return onBucket(bucket, "s3:ListBucket")
        case .getBucketLocation(let bucket): return onBucket(bucket, "s3:GetBucketLocation")
        case .getBucketVersioning(let bucket): return onBucket(bucket, "s3:GetBucketVersioning")
        case .putBucketVersioning(let bucket): return onBucket(bucket, "s3:PutBucketVersioning", ownerOnly: true)
        case .getBucketAcl(let bucket): return onBucket(bucket, "s3:GetBucketAcl")
        case .listObjectVersions(let bucket, _): return onBucket(bucket, "s3:ListBucketVersions")
        case .listMultipartUploads(let bucket, _): return onBucket(bucket, "s3:ListBucketMultipartUploads")
        case .getBucketPolicy(let bucket): return onBucket(bucket, "s3:GetBucketPolicy", ownerOnly: true)
        case .putBucketPolicy(let bucket): return onBucket(bucket, "s3:PutBucketPolicy", ownerOnly: true)
        case .deleteBucketPolicy(let bucket): return onBucket(bucket, "s3:DeleteBucketPolicy", ownerOnly: true)
        case .getBucketPolicyStatus(let bucket): return onBucket(bucket, "s3:GetBucketPolicyStatus", ownerOnly: true)
        case .deleteObjects: return S3Access(permission: nil, ownerOnly: false)  // each entry on its own
        case .putObject(let object), .createMultipartUpload(let object):
            return S3Access(permission: onObject(object.bucket, object.key, "s3:PutObject"), ownerOnly: false)
        case .uploadPart(let upload, _), .completeMultipartUpload(let upload):
            return S3Access(permission: onObject(upload.bucket, upload.key, "s3:PutObject"), ownerOnly: false)
        case .copyObject(let object, let source):
            return S3Access(permission: onObject(object.bucket, object.key, "s3:PutObject"), source: reading(source),
                            ownerOnly: false)
        case .uploadPartCopy(let upload, _, let source):
            return S3Access(permission: onObject(upload.bucket, upload.key, "s3:PutObject"), source: reading(source),
                            ownerOnly: false)
        case .abortMultipartUpload(let upload):
            return S3Access(permission: onObject(upload.bucket, upload.key, "s3:AbortMultipartUpload"), ownerOnly: false)
        case .listParts(let listing):
            return S3Access(permission: onObject(listing.upload.bucket, listing.upload.key, "s3:ListMultipartUploadParts"),
                            ownerOnly: false)
        case .getObject(let object, _), .headObject(let object, _):
            return onObject(object, "s3:GetObject", versioned: "s3:GetObjectVersion")
        case .getObjectAcl(let object): return onObject(object, "s3:GetObjectAcl", versioned: "s3:GetObjectVersionAcl")
        case .deleteObject(let object): return onObject(object, "s3:DeleteObject", versioned: "s3:DeleteObjectVersion")
        }
    }

    /// The service-specific condition keys S3 defines for this request.
    var conditionKeys: [(String, String)] {
        func keys(of list: S3Responder.ListParameters) -> [(String, String)] {
            [("s3:prefix", list.given.prefix), ("s3:delimiter", list.given.delimiter), ("s3:max-keys", list.given.maxKeys)]
                .compactMap { name, value in value.map { (name, $0) } }
        }
        switch self {
        case .listObjects(_, let listing), .listObjectsV2(_, let listing): return keys(of: listing.list)
        case .listObjectVersions(_, let versions): return keys(of: versions.list)
        case .getObject(let object, _), .headObject(let object, _), .deleteObject(let object), .getObjectAcl(let object):
            return object.versionID.map { [("s3:versionid", $0)] } ?? []
        case .listBuckets, .createBucket, .deleteBucket, .headBucket, .getBucketLocation, .getBucketVersioning,
             .putBucketVersioning, .getBucketAcl, .listMultipartUploads, .getBucketPolicy, .putBucketPolicy,
             .deleteBucketPolicy, .getBucketPolicyStatus, .deleteObjects, .putObject, .createMultipartUpload, .uploadPart,
             .completeMultipartUpload, .copyObject, .uploadPartCopy, .abortMultipartUpload, .listParts:
            return []
        }
    }

    /// The bucket a request is about ("" for ListBuckets).
    var bucket: String {
        switch self {
        case .listBuckets: ""
        case .createBucket(let bucket), .deleteBucket(let bucket), .headBucket(let bucket), .getBucketLocation(let bucket),
             .getBucketVersioning(let bucket), .putBucketVersioning(let bucket), .getBucketAcl(let bucket),
             .getBucketPolicy(let bucket), .putBucketPolicy(let bucket), .deleteBucketPolicy(let bucket),
             .getBucketPolicyStatus(let bucket), .listObjects(let bucket, _), .listObjectsV2(let bucket, _),
             .listObjectVersions(let bucket, _), .listMultipartUploads(let bucket, _), .deleteObjects(let bucket):
            bucket
        case .putObject(let object), .copyObject(let object, _), .createMultipartUpload(let object),
             .getObject(let object, _), .headObject(let object, _), .deleteObject(let object), .getObjectAcl(let object):
            object.bucket
        case .uploadPart(let upload, _), .uploadPartCopy(let upload, _, _), .completeMultipartUpload(let upload),
             .abortMultipartUpload(let upload):
            upload.bucket
        case .listParts(let listing): listing.upload.bucket
        }
    }
}

/// The authorization point of the S3 API: every request, on both read paths, is decided here
/// before any handler runs (DeleteObjects' entries through `permits`, one by one, each as the
/// DeleteObject it stands for).
struct S3Authorizer: AuthorizationPoint {
    let access: AccessControl
    let refusals: RefusalAudit
    let now: @Sendable () -> Int64

    func event(of request: S3Request) -> String { "S3:\(request.operation.rawValue)" }

    /// `AccessDenied` — or, on a bucket that does not exist, `NoSuchBucket`.
    func answer(to denial: Denial, for request: S3Request) async throws -> any Error {
        let operation = request.operation
        if operation != .createBucket, operation != .listBuckets {
            try await access.resolving { try requireBucket(request.bucket) }
        }
        return S3Error(.accessDenied, denial.message)
    }

    /// A refusal on a bucket that does not exist answers NoSuchBucket (AWS: bucket names are no secret).
    func requireBucket(_ bucket: String) throws {
        guard try access.bucketExists(bucket) else { throw S3Error(.noSuchBucket, details: [("BucketName", bucket)]) }
    }

    func check(_ request: S3Request, principal: Principal, connection: ConnectionInfo) async throws {
        try await access.resolving { try decide(request, principal: principal, connection: connection) }
    }

    /// The decision, synchronously: `check` runs it so that its reads suspend; the in-place read
    /// path runs it as it is (on the data folder, whose reads are in memory; a refusal goes on to
    /// the general path, which decides again and answers).
    /// `connection` is read only when a policy's conditions ask for its keys.
    func decide(_ request: S3Request, principal: Principal, connection: @autoclosure () -> ConnectionInfo) throws {
        let needs = request.access
        if principal.isAnonymous, needs.ownerOnly, let permission = needs.permission {
            throw Denial(message: "Access Denied", reason: "anonymous callers may not perform bucket-owner operations",
                         action: permission.action, resource: permission.resource)
        }
        for permission in [needs.permission, needs.source] {
            guard let permission else { continue }
            try access.authorize(principal, action: permission.action, resource: permission.resource,
                                 bucket: permission.bucket, service: .s3) {
                keys(principal, connection: connection(), extra: request.conditionKeys)
            }
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

/// Refused requests in the audit log, bounded in rows and in bytes: each second at most
/// `signedPerSecond` refusals of signed requests and `anonymousPerSecond` of anonymous ones are
/// written, and at most `signedBytesPerSecond` and `anonymousBytesPerSecond` bytes of each (every
/// audit row is a durable write, and an anonymous caller chooses keys, paths and headers: its
/// flood cannot use up the signed requests' share); the first entry after a busy second says how
/// many were left out. Every field is bounded by `AuditRecord` itself.
final class RefusalAudit: Sendable {
    let store: Store
    let now: @Sendable () -> Int64
    let anonymousPerSecond: Int
    let signedPerSecond: Int
    let anonymousBytesPerSecond: Int
    let signedBytesPerSecond: Int
    private struct Window {
        var second: Int64 = 0
        var signed = 0, anonymous = 0, signedBytes = 0, anonymousBytes = 0, skipped = 0
    }
    private let window = Mutex(Window())

    init(store: Store, now: @escaping @Sendable () -> Int64, anonymousPerSecond: Int = 10, signedPerSecond: Int = 100,
         anonymousBytesPerSecond: Int = 16 * 1024, signedBytesPerSecond: Int = 64 * 1024) {
        self.store = store
        self.now = now
        self.anonymousPerSecond = anonymousPerSecond
        self.signedPerSecond = signedPerSecond
        self.anonymousBytesPerSecond = anonymousBytesPerSecond
        self.signedBytesPerSecond = signedBytesPerSecond
    }

    func record(_ denial: Denial, event: String, principal: Principal, connection: ConnectionInfo) async {
        let time = now()
        var entry = AuditRecord(time: time, event: event, outcome: .denied, principal: principal.arn, serial: nil,
                                source: connection.source, requestID: connection.requestID,
                                detail: "\(denial.action) on \(denial.resource): \(denial.reason)")
        let size = entry.size + 64  // the note on skipped refusals, and the row's own overhead
        let skipped: Int? = window.withLock { window in
            if window.second != time / 1000 { window = Window(second: time / 1000, skipped: window.skipped) }
            let admitted: Bool
            if principal.isAnonymous {
                window.anonymous += 1
                admitted = window.anonymous <= anonymousPerSecond && window.anonymousBytes + size <= anonymousBytesPerSecond
                if admitted { window.anonymousBytes += size }
            } else {
                window.signed += 1
                admitted = window.signed <= signedPerSecond && window.signedBytes + size <= signedBytesPerSecond
                if admitted { window.signedBytes += size }
            }
            guard admitted else {
                window.skipped += 1
                return nil
            }
            defer { window.skipped = 0 }
            return window.skipped
        }
        guard let skipped else { return }
        if skipped > 0 {
            // Made again, so that the note is inside the bound too.
            entry = AuditRecord(time: time, event: event, outcome: .denied, principal: principal.arn, serial: nil,
                                source: connection.source, requestID: connection.requestID,
                                detail: "(\(skipped) earlier refusals not logged: rate limit) " + (entry.detail ?? ""))
        }
        // An audit row that cannot be written must not turn a refusal into a 500.
        let row = entry
        _ = try? await store.write { try $0.appendAudit(row) }
    }
}
