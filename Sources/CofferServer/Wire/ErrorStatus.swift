import CofferStore
import CofferCore
import CofferIAM
import HTTPTypes

/// An error that knows its HTTP answer's status: S3's, IAM's and the console's alike (the model
/// is Hummingbird's `HTTPResponseError`). HTTP statuses live here, in the server, and nowhere below.
protocol HTTPStatusError: Error {
    var httpStatus: HTTPResponse.Status { get }
}

/// Another process held the data folder's write lock too long: retry (the console's pages too).
extension StoreBusy: HTTPStatusError {
    var httpStatus: HTTPResponse.Status { .serviceUnavailable }
}

extension S3Error: HTTPStatusError {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: code.status) }
}

extension IAMError: HTTPStatusError {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: code.status) }
}

extension S3ErrorCode {
    /// The HTTP status AWS answers with.
    var status: Int {
        switch self {
        case .notModified: 304
        case .authorizationHeaderMalformed, .authorizationQueryParametersError, .badDigest, .entityTooLarge,
             .entityTooSmall, .expiredToken, .illegalVersioningConfiguration, .incompleteBody, .invalidArgument,
             .invalidBucketName, .invalidDigest, .invalidPart, .invalidPartOrder, .invalidRequest, .invalidToken,
             .keyTooLong, .malformedXML, .malformedPolicy, .metadataTooLarge, .missingSecurityHeader, .tooManyBuckets,
             .xAmzContentSHA256Mismatch:
            400
        case .accessDenied, .invalidAccessKeyId, .requestTimeTooSkewed, .signatureDoesNotMatch: 403
        case .noSuchBucket, .noSuchKey, .noSuchUpload, .noSuchVersion, .noSuchBucketPolicy: 404
        case .methodNotAllowed: 405
        case .bucketAlreadyOwnedByYou, .bucketNotEmpty, .conditionalRequestConflict: 409
        case .missingContentLength: 411
        case .preconditionFailed: 412
        case .invalidRange, .invalidPartNumber: 416
        case .internalError: 500
        case .notImplemented: 501
        case .serviceUnavailable, .slowDown: 503
        case .insufficientStorage: 507
        }
    }
}

extension IAMError.Code {
    /// The HTTP status AWS answers with.
    var status: Int {
        switch self {
        case .accessDenied, .invalidAuthenticationCode: 403
        case .deleteConflict, .entityAlreadyExists, .limitExceeded: 409
        case .noSuchEntity: 404
        case .invalidInput, .validationError, .invalidAction, .missingParameter, .malformedPolicyDocument,
             .unmodifiableEntity, .passwordPolicyViolation, .invalidUserType: 400
        case .reportNotPresent: 410
        case .serviceFailure, .policyEvaluation: 500
        case .serviceUnavailable: 503
        }
    }
}
