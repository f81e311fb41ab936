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

    /// Parses the parameters of the operation `endpoint` routed to: the one place that reads the
    /// query string (and the copy-source header) for S3.
    init(_ endpoint: Endpoint, target: RequestTarget, headers: HTTPFields) throws {
        let bucket = endpoint.bucket
        // Keys are at most 1,024 bytes (checked before the authorization point matches them).
        if endpoint.key.utf8.count > S3Request.maxKeyLength {
            throw S3Error(.keyTooLong, details: [("Size", String(endpoint.key.utf8.count)), ("MaxSizeAllowed", "1024")])
        }
        func object() -> ObjectRef {
            ObjectRef(bucket: bucket, key: ObjectKey(endpoint.key), versionID: target["versionId"])
        }
        func upload() throws -> UploadRef {
            guard let uploadID = target["uploadId"], !uploadID.isEmpty else {
                throw S3Error(.noSuchUpload, details: [("UploadId", "")])
            }
            return UploadRef(bucket: bucket, key: ObjectKey(endpoint.key), uploadID: uploadID)
        }
        func part() throws -> Int {
            guard let number = target["partNumber"].flatMap(Int.init) else {
                throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                              name: "partNumber")
            }
            return number
        }
        func copySource() throws -> CopySource {
            let (bucket, key, versionID) = try S3Responder.parseCopySource(headers[S3Responder.copySource] ?? "")
            return CopySource(bucket: bucket, key: ObjectKey(key), versionID: versionID)
        }
        func readOptions() throws -> ReadOptions {
            var options = ReadOptions(partNumber: nil, overrides: [])
            if let text = target["partNumber"] {
                guard let number = Int(text), (1...10_000).contains(number) else {
                    throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                                  name: "partNumber", value: text)
                }
                options.partNumber = number
            }
            for (parameter, value) in target.query where parameter.hasPrefix("response-") {
                if let name = S3Responder.overrides[parameter], !options.overrides.contains(where: { $0.name == name }) {
                    options.overrides.append((name, value))
                }
            }
            return options
        }
        /// A bounded count parameter (`max-parts`, `max-uploads`): 0–1,000, 1,000 when absent.
        func count(_ name: String) -> Int { min(max(target[name].flatMap(Int.init) ?? 1000, 0), 1000) }

        switch endpoint.operation {
        case .listBuckets: self = .listBuckets
        case .createBucket: self = .createBucket(bucket)
        case .deleteBucket: self = .deleteBucket(bucket)
        case .headBucket: self = .headBucket(bucket)
        case .getBucketLocation: self = .getBucketLocation(bucket)
        case .getBucketVersioning: self = .getBucketVersioning(bucket)
        case .putBucketVersioning: self = .putBucketVersioning(bucket)
        case .getBucketAcl: self = .getBucketAcl(bucket)
        case .getBucketPolicy: self = .getBucketPolicy(bucket)
        case .putBucketPolicy: self = .putBucketPolicy(bucket)
        case .deleteBucketPolicy: self = .deleteBucketPolicy(bucket)
        case .getBucketPolicyStatus: self = .getBucketPolicyStatus(bucket)
        case .listObjects:
            self = .listObjects(bucket, ObjectListing(list: try .init(target), marker: target["marker"],
                                                      continuationToken: nil, startAfter: nil, fetchOwner: true))
        case .listObjectsV2:
            var listing = ObjectListing(list: try .init(target), marker: target["start-after"], continuationToken: nil,
                                        startAfter: target["start-after"], fetchOwner: target["fetch-owner"] == "true")
            if let token = target["continuation-token"], !token.isEmpty {  // empty: the first page
                guard let key = S3Responder.decodeToken(token) else {
                    throw S3Error.invalidArgument("The continuation token provided is incorrect", name: "continuation-token")
                }
                listing.continuationToken = token
                listing.marker = key
            }
            self = .listObjectsV2(bucket, listing)
        case .listObjectVersions:
            let keyMarker = target["key-marker"]
            let versionMarker = target["version-id-marker"]
            if let versionMarker, !versionMarker.isEmpty, keyMarker?.isEmpty ?? true {
                throw S3Error.invalidArgument("A version-id marker cannot be specified without a key marker.",
                                              name: "version-id-marker", value: versionMarker)
            }
            self = .listObjectVersions(bucket, VersionListing(list: try .init(target), keyMarker: keyMarker,
                                                              versionIDMarker: versionMarker))
        case .listMultipartUploads:
            self = .listMultipartUploads(bucket, UploadsListing(list: try .init(target), keyMarker: target["key-marker"] ?? "",
                                                                uploadIDMarker: target["upload-id-marker"] ?? "",
                                                                maxUploads: count("max-uploads")))
        case .deleteObjects: self = .deleteObjects(bucket)
        case .putObject: self = .putObject(object())
        case .copyObject: self = .copyObject(object(), from: try copySource())
        case .createMultipartUpload: self = .createMultipartUpload(object())
        case .uploadPart: self = .uploadPart(try upload(), part: try part())
        case .uploadPartCopy: self = .uploadPartCopy(try upload(), part: try part(), from: try copySource())
        case .completeMultipartUpload: self = .completeMultipartUpload(try upload())
        case .abortMultipartUpload: self = .abortMultipartUpload(try upload())
        case .listParts:
            self = .listParts(PartsListing(upload: try upload(), marker: target["part-number-marker"].flatMap(Int.init) ?? 0,
                                           maxParts: count("max-parts")))
        case .getObject: self = .getObject(object(), try readOptions())
        case .headObject: self = .headObject(object(), try readOptions())
        case .deleteObject: self = .deleteObject(object())
        case .getObjectAcl: self = .getObjectAcl(object())
        }
    }
}
