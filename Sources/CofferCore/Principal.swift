/// Who makes a request: the account root, an IAM user (with long-term keys or session
/// credentials), or nobody (an unsigned request). The one identity type: authentication makes it,
/// the authorization point, the registry, the engine and the audit log read it.
public struct Principal: Sendable, Equatable {
    public static let rootName = "root"

    /// `root` for the account root, "" for an anonymous request.
    public var userName: String
    public var isSession: Bool
    /// A console sign-in (a session of its own kind): carries the MFA keys of its sign-in code,
    /// may call IAM without MFA (as AWS's console does), and — for the root — may present a code
    /// for MFA Delete (the API refuses `x-amz-mfa` only with STS session credentials).
    public var isConsole: Bool
    /// Session credentials obtained with an MFA code (GetSessionToken with TokenCode).
    public var mfaAuthenticated: Bool
    /// When that code was checked (Unix ms): `aws:MultiFactorAuthAge`.
    public var mfaAuthenticatedAt: Int64?
    public var accessKey: String
    /// The user's IAM path (`/` for the root and by default), part of its ARN.
    public var path: String
    /// The IAM user id (`AIDA…`); the account id for the root.
    public var userID: String
    public var accountID: String

    public init(userName: String, isSession: Bool = false, isConsole: Bool = false, mfaAuthenticated: Bool = false,
                mfaAuthenticatedAt: Int64? = nil, accessKey: String = "", path: String = "/", userID: String = "",
                accountID: String = "") {
        self.userName = userName
        self.isSession = isSession || isConsole
        self.isConsole = isConsole
        self.mfaAuthenticated = mfaAuthenticated
        self.mfaAuthenticatedAt = mfaAuthenticatedAt
        self.accessKey = accessKey
        self.path = path
        self.userID = userID
        self.accountID = accountID
    }

    public static func anonymous(accountID: String) -> Principal { Principal(userName: "", accountID: accountID) }

    public var isRoot: Bool { userName == Self.rootName }
    public var isAnonymous: Bool { userName.isEmpty }

    /// `arn:aws:iam::ACCOUNT:root`, `arn:aws:iam::ACCOUNT:user/PATH/NAME`, or `anonymous`.
    public var arn: String {
        if isRoot { return "arn:aws:iam::\(accountID):root" }
        if isAnonymous { return "anonymous" }
        return "arn:aws:iam::\(accountID):user\(path)\(userName)"
    }
}
