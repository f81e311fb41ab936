/// Every S3 operation Coffer serves. The server parses a request into one of these; the gate
/// below says, in one exhaustive table, which ones MFA Delete protects.
public enum S3Operation: String, Sendable, CaseIterable {
    case listBuckets = "ListBuckets"
    case createBucket = "CreateBucket"
    case deleteBucket = "DeleteBucket"
    case headBucket = "HeadBucket"
    case getBucketLocation = "GetBucketLocation"
    case getBucketVersioning = "GetBucketVersioning"
    case putBucketVersioning = "PutBucketVersioning"
    case getBucketAcl = "GetBucketAcl"
    case listObjects = "ListObjects"
    case listObjectsV2 = "ListObjectsV2"
    case listObjectVersions = "ListObjectVersions"
    case deleteObjects = "DeleteObjects"
    case putObject = "PutObject"
    case copyObject = "CopyObject"
    case createMultipartUpload = "CreateMultipartUpload"
    case uploadPart = "UploadPart"
    case uploadPartCopy = "UploadPartCopy"
    case completeMultipartUpload = "CompleteMultipartUpload"
    case abortMultipartUpload = "AbortMultipartUpload"
    case listParts = "ListParts"
    case listMultipartUploads = "ListMultipartUploads"
    case getObject = "GetObject"
    case headObject = "HeadObject"
    case deleteObject = "DeleteObject"
    case getObjectAcl = "GetObjectAcl"
    case getBucketPolicy = "GetBucketPolicy"
    case putBucketPolicy = "PutBucketPolicy"
    case deleteBucketPolicy = "DeleteBucketPolicy"
    case getBucketPolicyStatus = "GetBucketPolicyStatus"
}

/// When an operation needs `x-amz-mfa` on a bucket with MFA Delete enabled (spec §1.2).
public enum MFARule: Sendable, Equatable {
    /// Never: reads, listings, writes, simple deletes.
    case never
    /// When the request changes MfaDelete, or changes Status while MfaDelete is enabled.
    case whenVersioningChangeIsProtected
    /// When the request names a versionId (a permanent delete).
    case whenVersionIDGiven
    /// When any entry names a VersionId — all or nothing, checked before anything is deleted.
    case whenAnyEntryNamesVersionID
}

extension S3Operation {
    /// The one table of protected operations.
    public var mfaRule: MFARule {
        switch self {
        case .putBucketVersioning: .whenVersioningChangeIsProtected
        case .deleteObject: .whenVersionIDGiven
        case .deleteObjects: .whenAnyEntryNamesVersionID
        case .listBuckets, .createBucket, .deleteBucket, .headBucket, .getBucketLocation, .getBucketVersioning,
             .getBucketAcl, .listObjects, .listObjectsV2, .listObjectVersions, .putObject, .copyObject, .getObject,
             .headObject, .getObjectAcl, .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload,
             .abortMultipartUpload, .listParts, .listMultipartUploads, .getBucketPolicy, .putBucketPolicy,
             .deleteBucketPolicy, .getBucketPolicyStatus:
            .never
        }
    }
}

/// What the MFA Delete rule of an operation looks at in a request, read inside its transaction.
public struct MFAFacts: Sendable {
    /// The bucket has MfaDelete enabled.
    public var bucketHasMFADelete: Bool
    /// A PutBucketVersioning whose transition the state machine says is protected.
    public var versioningChangeIsProtected = false
    /// The request (or, for DeleteObjects, any entry) names a version id.
    public var namesVersionID = false
    /// The request carries `x-amz-mfa` (DeleteObjects then checks it whatever its entries).
    public var carriesMFAHeader = false

    public init(bucketHasMFADelete: Bool, versioningChangeIsProtected: Bool = false, namesVersionID: Bool = false,
                carriesMFAHeader: Bool = false) {
        self.bucketHasMFADelete = bucketHasMFADelete
        self.versioningChangeIsProtected = versioningChangeIsProtected
        self.namesVersionID = namesVersionID
        self.carriesMFAHeader = carriesMFAHeader
    }
}

extension MFARule {
    /// Whether a request with these facts needs a valid `x-amz-mfa`: the one place that decides
    /// (the engine asks it for the operation at hand, inside the operation's transaction).
    public func requiresCode(_ facts: MFAFacts) -> Bool {
        switch self {
        case .never: false
        case .whenVersioningChangeIsProtected: facts.versioningChangeIsProtected
        case .whenVersionIDGiven: facts.bucketHasMFADelete && facts.namesVersionID
        case .whenAnyEntryNamesVersionID: facts.bucketHasMFADelete && (facts.namesVersionID || facts.carriesMFAHeader)
        }
    }
}
