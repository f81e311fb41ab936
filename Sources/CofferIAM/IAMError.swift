/// IAM and STS errors with their AWS codes and statuses (botocore's iam/sts models). One table.
public struct IAMError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case accessDenied = "AccessDenied"
        case deleteConflict = "DeleteConflict"
        case entityAlreadyExists = "EntityAlreadyExists"
        case invalidAuthenticationCode = "InvalidAuthenticationCode"
        case invalidInput = "InvalidInput"
        case limitExceeded = "LimitExceeded"
        case noSuchEntity = "NoSuchEntity"
        case validationError = "ValidationError"
        case reportNotPresent = "ReportNotPresent"
        case invalidAction = "InvalidAction"
        case missingParameter = "MissingParameter"
        case serviceFailure = "ServiceFailure"
        /// Busy: the write could not get the database's lock in time; nothing was done (retryable, 503).
        case serviceUnavailable = "ServiceUnavailable"
        case malformedPolicyDocument = "MalformedPolicyDocument"
        case unmodifiableEntity = "UnmodifiableEntity"
        case policyEvaluation = "PolicyEvaluation"
        case passwordPolicyViolation = "PasswordPolicyViolation"
        case invalidUserType = "InvalidUserType"

        /// `Sender` unless the service is at fault.
        public var type: String { self == .serviceFailure || self == .serviceUnavailable ? "Receiver" : "Sender" }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func validation(_ parameter: String, _ rule: String) -> IAMError {
        IAMError(.validationError, "1 validation error detected: Value at '\(parameter)' failed to satisfy constraint: \(rule)")
    }
}
