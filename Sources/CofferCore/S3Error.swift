/// Every S3 error Coffer sends, in one table: code → HTTP status and default message.
/// The switch is exhaustive, so a new code cannot be added without its status and text.
public enum S3ErrorCode: String, Sendable, CaseIterable {
    case accessDenied = "AccessDenied"
    case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
    case authorizationQueryParametersError = "AuthorizationQueryParametersError"
    case badDigest = "BadDigest"
    case bucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
    case bucketNotEmpty = "BucketNotEmpty"
    case entityTooLarge = "EntityTooLarge"
    case entityTooSmall = "EntityTooSmall"
    case expiredToken = "ExpiredToken"
    case illegalVersioningConfiguration = "IllegalVersioningConfigurationException"
    case incompleteBody = "IncompleteBody"
    case internalError = "InternalError"
    case invalidAccessKeyId = "InvalidAccessKeyId"
    case invalidArgument = "InvalidArgument"
    case invalidBucketName = "InvalidBucketName"
    case invalidDigest = "InvalidDigest"
    case invalidPart = "InvalidPart"
    case invalidPartOrder = "InvalidPartOrder"
    case invalidRange = "InvalidRange"
    case invalidRequest = "InvalidRequest"
    case invalidToken = "InvalidToken"
    case keyTooLong = "KeyTooLongError"
    case malformedXML = "MalformedXML"
    case metadataTooLarge = "MetadataTooLarge"
    case methodNotAllowed = "MethodNotAllowed"
    case missingContentLength = "MissingContentLength"
    case missingSecurityHeader = "MissingSecurityHeader"
    case noSuchBucket = "NoSuchBucket"
    case noSuchKey = "NoSuchKey"
    case noSuchUpload = "NoSuchUpload"
    case noSuchVersion = "NoSuchVersion"
    case notImplemented = "NotImplemented"
    case notModified = "NotModified"
    case preconditionFailed = "PreconditionFailed"
    case requestTimeTooSkewed = "RequestTimeTooSkewed"
    case serviceUnavailable = "ServiceUnavailable"
    case signatureDoesNotMatch = "SignatureDoesNotMatch"
    case slowDown = "SlowDown"
    case tooManyBuckets = "TooManyBuckets"
    case xAmzContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
    case insufficientStorage = "InsufficientStorage"
    case invalidPartNumber = "InvalidPartNumber"
    case conditionalRequestConflict = "ConditionalRequestConflict"
    case malformedPolicy = "MalformedPolicy"
    case noSuchBucketPolicy = "NoSuchBucketPolicy"

    /// AWS's message for the code (the error-code table in the S3 model), used when no better one is given.
    public var defaultMessage: String {
        switch self {
        case .accessDenied: "Access Denied"
        case .authorizationHeaderMalformed: "The authorization header you provided is invalid."
        case .authorizationQueryParametersError: "Error parsing the X-Amz-Credential parameter."
        case .badDigest: "The Content-MD5 you specified did not match what we received."
        case .bucketAlreadyOwnedByYou:
            "Your previous request to create the named bucket succeeded and you already own it."
        case .bucketNotEmpty: "The bucket you tried to delete is not empty"
        case .entityTooLarge: "Your proposed upload exceeds the maximum allowed object size."
        case .entityTooSmall: "Your proposed upload is smaller than the minimum allowed object size."
        case .expiredToken: "The provided token has expired."
        case .illegalVersioningConfiguration: "The Versioning element must be specified"
        case .incompleteBody: "You did not provide the number of bytes specified by the Content-Length HTTP header."
        case .internalError: "We encountered an internal error. Please try again."
        case .invalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records."
        case .invalidArgument: "Invalid Argument"
        case .invalidBucketName: "The specified bucket is not valid."
        case .invalidDigest: "The Content-MD5 you specified is not valid."
        case .invalidPart:
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
        case .invalidPartOrder: "The list of parts was not in ascending order. Parts must be ordered by part number."
        case .invalidRange: "The requested range is not satisfiable"
        case .invalidRequest: "Invalid Request"
        case .invalidToken: "The provided token is malformed or otherwise invalid."
        case .keyTooLong: "Your key is too long"
        case .malformedXML:
            "The XML you provided was not well-formed or did not validate against our published schema"
        case .metadataTooLarge: "Your metadata headers exceed the maximum allowed metadata size."
        case .methodNotAllowed: "The specified method is not allowed against this resource."
        case .missingContentLength: "You must provide the Content-Length HTTP header."
        case .missingSecurityHeader: "Your request is missing a required header."
        case .noSuchBucket: "The specified bucket does not exist"
        case .noSuchKey: "The specified key does not exist."
        case .noSuchUpload:
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        case .noSuchVersion: "The specified version does not exist."
        case .notImplemented: "A header or query you provided requested a function that is not implemented."
        case .notModified: "Not Modified"
        case .preconditionFailed: "At least one of the preconditions you specified did not hold."
        case .requestTimeTooSkewed: "The difference between the request time and the current time is too large."
        case .serviceUnavailable: "Service is unable to handle request."
        case .signatureDoesNotMatch:
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        case .slowDown: "Please reduce your request rate."
        case .tooManyBuckets: "You have attempted to create more buckets than allowed."
        case .xAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed."
        case .insufficientStorage: "There is not enough space left on the server to store this object."
        case .malformedPolicy: "Policies must be valid JSON and the first byte must be '{'"
        case .noSuchBucketPolicy: "The bucket policy does not exist"
        case .invalidPartNumber: "The requested partnumber is not satisfiable"
        case .conditionalRequestConflict:
            "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload "
                + "you should initiate another CreateMultipartUpload request and re-upload each part."
        }
    }
}

