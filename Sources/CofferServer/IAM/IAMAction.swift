import CofferCore
import CofferIAM

/// Every IAM and STS action Coffer serves: parsed once from `Action=`, dispatched by an exhaustive
/// switch, and mapped — by another exhaustive switch — to the resource its authorization names.
enum IAMAction: String, Sendable, CaseIterable {
    // STS
    case getCallerIdentity = "GetCallerIdentity"
    case getSessionToken = "GetSessionToken"
    // Users and keys
    case createUser = "CreateUser"
    case getUser = "GetUser"
    case listUsers = "ListUsers"
    case deleteUser = "DeleteUser"
    case createAccessKey = "CreateAccessKey"
    case listAccessKeys = "ListAccessKeys"
    case updateAccessKey = "UpdateAccessKey"
    case deleteAccessKey = "DeleteAccessKey"
    case getAccessKeyLastUsed = "GetAccessKeyLastUsed"
    // MFA devices
    case createVirtualMFADevice = "CreateVirtualMFADevice"
    case enableMFADevice = "EnableMFADevice"
    case resyncMFADevice = "ResyncMFADevice"
    case deactivateMFADevice = "DeactivateMFADevice"
    case deleteVirtualMFADevice = "DeleteVirtualMFADevice"
    case listMFADevices = "ListMFADevices"
    case listVirtualMFADevices = "ListVirtualMFADevices"
    case tagMFADevice = "TagMFADevice"
    case untagMFADevice = "UntagMFADevice"
    case listMFADeviceTags = "ListMFADeviceTags"
    // Account
    case getAccountSummary = "GetAccountSummary"
    case generateCredentialReport = "GenerateCredentialReport"
    case getCredentialReport = "GetCredentialReport"
    // Inline policies
    case putUserPolicy = "PutUserPolicy"
    case getUserPolicy = "GetUserPolicy"
    case deleteUserPolicy = "DeleteUserPolicy"
    case listUserPolicies = "ListUserPolicies"
    case putGroupPolicy = "PutGroupPolicy"
    case getGroupPolicy = "GetGroupPolicy"
    case deleteGroupPolicy = "DeleteGroupPolicy"
    case listGroupPolicies = "ListGroupPolicies"
    // Managed policies
    case createPolicy = "CreatePolicy"
    case getPolicy = "GetPolicy"
    case getPolicyVersion = "GetPolicyVersion"
    case createPolicyVersion = "CreatePolicyVersion"
    case deletePolicyVersion = "DeletePolicyVersion"
    case listPolicyVersions = "ListPolicyVersions"
    case setDefaultPolicyVersion = "SetDefaultPolicyVersion"
    case deletePolicy = "DeletePolicy"
    case listPolicies = "ListPolicies"
    case attachUserPolicy = "AttachUserPolicy"
    case detachUserPolicy = "DetachUserPolicy"
    case listAttachedUserPolicies = "ListAttachedUserPolicies"
    case attachGroupPolicy = "AttachGroupPolicy"
    case detachGroupPolicy = "DetachGroupPolicy"
    case listAttachedGroupPolicies = "ListAttachedGroupPolicies"
    // Groups
    case createGroup = "CreateGroup"
    case getGroup = "GetGroup"
    case listGroups = "ListGroups"
    case deleteGroup = "DeleteGroup"
    case addUserToGroup = "AddUserToGroup"
    case removeUserFromGroup = "RemoveUserFromGroup"
    case listGroupsForUser = "ListGroupsForUser"
    // Console passwords
    case createLoginProfile = "CreateLoginProfile"
    case getLoginProfile = "GetLoginProfile"
    case updateLoginProfile = "UpdateLoginProfile"
    case deleteLoginProfile = "DeleteLoginProfile"
    case changePassword = "ChangePassword"
    case getAccountPasswordPolicy = "GetAccountPasswordPolicy"
    case updateAccountPasswordPolicy = "UpdateAccountPasswordPolicy"
    case deleteAccountPasswordPolicy = "DeleteAccountPasswordPolicy"
    // The policy simulator
    case simulatePrincipalPolicy = "SimulatePrincipalPolicy"
    case simulateCustomPolicy = "SimulateCustomPolicy"

    var isSTS: Bool { self == .getCallerIdentity || self == .getSessionToken }

    /// The IAM action a policy names (`iam:CreateUser`, `sts:GetSessionToken`).
    var policyAction: String { (isSTS ? "sts:" : "iam:") + rawValue }

