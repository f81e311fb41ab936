/// Rows of the IAM / MFA registry, as the store hands them over. Seeds and secrets stay sealed
/// (AES-GCM under the master key) until the MFA module opens them.
public struct UserRecord: Sendable, Equatable {
    public var name: String
    public var userID: String
    public var path: String
    public var created: Int64
    public init(name: String, userID: String, path: String, created: Int64) {
        self.name = name
        self.userID = userID
        self.path = path
        self.created = created
    }
}

public struct AccessKeyRecord: Sendable, Equatable {
    public var accessKey: String
    public var userName: String
    public var sealedSecret: [UInt8]
    public var status: AccessKeyStatus
    public var created: Int64
    public init(accessKey: String, userName: String, sealedSecret: [UInt8], status: AccessKeyStatus, created: Int64) {
        self.accessKey = accessKey
        self.userName = userName
        self.sealedSecret = sealedSecret
        self.status = status
        self.created = created
    }
}

public struct SessionRecord: Sendable, Equatable {
    public var accessKey: String
    public var sealedSecret: [UInt8]
    public var tokenHash: String
    public var userName: String
    public var mfaAuthenticated: Bool
    public var expires: Int64
    /// When the session was made (its MFA code checked), for `aws:MultiFactorAuthAge`; nil for
    /// sessions made before the column existed.
    public var authenticated: Int64?
    public init(accessKey: String, sealedSecret: [UInt8], tokenHash: String, userName: String, mfaAuthenticated: Bool,
                expires: Int64, authenticated: Int64? = nil) {
        self.authenticated = authenticated
        self.accessKey = accessKey
        self.sealedSecret = sealedSecret
        self.tokenHash = tokenHash
        self.userName = userName
        self.mfaAuthenticated = mfaAuthenticated
        self.expires = expires
    }
}

/// An MFA device and its verifier state.
public struct DeviceRecord: Sendable, Equatable {
    public var serial: String
    /// `virtual` or `hardware`.
    public var kind: DeviceKind
    public var name: String
    public var path: String
    public var sealedSeed: [UInt8]
    public var algorithm: String
    public var digits: Int
    public var period: Int64
    /// The user it is enabled for (`root` for the account root), nil while unassigned.
    public var userName: String?
    public var enabled: Int64?
    public var created: Int64
    /// Learned clock drift in steps (set by enable and resync only).
    public var drift: Int64
    /// The last accepted time step: codes at or before it are replays.
    public var lastStep: Int64?
    /// Throttle state.
    public var failures: Int
    public var windowStep: Int64
    public var windowFailures: Int
    public var backoffs: Int
    public var throttledUntil: Int64
    /// Who created it (CreateVirtualMFADevice's caller; nil for imported tokens and devices made
    /// before this was recorded): while unassigned, only they or the root may enable it.
    public var creator: String?

    public init(serial: String, kind: DeviceKind, name: String, path: String, sealedSeed: [UInt8], algorithm: String,
                digits: Int, period: Int64, userName: String? = nil, enabled: Int64? = nil, created: Int64,
                drift: Int64 = 0, lastStep: Int64? = nil, failures: Int = 0, windowStep: Int64 = 0,
                windowFailures: Int = 0, backoffs: Int = 0, throttledUntil: Int64 = 0, creator: String? = nil) {
        self.creator = creator
        self.serial = serial
        self.kind = kind
        self.name = name
        self.path = path
        self.sealedSeed = sealedSeed
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.userName = userName
        self.enabled = enabled
        self.created = created
        self.drift = drift
        self.lastStep = lastStep
        self.failures = failures
        self.windowStep = windowStep
        self.windowFailures = windowFailures
        self.backoffs = backoffs
        self.throttledUntil = throttledUntil
    }
}

/// One audit entry. Never holds a code, a seed or a secret.
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64
    public var time: Int64
    public var event: String
    public var outcome: AuditOutcome
    public var principal: String
    public var serial: String?
    public var source: String?
    public var requestID: String?
    public var detail: String?
    public init(id: Int64 = 0, time: Int64, event: String, outcome: AuditOutcome, principal: String, serial: String? = nil,
                source: String? = nil, requestID: String? = nil, detail: String? = nil) {
        self.id = id
        self.time = time
        self.event = event
        self.outcome = outcome
        self.principal = principal
        self.serial = serial
        self.source = source
        self.requestID = requestID
        self.detail = detail
    }
}

/// An IAM access key's status, spelled as IAM spells it (and as it is stored).
public enum AccessKeyStatus: String, Sendable {
    case active = "Active"
    case inactive = "Inactive"
}

/// A virtual (seed made by Coffer) or hardware (imported) MFA device; the raw values are stored.
public enum DeviceKind: String, Sendable {
    case virtual
    case hardware
    /// A FIDO2 security key or passkey (WebAuthn): console sign-in only, never a code.
    case securityKey = "u2f"
}

/// How an audited event ended. The raw values are what the audit log stores and `coffer admin
/// audit` prints (dashboards and scripts read them): never renamed.
public enum AuditOutcome: String, Sendable {
    /// A change was made.
    case done
    /// A code was checked and accepted.
    case passed
    /// A code was checked and refused.
    case failed
    /// A request was refused before any code was checked.
    case refused
    /// A request the access policies do not allow (the authorization point).
    case denied
}