/// A delete marker an error is about (no HTTP here: the server turns it into headers).
public struct DeleteMarkerFacts: Sendable, Equatable {
    /// The marker's version id, when the answer names it.
    public var versionID: String?
    /// Set when the marker was named by version id (the answer is then 405 with `Allow: DELETE`).
    public var lastModified: Int64?

    public init(versionID: String?, lastModified: Int64? = nil) {
        self.versionID = versionID
        self.lastModified = lastModified
    }
}

/// An S3 error with the extra elements AWS puts in the XML body (§2.1 of the spec) and any
/// headers that go with it.
public struct S3Error: Error, Sendable, Equatable {
    public var code: S3ErrorCode
    public var message: String
    /// Extra `<Name>value</Name>` elements of the body, in order.
    public var details: [(String, String)]
    /// Extra response headers (set by the server; the engine reports facts such as `deleteMarker`).
    public var headers: [(String, String)]
    /// The delete marker the error is about, for the server to answer with
    /// `x-amz-delete-marker`, `x-amz-version-id` and, for one named by version id, `Last-Modified`
    /// and `Allow: DELETE`.
    public var deleteMarker: DeleteMarkerFacts?

    public init(_ code: S3ErrorCode, _ message: String? = nil, details: [(String, String)] = [],
                headers: [(String, String)] = [], deleteMarker: DeleteMarkerFacts? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.details = details
        self.headers = headers
        self.deleteMarker = deleteMarker
    }

    public static func == (lhs: S3Error, rhs: S3Error) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.deleteMarker == rhs.deleteMarker
            && lhs.details.elementsEqual(rhs.details, by: ==) && lhs.headers.elementsEqual(rhs.headers, by: ==)
    }

    // Common shapes, so handlers say what happened, not how it is spelled.
    public static func noSuchBucket(_ name: String) -> S3Error {
        S3Error(.noSuchBucket, details: [("BucketName", name)])
    }

    public static func noSuchKey(_ key: String) -> S3Error {
        S3Error(.noSuchKey, details: [("Key", key)])
    }

    public static func noSuchVersion(key: String, versionID: String) -> S3Error {
        S3Error(.noSuchVersion, details: [("Key", key), ("VersionId", versionID)])
    }

    public static func invalidArgument(_ message: String, name: String, value: String? = nil) -> S3Error {
        var details = [("ArgumentName", name)]
        if let value { details.append(("ArgumentValue", value)) }
        return S3Error(.invalidArgument, message, details: details)
    }

    public static let invalidVersionID = S3Error.invalidArgument("Invalid version id specified", name: "versionId")
    public static let malformedXML = S3Error(.malformedXML)
}
