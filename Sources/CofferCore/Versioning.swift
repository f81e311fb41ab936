/// A bucket's versioning status. There is no way back to `unversioned` once left.
public enum VersioningStatus: Int, Sendable, Equatable {
    case unversioned = 0
    case enabled = 1
    case suspended = 2

    /// The `<Status>` text, nil for a never-configured bucket.
    public var wireValue: String? {
        switch self {
        case .unversioned: nil
        case .enabled: "Enabled"
        case .suspended: "Suspended"
        }
    }
}

/// A bucket's MFA Delete setting. `notConfigured` is never sent back as `<MfaDelete>`.
public enum MFADeleteStatus: Int, Sendable, Equatable {
    case notConfigured = 0
    case enabled = 1
    case disabled = 2

    public var wireValue: String? {
        switch self {
        case .notConfigured: nil
        case .enabled: "Enabled"
        case .disabled: "Disabled"
        }
    }

    var isEnabled: Bool { self == .enabled }
}

/// A bucket's versioning configuration and the PutBucketVersioning state machine.
public struct VersioningConfiguration: Sendable, Equatable {
    public var status: VersioningStatus
    public var mfaDelete: MFADeleteStatus

    public init(status: VersioningStatus = .unversioned, mfaDelete: MFADeleteStatus = .notConfigured) {
        self.status = status
        self.mfaDelete = mfaDelete
    }

    /// What a PutBucketVersioning body asks for: Status is required; MfaDelete is optional.
    public struct Request: Sendable, Equatable {
        public enum Status: Sendable, Equatable { case enabled, suspended }
        public var status: Status
        public var mfaDelete: Bool?

        public init(status: Status, mfaDelete: Bool? = nil) {
            self.status = status
            self.mfaDelete = mfaDelete
        }
    }

    /// The outcome of applying a request: the new configuration and whether the change is one
    /// MFA Delete protects (and so needs a valid `x-amz-mfa` from the bucket owner's root).
    public struct Transition: Sendable, Equatable {
        public var configuration: VersioningConfiguration
        public var changesMFADelete: Bool
        public var changesStatusUnderMFA: Bool
        public var isProtected: Bool { changesMFADelete || changesStatusUnderMFA }
    }

    /// Applies a request (spec §1.8). Any combination of Status and MfaDelete is a valid target;
    /// re-sending the current MfaDelete value (a never-configured bucket counts as Disabled) is
    /// not a change, so `MfaDelete=Disabled` on a plain bucket needs no MFA.
    public func applying(_ request: Request) -> Transition {
        let newStatus: VersioningStatus = request.status == .enabled ? .enabled : .suspended
        var next = self
        next.status = newStatus
        var changesMFADelete = false
        if let wanted = request.mfaDelete {
            changesMFADelete = wanted != mfaDelete.isEnabled
            next.mfaDelete = wanted ? .enabled : .disabled
        }
        let changesStatus = mfaDelete.isEnabled && newStatus != status
        return Transition(configuration: next, changesMFADelete: changesMFADelete, changesStatusUnderMFA: changesStatus)
    }
}
