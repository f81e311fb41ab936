import CofferCore
import HTTPTypes

/// An object key: compared and hashed as its UTF-8 bytes. S3 keys are byte strings; Swift's
/// `String` compares by canonical equivalence (an NFC "é" equals an NFD one), and two keys that
/// only look alike are two objects.
struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: ObjectKey, b: ObjectKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    func hash(into hasher: inout Swift.Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
    }

    var description: String { text }
}

/// An object, or one version of it.
struct ObjectRef: Sendable {
    var bucket: String
    var key: ObjectKey
    /// `?versionId=`: the `…Version` IAM actions and, for a delete, a permanent one.
    var versionID: String?
}

/// A pending multipart upload of an object.
struct UploadRef: Sendable {
    var bucket: String
    var key: ObjectKey
    var uploadID: String
}

/// `x-amz-copy-source: [/]bucket/key[?versionId=V]`, decoded.
struct CopySource: Sendable {
    var bucket: String
    var key: ObjectKey
    var versionID: String?
}

/// GET/HEAD of an object: which part, and the `response-*` header overrides (first of a repeated
/// parameter wins).
struct ReadOptions: Sendable {
    var partNumber: Int?
    var overrides: [(name: HTTPField.Name, value: String)]
}

/// ListObjects (v1 and v2) parameters.
struct ObjectListing: Sendable {
    var list: S3Responder.ListParameters
    /// v1 `marker`, or v2 `start-after` / the key a `continuation-token` stands for.
    var marker: String?
    /// v2: the token as sent (echoed back).
    var continuationToken: String?
    var startAfter: String?
    var fetchOwner: Bool
}

struct VersionListing: Sendable {
    var list: S3Responder.ListParameters
    var keyMarker: String?
    var versionIDMarker: String?
}

struct UploadsListing: Sendable {
    var list: S3Responder.ListParameters
    var keyMarker: String
    var uploadIDMarker: String
    var maxUploads: Int
}

struct PartsListing: Sendable {
    var upload: UploadRef
    var marker: Int
    var maxParts: Int
}

/// Every S3 request, parsed once into typed values: handlers read these, never the query string.
/// The switches over it — `operation`, the authorization table (`S3Request.access`), the
/// dispatcher — are exhaustive: a new request does not compile until each of them says what it
/// does with it.
enum S3Request: Sendable {
    case listBuckets
    case createBucket(String)
    case deleteBucket(String)
    case headBucket(String)
    case getBucketLocation(String)
    case getBucketVersioning(String)
    case putBucketVersioning(String)
    case getBucketAcl(String)
    case getBucketPolicy(String)
    case putBucketPolicy(String)
    case deleteBucketPolicy(String)
    case getBucketPolicyStatus(String)
    case listObjects(String, ObjectListing)
    case listObjectsV2(String, ObjectListing)
    case listObjectVersions(String, VersionListing)
    case listMultipartUploads(String, UploadsListing)
    case deleteObjects(String)
    case putObject(ObjectRef)
    case copyObject(ObjectRef, from: CopySource)
    case createMultipartUpload(ObjectRef)
    case uploadPart(UploadRef, part: Int)
    case uploadPartCopy(UploadRef, part: Int, from: CopySource)
    case completeMultipartUpload(UploadRef)
    case abortMultipartUpload(UploadRef)
    case listParts(PartsListing)
    case getObject(ObjectRef, ReadOptions)
    case headObject(ObjectRef, ReadOptions)
    case deleteObject(ObjectRef)
    case getObjectAcl(ObjectRef)

    static let maxKeyLength = 1024

    var operation: S3Operation {
        switch self {
        case .listBuckets: .listBuckets
        case .createBucket: .createBucket
        case .deleteBucket: .deleteBucket
        case .headBucket: .headBucket
        case .getBucketLocation: .getBucketLocation
        case .getBucketVersioning: .getBucketVersioning
        case .putBucketVersioning: .putBucketVersioning
        case .getBucketAcl: .getBucketAcl
        case .getBucketPolicy: .getBucketPolicy
        case .putBucketPolicy: .putBucketPolicy
        case .deleteBucketPolicy: .deleteBucketPolicy
        case .getBucketPolicyStatus: .getBucketPolicyStatus
        case .listObjects: .listObjects
        case .listObjectsV2: .listObjectsV2
        case .listObjectVersions: .listObjectVersions
        case .listMultipartUploads: .listMultipartUploads
        case .deleteObjects: .deleteObjects
        case .putObject: .putObject
        case .copyObject: .copyObject
        case .createMultipartUpload: .createMultipartUpload
        case .uploadPart: .uploadPart
        case .uploadPartCopy: .uploadPartCopy
        case .completeMultipartUpload: .completeMultipartUpload
        case .abortMultipartUpload: .abortMultipartUpload
        case .listParts: .listParts
        case .getObject: .getObject
        case .headObject: .headObject
        case .deleteObject: .deleteObject
        case .getObjectAcl: .getObjectAcl
        }
    }
}
