import HTTPTypes

/// Every console request, parsed once from its method and path (names in the path are
/// percent-decoded; object keys travel in the query). The dispatcher switches over it exhaustively.
enum ConsoleRoute: Sendable, Equatable {
    case start
    case signInPage, signIn, codePage, code, passwordPage, password, signOutPage, signOut, signInKeyOptions, signInKey
    case keyOptions, keyRegister
    case home
    case security, mfaNamePage, mfaCreate, mfaEnable, mfaCancel, mfaResync, mfaRemove
    case keyCreate, keyStatus, keyDelete
    case users, userCreate, user(String), userDeactivateMFA(String), userAttach(String), userDetach(String)
    case userPassword(String), userDelete(String), userKeyCreate(String), userKeyStatus(String), userKeyDelete(String)
    case buckets, bucketCreate, bucket(String), bucketVersioning(String), bucketPolicy(String), bucketPolicyDelete(String)
    case objects(String), download(String), deleteObjects(String)
    case upload(String), uploadCreate(String), uploadPart(String), uploadComplete(String), uploadAbort(String)
    case folderCreate(String), bucketEmptyPage(String), bucketEmpty(String), bucketDelete(String)
    case object(String), preview(String), presign(String)
    case groups, groupCreate, group(String), groupMembers(String), groupAttach(String), groupDetach(String), groupDelete(String)
    case policies, policyNew, policyView, policySubmit, policyDelete
    case audit
    case stylesheet, script, favicon

    init?(method: HTTPRequest.Method, path: String) {
        guard let route = Self.parse(method: method, path: path) else { return nil }
        self = route
    }

