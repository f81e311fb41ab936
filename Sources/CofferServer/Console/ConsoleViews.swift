import Foundation
import HTTPTypes
import Hummingbird

/// A page's values, typed: the fields its template reads, checked by the compiler where the page
/// is built. `ConsoleResponder.page(_:call:)` hands them to Mustache.
protocol ConsoleView {
    static var template: ConsoleTemplate { get }
}

/// Values a shared partial reads (`step-up`): a view's property of this kind is spread into the
/// view's own values, where the partial looks for them.
protocol ConsoleViewPart {}

extension ConsoleResponder {
    /// A view's stored properties as template values: nested structs become dictionaries, arrays
    /// are converted element by element, and nil is absent (a section over it renders nothing).
    static func values(of view: Any) -> [String: Any] {
        var values: [String: Any] = [:]
        for child in Mirror(reflecting: view).children {
            if child.value is ConsoleViewPart {
                values.merge(Self.values(of: child.value)) { $1 }
                continue
            }
            guard let label = child.label, let value = templateValue(child.value) else { continue }
            values[label] = value
        }
        return values
    }

    private static func templateValue(_ value: Any) -> Any? {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag
        case let number as Int: return number
        case let list as [String]: return list
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.flatMap { templateValue($0.value) }
        case .collection:
            return mirror.children.compactMap { templateValue($0.value) }
        case .struct:
            return values(of: value)
        default:
            return value
        }
    }
}

// MARK: Views

/// The audit page.
struct AuditView: ConsoleView {
    static let template = ConsoleTemplate.audit
    struct Outcome { var value: String; var words: String; var selected: Bool }
    struct Entry {
        var time: String
        var event: String
        var api: String
        var outcome: String
        var outcomeWords: String
        var principal: String
        var principalArn: String
        var serialJoints: [String]
        var source: String
        var detail: String
    }
    var title = "Audit"
    var user: String
    var outcomes: [Outcome]
    var entries: [Entry]
    var older: String?
}

/// The user groups list.
struct GroupsView: ConsoleView {
    static let template = ConsoleTemplate.groups
    struct Row { var name: String; var created: String }
    var title = "User groups"
    var newName: String
    var mayCreate: Bool
    var groups: [Row]
    var more: String?
    var error: String?
}

/// The policies list.
struct PoliciesView: ConsoleView {
    static let template = ConsoleTemplate.policies
    struct Row { var name: String; var arnQuery: String; var type: String; var attached: String; var updated: String }
    var title = "Policies"
    var policies: [Row]
    var mayCreate: Bool
}

/// Emptying a bucket.
struct EmptyBucketView: ConsoleView {
    static let template = ConsoleTemplate.emptyBucket
    var title: String
    var bucket: String
    var count: String
    var more: Bool
    var isEmpty: Bool
    var mfaDeleteOn: Bool
    var askCode: Bool
    var rootOnly: Bool
    var rootDevices: [DeviceOption]
    var has_rootDevices: Bool
    var keysOnly: Bool
    var confirmWord: String
    var batch: String
    var codesNeeded: String
    var confirmed: Bool
    var notice: String?
    var error: String?
}

/// One user group.
struct GroupView: ConsoleView {
    static let template = ConsoleTemplate.group
    struct Policy { var name: String; var arn: String; var group: String }
    var title: String
    var name: String
    var arnJoints: [String]
    var created: String
    var members: [String]
    var hasMembers: Bool
    var others: [String]
    var hasOthers: Bool
    var mayEdit: Bool
    var attached: [Policy]
    var policies: [NamedArn]
    var mayAttach: Bool
    var mayDetach: Bool
    var mayDelete: Bool
    var error: String?
}

/// A policy's name and ARN (a select's options).
struct NamedArn { var name: String; var arn: String }

/// A confirmation of a destructive step (`ConsoleResponder.Confirmation`).
struct ConfirmView: ConsoleView {
    static let template = ConsoleTemplate.confirm
    struct Field { var name: String; var value: String }
    var title: String
    var heading: String
    var text: String
    var action: String
    var fields: [Field]
    var button: String
    var buttonClass: String
    var back: String
    var warnings: [String]
    var word: String?
    var askCode: Bool
    var stepUp: StepUp
    var error: String?
}

/// The policy editor, with the simulator beside it.
struct PolicyEditorView: ConsoleView {
    static let template = ConsoleTemplate.policyEditor
    struct Template { var id: String; var title: String }
    struct Mode { var value: String; var words: String; var selected: Bool }
    struct Simulation { var decision: String; var allowed: Bool; var matched: [String]; var hasMatched: Bool; var `for`: String }
    var title: String
    var templates: [Template]
    var mfaModes: [Mode]
    var action: String
    var resource: String
    var mfaAge: String
    var isNew = false
    var name = ""
    var arn = ""
    var arnQuery = ""
    var description = ""
    var policy = ""
    var version = ""
    var attached = ""
    var isAWS = false
    var mayEdit = false
    var mayDelete = false
    var simulation: Simulation?
    var error: String?
}

