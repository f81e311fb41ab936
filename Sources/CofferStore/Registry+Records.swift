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
    /// `virtual`, `hardware`, `u2f` or `sms`.
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
    /// Every field is bounded here, whoever makes the entry (much of it comes from requests):
    /// an audit row is at most about 3.5 KB.
    public init(id: Int64 = 0, time: Int64, event: String, outcome: AuditOutcome, principal: String, serial: String? = nil,
                source: String? = nil, requestID: String? = nil, detail: String? = nil) {
        self.id = id
        self.time = time
        self.event = Self.bounded(event, Self.limits.event)
        self.outcome = outcome
        self.principal = Self.bounded(principal, Self.limits.principal)
        self.serial = serial.map { Self.bounded($0, Self.limits.serial) }
        self.source = source.map { Self.bounded($0, Self.limits.source) }
        self.requestID = requestID.map { Self.bounded($0, Self.limits.requestID) }
        self.detail = detail.map { Self.bounded($0, Self.limits.detail) }
    }

    /// The most UTF-8 bytes each field keeps (an ARN is at most 2,048 characters on AWS).
    public static let limits = (event: 128, principal: 2048, serial: 256, source: 128, requestID: 64, detail: 1024)

    /// The entry's size in bytes, as stored (for budgets of audit growth).
    public var size: Int {
        24 + event.utf8.count + principal.utf8.count + (serial?.utf8.count ?? 0) + (source?.utf8.count ?? 0)
            + (requestID?.utf8.count ?? 0) + (detail?.utf8.count ?? 0)
    }

    /// `text` cut to at most `limit` UTF-8 bytes on a character boundary, marked with "..." when cut.
    static func bounded(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var kept = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            guard used + size <= limit - 3 else { break }
            kept.append(character)
            used += size
        }
        return kept + "..."
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
    /// A phone number that receives one-time codes by SMS (sealed where a seed would be):
    /// IAM users' console sign-in only, never `x-amz-mfa`, GetSessionToken or MFA Delete.
    case sms

    /// Virtual and hardware TOTP devices: the only ones whose codes a person types in at any
    /// time (sign-in, x-amz-mfa, MFA Delete, GetSessionToken, resync).
    public var isTOTP: Bool { self == .virtual || self == .hardware }
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