    private static func parse(method: HTTPRequest.Method, path: String) -> ConsoleRoute? {
        guard path.utf8.count <= 2048 else { return nil }
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = Percent.decode(raw), !decoded.isEmpty, !decoded.contains("/") else { return nil }
            segments.append(decoded)
        }
        let get = method == .get || method == .head
        let post = method == .post
        switch (segments.count, segments.first ?? "") {
        case (0, _) where get: return .start
        case (1, "signin"): return get ? .signInPage : post ? .signIn : nil
        case (2, "signin") where segments[1] == "mfa": return get ? .codePage : post ? .code : nil
        case (2, "signin") where segments[1] == "webauthn" && post: return .signInKey
        case (3, "signin") where segments[1] == "webauthn" && segments[2] == "options" && post: return .signInKeyOptions
        case (3, "security") where segments[1] == "webauthn" && post:
            switch segments[2] {
            case "options": return .keyOptions
            case "register": return .keyRegister
            default: return nil
            }
        case (1, "password"): return get ? .passwordPage : post ? .password : nil
        case (1, "signout"): return get ? .signOutPage : post ? .signOut : nil
        case (1, "favicon.ico") where get: return .favicon
        case (1, "home") where get: return .home
        case (1, "security") where get: return .security
        case (3, "security") where segments[1] == "mfa":
            switch (segments[2], get) {
            case ("new", true): return .mfaNamePage
            case ("new", false) where post: return .mfaCreate
            case ("enable", false) where post: return .mfaEnable
            case ("cancel", false) where post: return .mfaCancel
            case ("resync", false) where post: return .mfaResync
            case ("remove", false) where post: return .mfaRemove
            default: return nil
            }
        case (3, "security") where segments[1] == "keys" && post:
            switch segments[2] {
            case "create": return .keyCreate
            case "status": return .keyStatus
            case "delete": return .keyDelete
            default: return nil
            }
        case (1, "policies") where get: return .policies
        case (2, "policies"):
            switch (segments[1], get) {
            case ("new", true): return .policyNew
            case ("view", true): return .policyView
            case ("editor", false) where post: return .policySubmit
            case ("delete", false) where post: return .policyDelete
            default: return nil
            }
        case (1, "groups"): return get ? .groups : post ? .groupCreate : nil
        case (2, "groups") where get: return .group(segments[1])
        case (3, "groups") where post:
            switch segments[2] {
            case "members": return .groupMembers(segments[1])
            case "attach": return .groupAttach(segments[1])
            case "detach": return .groupDetach(segments[1])
            case "delete": return .groupDelete(segments[1])
            default: return nil
            }
        case (1, "users"): return get ? .users : post ? .userCreate : nil
        case (2, "users") where get: return .user(segments[1])
        case (3, "users") where post:
            switch segments[2] {
            case "deactivate-mfa": return .userDeactivateMFA(segments[1])
            case "attach": return .userAttach(segments[1])
            case "detach": return .userDetach(segments[1])
            case "password": return .userPassword(segments[1])
            case "delete": return .userDelete(segments[1])
            default: return nil
            }
        case (4, "users") where post && segments[2] == "keys":
            switch segments[3] {
            case "create": return .userKeyCreate(segments[1])
            case "status": return .userKeyStatus(segments[1])
            case "delete": return .userKeyDelete(segments[1])
            default: return nil
            }
        case (1, "buckets"): return get ? .buckets : post ? .bucketCreate : nil
        case (2, "buckets") where get: return .bucket(segments[1])
        case (3, "buckets"):
            let bucket = segments[1]
            switch (segments[2], method) {
            case ("objects", _) where get: return .objects(bucket)
            case ("download", _) where get: return .download(bucket)
            case ("versioning", .post): return .bucketVersioning(bucket)
            case ("policy", .post): return .bucketPolicy(bucket)
            case ("delete", .post): return .deleteObjects(bucket)
            case ("upload", .put): return .upload(bucket)
            case ("uploads", .post): return .uploadCreate(bucket)
            case ("folders", .post): return .folderCreate(bucket)
            case ("empty", _) where get: return .bucketEmptyPage(bucket)
            case ("object", _) where get: return .object(bucket)
            case ("preview", _) where get: return .preview(bucket)
            case ("presign", .post): return .presign(bucket)
            case ("empty", .post): return .bucketEmpty(bucket)
            case ("remove", .post): return .bucketDelete(bucket)
            default: return nil
            }
        case (4, "buckets"):
            let bucket = segments[1]
            switch (segments[2], segments[3], method) {
            case ("policy", "delete", .post): return .bucketPolicyDelete(bucket)
            case ("uploads", "part", .put): return .uploadPart(bucket)
            case ("uploads", "complete", .post): return .uploadComplete(bucket)
            case ("uploads", "abort", .post): return .uploadAbort(bucket)
            default: return nil
            }
        case (1, "audit") where get: return .audit
        case (2, "static") where get && segments[1] == "console.css": return .stylesheet
        case (2, "static") where get && segments[1] == "console.js": return .script
        default: return nil
        }
    }

    /// Pages anyone may load (the sign-in steps decide for themselves what they need).
    var isPublic: Bool {
        switch self {
        case .start, .signInPage, .signIn, .codePage, .code, .passwordPage, .password, .signOutPage, .signOut, .stylesheet,
             .script, .favicon, .signInKeyOptions, .signInKey:
            true
        default: false
        }
    }

    /// Requests that change something: each needs the CSRF token and a same-origin Origin.
    var changesState: Bool {
        switch self {
        case .signIn, .code, .password, .signOut, .signInKeyOptions, .signInKey, .keyOptions, .keyRegister, .mfaCreate, .mfaEnable, .mfaCancel, .mfaResync, .mfaRemove, .keyCreate,
             .keyStatus, .keyDelete, .userCreate, .userDeactivateMFA, .userAttach, .userDetach, .userPassword, .userDelete,
             .userKeyCreate, .userKeyStatus, .userKeyDelete, .bucketCreate, .bucketVersioning, .bucketPolicy, .bucketPolicyDelete, .deleteObjects, .upload,
             .uploadCreate, .uploadPart, .uploadComplete, .uploadAbort, .folderCreate, .bucketEmpty, .bucketDelete, .presign,
             .groupCreate, .groupMembers, .groupAttach, .groupDetach, .groupDelete, .policySubmit, .policyDelete:
            true
        case .start, .signInPage, .codePage, .passwordPage, .signOutPage, .home, .security, .mfaNamePage, .users, .user,
             .buckets, .bucket, .objects, .download, .audit, .stylesheet, .script, .favicon, .bucketEmptyPage, .object, .preview, .groups, .group,
             .policies, .policyNew, .policyView:
            false
        }
    }

    /// The menu entry a page belongs to (marked as the current page), if any.
    var menu: String? {
        switch self {
        case .home: "home"
        case .buckets, .bucketCreate, .bucket, .bucketVersioning, .bucketPolicy, .bucketPolicyDelete, .objects, .download,
             .deleteObjects, .upload, .uploadCreate, .uploadPart, .uploadComplete, .uploadAbort, .folderCreate,
             .bucketEmptyPage, .bucketEmpty, .bucketDelete, .object, .preview, .presign:
            "buckets"
        case .users, .userCreate, .user, .userDeactivateMFA, .userAttach, .userDetach, .userPassword, .userDelete,
             .userKeyCreate, .userKeyStatus, .userKeyDelete:
            "users"
        case .security, .mfaNamePage, .mfaCreate, .mfaEnable, .mfaCancel, .mfaResync, .mfaRemove, .keyCreate, .keyStatus,
             .keyDelete, .keyOptions, .keyRegister, .passwordPage, .password:
            "security"
        case .groups, .groupCreate, .group, .groupMembers, .groupAttach, .groupDetach, .groupDelete: "groups"
        case .policies, .policyNew, .policyView, .policySubmit, .policyDelete: "policies"
        case .audit: "audit"
        case .start, .signInPage, .signIn, .codePage, .code, .signOutPage, .signOut, .signInKeyOptions, .signInKey,
             .stylesheet, .script, .favicon:
            nil
        }
    }

    /// The audit log's name for a state-changing console action.
    var name: String {
        switch self {
        case .start: "Start"
        case .signInPage, .signIn: "SignIn"
        case .codePage, .code: "SignInCode"
        case .signInKeyOptions, .signInKey: "SignInSecurityKey"
        case .keyOptions, .keyRegister: "RegisterSecurityKey"
        case .passwordPage, .password: "ChangePassword"
        case .signOutPage, .signOut: "SignOut"
        case .home: "Home"
        case .security: "SecurityCredentials"
        case .mfaNamePage, .mfaCreate: "CreateVirtualMFADevice"
        case .mfaEnable: "EnableMFADevice"
        case .mfaCancel: "DeleteVirtualMFADevice"
        case .mfaResync: "ResyncMFADevice"
        case .mfaRemove, .userDeactivateMFA: "DeactivateMFADevice"
        case .keyCreate, .userKeyCreate: "CreateAccessKey"
        case .keyStatus, .userKeyStatus: "UpdateAccessKey"
        case .keyDelete, .userKeyDelete: "DeleteAccessKey"
        case .users: "ListUsers"
        case .userCreate: "CreateUser"
        case .user: "GetUser"
        case .userAttach: "AttachUserPolicy"
        case .userDetach: "DetachUserPolicy"
        case .userPassword: "UpdateLoginProfile"
        case .userDelete: "DeleteUser"
        case .buckets: "ListBuckets"
        case .bucketCreate: "CreateBucket"
        case .bucket: "GetBucket"
        case .bucketVersioning: "PutBucketVersioning"
        case .bucketPolicy: "PutBucketPolicy"
        case .bucketPolicyDelete: "DeleteBucketPolicy"
        case .objects: "ListObjectVersions"
        case .download: "GetObject"
        case .deleteObjects: "DeleteObjects"
        case .upload: "PutObject"
        case .uploadCreate: "CreateMultipartUpload"
        case .uploadPart: "UploadPart"
        case .uploadComplete: "CompleteMultipartUpload"
        case .uploadAbort: "AbortMultipartUpload"
        case .folderCreate: "CreateFolder"
        case .bucketEmptyPage, .bucketEmpty: "EmptyBucket"
        case .bucketDelete: "DeleteBucket"
        case .object: "HeadObject"
        case .preview: "GetObject"
        case .presign: "PresignGetObject"
        case .groups: "ListGroups"
        case .groupCreate: "CreateGroup"
        case .group: "GetGroup"
        case .groupMembers: "UpdateGroupMembers"
        case .groupAttach: "AttachGroupPolicy"
        case .groupDetach: "DetachGroupPolicy"
        case .groupDelete: "DeleteGroup"
        case .policies: "ListPolicies"
        case .policyNew, .policyView: "GetPolicy"
        case .policySubmit: "SavePolicy"
        case .policyDelete: "DeletePolicy"
        case .audit: "Audit"
        case .stylesheet, .script, .favicon: "Static"
        }
    }
}