    /// Never subject to policies, not even an explicit Deny (AWS).
    var isPolicyExempt: Bool { isSTS }

    /// Actions that carry an MFA code or answer with a secret (seed and QR code, secret key,
    /// session credentials): they follow the transport rule (`TransportPolicy`).
    var carriesSecret: Bool {
        switch self {
        case .getSessionToken, .createVirtualMFADevice, .createAccessKey, .enableMFADevice, .resyncMFADevice,
             .createLoginProfile, .updateLoginProfile, .changePassword:
            true
        default: false
        }
    }

    /// The resource ARN the request acts on, as AWS's Service Authorization Reference gives it.
    func resource(_ call: QueryCall, registry: Registry) async throws -> String {
        let account = registry.accountID
        func user(_ parameter: String? = "UserName") async throws -> String {
            let name = parameter.flatMap { call.form[$0] } ?? call.caller.userName
            if name == Registry.rootUser {
                // Never an IAM user's to act on, whatever a policy says (AWS).
                guard call.caller.isRoot else {
                    throw IAMError(.noSuchEntity, "The user with name \(name) cannot be found.")
                }
                return registry.rootArn
            }
            let path = try await registry.devices.user(named: name)?.path ?? "/"
            return "arn:aws:iam::\(account):user\(path)\(name)"
        }
        func group() async throws -> String {
            let name = call.form["GroupName"] ?? ""
            let path = try await registry.policies.group(named: name)?.path ?? call.form["Path"] ?? "/"
            return "arn:aws:iam::\(account):group\(path)\(name)"
        }
        func device() -> String {
            let serial = call.form["SerialNumber"] ?? ""
            return serial.hasPrefix("arn:") ? serial : "arn:aws:iam::\(account):mfa/\(serial)"
        }
        switch self {
        case .getCallerIdentity, .getSessionToken, .listUsers, .listVirtualMFADevices, .getAccountSummary,
             .generateCredentialReport, .getCredentialReport, .listPolicies, .listGroups, .simulateCustomPolicy,
             .getAccountPasswordPolicy, .updateAccountPasswordPolicy, .deleteAccountPasswordPolicy:
            return "*"
        case .changePassword:
            return try await user(nil)
        case .createUser:
            return "arn:aws:iam::\(account):user\(call.form["Path"] ?? "/")\(call.form["UserName"] ?? "")"
        case .getUser, .deleteUser, .createAccessKey, .listAccessKeys, .updateAccessKey, .deleteAccessKey, .enableMFADevice,
             .resyncMFADevice, .deactivateMFADevice, .listMFADevices, .putUserPolicy, .getUserPolicy, .deleteUserPolicy,
             .listUserPolicies, .attachUserPolicy, .detachUserPolicy, .listAttachedUserPolicies, .listGroupsForUser,
             .createLoginProfile, .getLoginProfile, .updateLoginProfile, .deleteLoginProfile:
            return try await user()
        case .getAccessKeyLastUsed:
            // The user the key belongs to (the request names only the key).
            guard let owner = try await registry.users.accessKeyOwner(call.form["AccessKeyId"] ?? "") else { return "*" }
            let path = try await registry.devices.user(named: owner)?.path ?? "/"
            return "arn:aws:iam::\(account):user\(path)\(owner)"
        case .createVirtualMFADevice:
            return "arn:aws:iam::\(account):mfa\(call.form["Path"] ?? "/")\(call.form["VirtualMFADeviceName"] ?? "")"
        case .deleteVirtualMFADevice, .tagMFADevice, .untagMFADevice, .listMFADeviceTags:
            return device()
        case .putGroupPolicy, .getGroupPolicy, .deleteGroupPolicy, .listGroupPolicies, .attachGroupPolicy, .detachGroupPolicy,
             .listAttachedGroupPolicies, .createGroup, .getGroup, .deleteGroup, .addUserToGroup, .removeUserFromGroup:
            return try await group()
        case .createPolicy:
            return registry.policies.policyArn(name: call.form["PolicyName"] ?? "", path: call.form["Path"] ?? "/")
        case .getPolicy, .getPolicyVersion, .createPolicyVersion, .deletePolicyVersion, .listPolicyVersions,
             .setDefaultPolicyVersion, .deletePolicy:
            return call.form["PolicyArn"] ?? ""
        case .simulatePrincipalPolicy:
            return call.form["PolicySourceArn"] ?? ""
        }
    }
}