/// The users list, with the create-user form.
struct UsersView: ConsoleView {
    static let template = ConsoleTemplate.users
    struct Row { var name: String; var created: String; var password: String; var mfa: String; var keys: String }
    var title = "Users"
    var users: [Row]
    var accountID: String
    var passwordRules: String
    var newName: String
    var newReset: Bool
    var mayCreate: Bool
    var more: String?
    var error: String?
}

/// An object's page.
struct ObjectView: ConsoleView {
    static let template = ConsoleTemplate.object
    struct Meta { var name: String; var value: String }
    struct Version {
        var versionID: String
        var versionQuery: String
        var latest: Bool
        var marker: Bool
        var size: String
        var modified: String
        var current: Bool
    }
    struct Choice { var minutes: Int; var words: String }
    struct Link { var url: String; var until: String; var accessKey: String }
    var title: String
    var bucket: String
    var key: String
    var keyQuery: String
    var versionID: String
    var versionQuery: String
    var size: String
    var bytes: String
    var etag: String
    var modified: String
    var contentType: String
    var metadata: [Meta]
    var hasMetadata: Bool
    var versions: [Version]
    var hasVersions: Bool
    var uri: String
    var readable: Bool
    var folder: String
    var presignChoices: [Choice]
    var mayPresign: Bool
    var image = false
    var text: String?
    var textCut = false
    var link: Link?
    var error: String?
}

/// A root TOTP device, for the MFA fields (`mfa-fields`, `step-up`).
struct DeviceOption { var serial: String }

/// The buckets list, with the create-bucket form.
struct BucketsView: ConsoleView {
    static let template = ConsoleTemplate.buckets
    struct Row {
        var name: String
        var versioning: String
        var mfaDelete: String
        var region: String
        var created: String
        var `public`: Bool
    }
    var title = "Buckets"
    var buckets: [Row]
    var mayCreate: Bool
    var isRoot: Bool
    var rootDevices: [DeviceOption]
    var has_rootDevices: Bool
    var formID = "create"
    var keysOnly: Bool
    var newName: String
    var newVersioning: Bool
    var newMFADelete: Bool
    var error: String?
}

/// The home page.
struct HomeView: ConsoleView {
    static let template = ConsoleTemplate.home
    var title = "Home"
    var accountID: String
    var arnJoints: [String]
    var mfa: Bool
    var isRoot: Bool
    var rootMFA = false
    var needsMFA = false
    var showUsers = false
    var withoutMFA: [String] = []
    var has_withoutMFA = false
    var hasUsers = false
}

/// My security credentials.
struct SecurityView: ConsoleView {
    static let template = ConsoleTemplate.security
    struct Device { var serial: String; var serialJoints: [String]; var enabled: String; var csrf: String; var kind: String; var totp: Bool }
    struct Key { var accessKey: String; var status: String; var toggle: String; var created: String }
    struct RootKey { var accessKey: String }
    struct NewKey { var accessKey: String; var secret: String }
    var title = "My security credentials"
    var devices: [Device]
    var has_devices: Bool
    var rootKey: RootKey?
    var isRoot: Bool
    var keys: [Key] = []
    var has_keys = false
    var newKey: NewKey?
    var mayCreateKey: Bool
    var mayAssign: Bool
    var error: String?
}

/// One IAM user.
struct UserView: ConsoleView {
    static let template = ConsoleTemplate.user
    struct Device { var serial: String; var serialJoints: [String]; var enabled: String; var index: Int; var sms: String? = nil }
    struct Policy { var name: String; var arn: String; var user: String }
    struct Key { var accessKey: String; var status: String; var toggle: String; var created: String; var lastUsed: String }
    var title: String
    var name: String
    var arnJoints: [String]
    var created: String
    var devices: [Device]
    var has_devices: Bool
    var attached: [Policy]
    var policies: [NamedArn]
    var password: String
    var mayDeactivate: Bool
    /// An SMS device may be assigned to this user by this caller (and SMS is available here).
    var mayAssignSMS = false
    var mayDetach: Bool
    var mayAttach: Bool
    var maySetPassword: Bool
    var mayDelete: Bool
    var showKeys = false
    var keys: [Key] = []
    var has_keys = false
    var mayCreateKey = false
    var mayUpdateKey = false
    var mayDeleteKey = false
    var newKey: SecurityView.NewKey?
    var error: String?
}

/// A bucket's page: versioning, its policy, emptying and deleting it.
struct BucketView: ConsoleView {
    static let template = ConsoleTemplate.bucket
    var title: String
    var bucket: String
    var policy: String
    var hasPolicy: Bool
    var versioning: String
    var mfaDelete: String
    var enabled: Bool
    var suspended: Bool
    var unversioned: Bool
    var mfaOn: Bool
    var rootDevices: [DeviceOption]
    var has_rootDevices: Bool
    var formID = "versioning"
    var mayVersioning: Bool
    var mayPolicy: Bool
    var mayDeletePolicy: Bool
    var `public`: Bool
    var warnPublic: Bool
    var mayEmpty: Bool
    var mayDeleteBucket: Bool
    var mfaOnNow: Bool
    var keysOnly: Bool
    var error: String?
}

/// A folder's objects, or its versions and delete markers.
struct ObjectsView: ConsoleView {
    static let template = ConsoleTemplate.objects
    struct Row {
        var name: String
        var keyQuery: String
        var modified: String
        var value: String
        var checked = false
        var versionID: String?
        var versionQuery: String?
        var type: String?
        var latest = false
        var marker = false
        var size: String?
    }
    struct Folder { var name: String; var query: String; var bucket: String }
    struct Crumb { var name: String; var prefix: String }
    var hiddenByMarkers: Bool
    var title: String
    var bucket: String
    var prefix: String
    var prefixQuery: String
    var versions: Bool
    var rows: [Row]
    var folders: [Folder]
    var crumbs: [Crumb]
    var rootDevices: [DeviceOption]
    var has_rootDevices: Bool
    var versioning: String
    var mfaDelete: String
    var askCode: Bool
    var formID = "delete"
    var hasRows: Bool
    var keysOnly: Bool
    var confirmWord: String
    var rootOnly: Bool
    var mayUpload: Bool
    var mayDelete: Bool
    var find: String
    var range: String?
    var next: String?
    var previous: String?
    var firstPage: String?
    var error: String?
}

/// The step-up fields of a change to the root's own devices (`step-up`): a code of a device it
/// has, or — with security keys only — its password.
struct StepUp: ConsoleViewPart {
    var confirm = false
    var rootDevices: [DeviceOption] = []
    var has_rootDevices = false
    var formID = "confirm"
    var confirmPassword = false
}

/// A message for the person at the browser (errors, refusals).
struct MessageView: ConsoleView {
    static let template = ConsoleTemplate.message
    var title: String
    var heading: String
    var text: String
    var link: String? = "/home"
    var linkText: String? = "Back to the console"

    init(heading: String, text: String) {
        title = heading
        self.heading = heading
        self.text = text
    }
}

struct SignInView: ConsoleView {
    static let template = ConsoleTemplate.signin
    var title = "Sign in"
    var account: String
    var user: String
    var iam: Bool
    var csrf: String
    var error: String?
    var notice: String?
}

struct CodeView: ConsoleView {
    static let template = ConsoleTemplate.mfa
    struct Device { var serial: String; var name: String; var selected = false; var sms = false }
    /// An SMS device: a button that texts a code to it.
    struct Phone { var serial: String; var masked: String; var sent: Bool }
    var title = "MFA code"
    /// Every device a code can be typed for (TOTP and SMS).
    var devices: [Device]
    var several: Bool
    var hasTOTP: Bool
    var hasKeys: Bool
    var sms: [Phone] = []
    var hasSMS = false
    var hasCodes = false
    var error: String?
    var notice: String?
}

struct PasswordView: ConsoleView {
    static let template = ConsoleTemplate.password
    var title = "Change password"
    var forced: Bool
    var rules: String
    var error: String?
}

struct SignOutView: ConsoleView {
    static let template = ConsoleTemplate.signout
    var title = "Sign out"
}

/// Assign MFA device, first step: the device's name and kind.
struct MFANameView: ConsoleView {
    static let template = ConsoleTemplate.mfaName
    var title = "Assign MFA device"
    var name: String
    var keysNeedName: String?
    /// Why SMS cannot be chosen here (the root, an account that forbids it, no delivery); nil if it can.
    var smsUnavailable: String?
    /// The number typed last time (kept when it was refused) and whether SMS was the choice.
    var phone = ""
    var smsChosen = false
    var error: String?
}

/// Assign MFA device: the code sent to the phone, typed back.
struct SMSWizardView: ConsoleView {
    static let template = ConsoleTemplate.smsWizard
    var title = "Assign MFA device"
    var serial: String
    var user: String
    var masked: String
    var forOther: Bool
    var error: String?
    var notice: String?
}

/// Assign MFA device: the QR code (while it may be shown) and the two codes.
struct MFAWizardView: ConsoleView {
    static let template = ConsoleTemplate.mfaWizard
    var title = "Assign MFA device"
    var serial: String
    var qr: String?
    var qrSize: Int?
    var seed: String?
    var stepUp: StepUp
    var error: String?
}

/// Assign MFA device: a security key.
struct KeyWizardView: ConsoleView {
    static let template = ConsoleTemplate.keyWizard
    var title = "Assign MFA device"
    var name: String
    var stepUp: StepUp
}
