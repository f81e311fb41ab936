import CofferCore
import CofferIAM
import CofferStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// What the console knows of one of its routes, said once, where the route is added
/// (`ConsoleResponder.addRoutes`): its name in the audit log and metrics, its menu entry, who may
/// load it, and how it changes state.
struct ConsoleEndpoint: Sendable {
    enum Access: Sendable {
        /// The sign-in steps, which decide for themselves what they need.
        case open
        /// An active session (a half-done sign-in is sent back to its step).
        case signedIn
    }

    enum Change: Sendable {
        /// Reads nothing but the query (GET).
        case none
        /// A form POST: same-origin, the form parsed (64 KiB at most), its CSRF token checked.
        case form
        /// An upload: same-origin, the body streamed to the handler, the CSRF token in a header.
        case stream
    }

    enum Audit: Sendable {
        /// Recorded by the registry where it happens (sign-ins, MFA devices, passwords), or not an action.
        case elsewhere
        /// Done when answered with the redirect to the next page (a confirmation, a warning or a
        /// refusal shown again did nothing).
        case onRedirect
        /// Done when answered at all (a page with a new secret, the upload script's answers).
        case onSuccess
    }

    var name: String
    var menu: String?
    var access: Access = .signedIn
    var change: Change = .none
    var audit: Audit = .elsewhere
    /// The sign-in form: its CSRF token is the pre-session cookie's.
    var isSignIn = false

    static func read(_ name: String, _ menu: String?, access: Access = .signedIn) -> ConsoleEndpoint {
        ConsoleEndpoint(name: name, menu: menu, access: access)
    }

    static func action(_ name: String, _ menu: String?, access: Access = .signedIn, audit: Audit = .onRedirect,
                       change: Change = .form) -> ConsoleEndpoint {
        ConsoleEndpoint(name: name, menu: menu, access: access, change: change, audit: audit)
    }
}

/// A console request's context: Hummingbird's, the connection, and what the console's middleware
/// learned (the cookies, the session, the form).
struct ConsoleContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// The request id of this request (error pages and audit rows name it).
    let requestID = RequestID.make()
    var cookies: [String: String] = [:]
    var repeatedCookies: Set<String> = []
    var session: ConsoleSessionRecord?
    var principal: Principal?
    var token: String?
    var form: [String: String] = [:]
    var selected: [String] = []

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

extension ConsoleResponder {
    /// The console's router: the static assets; then, under the session middleware, the sign-in
    /// steps and the signed-in pages, each state change behind the origin and CSRF checks and —
    /// where it is the console's own to record — the audit. The front door (`ConsoleFront`)
    /// wraps everything, the 404 included.
    func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: ConsoleFront(console: self))
        addRoutes(to: router)
        return router
    }

    /// A route: the endpoint's middleware, then the handler with the request as a `Call`.
    struct Routes {
        let console: ConsoleResponder
        let open: RouterGroup<ConsoleContext>
        let signedIn: RouterGroup<ConsoleContext>

        func add(_ method: HTTPRequest.Method, _ path: String, _ endpoint: ConsoleEndpoint,
                 _ handler: @escaping @Sendable (ConsoleResponder, Call, [String]) async throws -> Response) {
            let group = (endpoint.access == .open ? open : signedIn).group()
            if endpoint.change != .none { group.add(middleware: ConsoleOriginAndCSRF(console: console, endpoint: endpoint)) }
            if endpoint.audit != .elsewhere { group.add(middleware: ConsoleAudit(console: console, endpoint: endpoint)) }
            let names = path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
            let console = self.console
            group.on(RouterPath(path), method: method) { request, context in
                // Names in the path arrive percent-encoded: decoded here, and none may hide a '/'.
                var values: [String] = []
                for name in names {
                    guard let raw = context.parameters.get(name), let value = Percent.decode(raw),
                          !value.isEmpty, !value.contains("/")
                    else { throw Problem(status: .notFound, message: "There is no such page in the console.") }
                    values.append(value)
                }
                return try await handler(console, Call(request: request, endpoint: endpoint, context: context, console: console),
                                         values)
            }
        }
    }
}

/// The front door, around every route and the 404: the Host check (DNS rebinding), error pages,
/// the security headers on every answer, and the request counted by route.
struct ConsoleFront: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: ConsoleResponder

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response {
        var response: Response
        do {
            guard request.uri.path.utf8.count <= 2048 else {
                throw ConsoleResponder.Problem(status: .notFound, message: "There is no such page in the console.")
            }
            if let problem = console.checkHost(request) { throw problem }
            response = try await next(request, context)
        } catch {
            response = console.errorPage(error)
        }
        ConsoleResponder.secure(&response.headers, isTLS: console.isTLS)
        let route = context.endpointPath.map { "Console:" + $0 } ?? "Console"
        console.s3.metrics.request(operation: route, status: Int(response.status.code))
        return response
    }
}

/// The session, for every route after the static assets: a request carrying a console cookie
/// twice (cookie tossing) is refused; a live session's record and principal go into the context.
struct ConsoleSession: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: ConsoleResponder

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response {
        var context = context
        let cookies = ConsoleResponder.cookieValues(request.headers[.cookie])
        context.cookies = cookies.values
        context.repeatedCookies = cookies.repeated
        let secure = console.connection(request, context).secureTransport
        if let refused = console.refuseTossedCookies(request: request, repeated: cookies.repeated, secure: secure) {
            return refused
        }
        let name = (secure ? "__Host-" : "") + ConsoleResponder.sessionCookie
        if let token = cookies.values[name],
           let (record, principal) = try await console.registry.console.consoleSession(token: token, allowing: [.code, .newPassword, .active]) {
            context.session = record
            context.principal = principal
            context.token = token
        }
        return try await next(request, context)
    }
}

/// The signed-in pages: without a session, the sign-in; with a half-done one, its next step.
struct ConsoleSignedIn: RouterMiddleware {
    typealias Context = ConsoleContext

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response {
        guard let session = context.session else { return ConsoleResponder.redirect("/signin") }
        switch session.stage {
        case .code: return ConsoleResponder.redirect("/signin/mfa")
        case .newPassword: return ConsoleResponder.redirect("/password")
        case .active: return try await next(request, context)
        }
    }
}

/// A state change: from the console's own pages (`Sec-Fetch-Site`, `Origin`), its form read,
/// its CSRF token checked — all before the handler runs.
struct ConsoleOriginAndCSRF: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: ConsoleResponder
    let endpoint: ConsoleEndpoint

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response {
        var context = context
        var request = request
        var call = ConsoleResponder.Call(request: request, endpoint: endpoint, context: context, console: console)
        try await console.checkOrigin(call)
        if endpoint.change == .form {
            (context.form, context.selected) = try await ConsoleResponder.form(request)
            (call.form, call.selected) = (context.form, context.selected)
            request = Request(head: request.head, body: RequestBody(buffer: ByteBuffer()))
        }
        try await console.checkCSRF(call)
        return try await next(request, context)
    }
}

/// The console's own audit rows: an action done, by whom, on what (never a password or a code).
struct ConsoleAudit: RouterMiddleware {
    typealias Context = ConsoleContext
    let console: ConsoleResponder
    let endpoint: ConsoleEndpoint

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response)
        async throws -> Response {
        let response = try await next(request, context)
        let done = endpoint.audit == .onSuccess ? response.status.code < 400 : response.status == .seeOther
        if done {
            await console.auditAction(ConsoleResponder.Call(request: request, endpoint: endpoint, context: context, console: console))
        }
        return response
    }
}

extension ConsoleResponder {
    /// Every console route, each described once: method, path, what it is (`ConsoleEndpoint`) and
    /// its handler.
    func addRoutes(to router: Router<ConsoleContext>) {
        // Static assets: before the session middleware (no cookie is read for them).
        router.get("static/console.css") { _, _ in Self.asset(self.assets.css, type: "text/css; charset=utf-8") }
        router.get("static/console.js") { _, _ in Self.asset(self.assets.script, type: "text/javascript; charset=utf-8") }
        router.get("favicon.ico") { _, _ in Self.favicon }

        router.add(middleware: ConsoleSession(console: self))
        let routes = Routes(console: self, open: router.group(), signedIn: router.group().add(middleware: ConsoleSignedIn()))
        typealias E = ConsoleEndpoint
        let home = "home", buckets = "buckets", users = "users", groups = "groups", policies = "policies",
            security = "security", audit = "audit"

        // The sign-in steps.
        routes.add(.get, "/", .read("Start", nil, access: .open)) { c, call, _ in c.start(call) }
        routes.add(.get, "signin", .read("SignIn", nil, access: .open)) { c, call, _ in c.signInPage(call) }
        var signIn = E.action("SignIn", nil, access: .open, audit: .elsewhere)
        signIn.isSignIn = true
        routes.add(.post, "signin", signIn) { c, call, _ in try await c.signIn(call) }
        routes.add(.get, "signin/mfa", .read("SignInCode", nil, access: .open)) { c, call, _ in try await c.codePage(call) }
        routes.add(.post, "signin/mfa", .action("SignInCode", nil, access: .open, audit: .elsewhere)) { c, call, _ in
            try await c.code(call)
        }
        routes.add(.post, "signin/mfa/sms", .action("SendSMSCode", nil, access: .open, audit: .elsewhere)) { c, call, _ in
            try await c.signInSendSMS(call)
        }
        routes.add(.post, "signin/webauthn/options", .action("SignInSecurityKey", nil, access: .open, audit: .elsewhere)) {
            c, call, _ in try await c.signInKeyOptions(call)
        }
        routes.add(.post, "signin/webauthn", .action("SignInSecurityKey", nil, access: .open, audit: .elsewhere)) { c, call, _ in
            await c.signInKey(call)
        }
        routes.add(.get, "password", .read("ChangePassword", security, access: .open)) { c, call, _ in try await c.passwordPage(call) }
        routes.add(.post, "password", .action("ChangePassword", security, access: .open, audit: .elsewhere)) { c, call, _ in
            try await c.changePassword(call)
        }
        routes.add(.get, "signout", .read("SignOut", nil, access: .open)) { c, call, _ in c.signOutPage(call) }
        routes.add(.post, "signout", .action("SignOut", nil, access: .open, audit: .elsewhere)) { c, call, _ in
            try await c.signOut(call)
        }

        // Home, my security credentials.
        routes.add(.get, "home", .read("Home", home)) { c, call, _ in try await c.home(call) }
        routes.add(.get, "security", .read("SecurityCredentials", security)) { c, call, _ in try await c.security(call) }
        routes.add(.get, "security/mfa/new", .read("CreateVirtualMFADevice", security)) { c, call, _ in c.mfaNamePage(call) }
        routes.add(.post, "security/mfa/new", .action("CreateVirtualMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.createDevice(call)
        }
        routes.add(.post, "security/mfa/enable", .action("EnableMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.enableDevice(call)
        }
        routes.add(.post, "security/mfa/cancel", .action("DeleteVirtualMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.cancelDevice(call)
        }
        routes.add(.post, "security/mfa/sms/enable", .action("EnableMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.smsEnable(call)
        }
        routes.add(.post, "security/mfa/sms/resend", .action("SendSMSCode", security, audit: .elsewhere)) { c, call, _ in
            try await c.smsResend(call)
        }
        routes.add(.post, "security/mfa/sms/cancel", .action("DeleteSMSMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.smsCancel(call)
        }
        routes.add(.post, "security/mfa/resync", .action("ResyncMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.resyncDevice(call)
        }
        routes.add(.post, "security/mfa/remove", .action("DeactivateMFADevice", security, audit: .elsewhere)) { c, call, _ in
            try await c.removeDevice(call)
        }
        routes.add(.post, "security/webauthn/options", .action("RegisterSecurityKey", security, audit: .elsewhere)) {
            c, call, _ in try await c.keyOptions(call)
        }
        routes.add(.post, "security/webauthn/register", .action("RegisterSecurityKey", security, audit: .elsewhere)) {
            c, call, _ in await c.keyRegister(call)
        }
        routes.add(.post, "security/keys/create", .action("CreateAccessKey", security, audit: .onSuccess)) { c, call, _ in
            try await c.createKey(call)
        }
        routes.add(.post, "security/keys/status", .action("UpdateAccessKey", security)) { c, call, _ in try await c.updateKey(call) }
        routes.add(.post, "security/keys/delete", .action("DeleteAccessKey", security)) { c, call, _ in try await c.deleteKey(call) }

        // Users.
        routes.add(.get, "users", .read("ListUsers", users)) { c, call, _ in try await c.users(call) }
        routes.add(.post, "users", .action("CreateUser", users)) { c, call, _ in try await c.createUser(call) }
        routes.add(.get, "users/:user", .read("GetUser", users)) { c, call, p in try await c.user(call, p[0]) }
        routes.add(.post, "users/:user/mfa/sms", .action("EnableMFADevice", users, audit: .elsewhere)) { c, call, p in
            try Self.requireIAMUser(p[0])
            return try await c.smsStart(call, user: p[0])
        }
        routes.add(.post, "users/:user/deactivate-mfa", .action("DeactivateMFADevice", users, audit: .elsewhere)) { c, call, p in
            try await c.deactivateUserDevice(call, p[0])
        }
        routes.add(.post, "users/:user/attach", .action("AttachUserPolicy", users)) { c, call, p in
            try await c.attach(call, p[0], attach: true)
        }
        routes.add(.post, "users/:user/detach", .action("DetachUserPolicy", users)) { c, call, p in
            try await c.attach(call, p[0], attach: false)
        }
        routes.add(.post, "users/:user/password", .action("UpdateLoginProfile", users)) { c, call, p in
            try await c.setUserPassword(call, p[0])
        }
        routes.add(.post, "users/:user/delete", .action("DeleteUser", users)) { c, call, p in try await c.deleteUser(call, p[0]) }
        routes.add(.post, "users/:user/keys/create", .action("CreateAccessKey", users, audit: .onSuccess)) { c, call, p in
            try await c.createUserKey(call, p[0])
        }
        routes.add(.post, "users/:user/keys/status", .action("UpdateAccessKey", users)) { c, call, p in
            try await c.updateUserKey(call, p[0])
        }
        routes.add(.post, "users/:user/keys/delete", .action("DeleteAccessKey", users)) { c, call, p in
            try await c.deleteUserKey(call, p[0])
        }

        // Groups and policies.
        routes.add(.get, "groups", .read("ListGroups", groups)) { c, call, _ in try await c.groups(call) }
        routes.add(.post, "groups", .action("CreateGroup", groups)) { c, call, _ in try await c.createGroup(call) }
        routes.add(.get, "groups/:group", .read("GetGroup", groups)) { c, call, p in try await c.group(call, p[0]) }
        routes.add(.post, "groups/:group/members", .action("UpdateGroupMembers", groups)) { c, call, p in
            try await c.groupMembers(call, p[0])
        }
        routes.add(.post, "groups/:group/attach", .action("AttachGroupPolicy", groups)) { c, call, p in
            try await c.groupAttach(call, p[0], attach: true)
        }
        routes.add(.post, "groups/:group/detach", .action("DetachGroupPolicy", groups)) { c, call, p in
            try await c.groupAttach(call, p[0], attach: false)
        }
        routes.add(.post, "groups/:group/delete", .action("DeleteGroup", groups)) { c, call, p in try await c.deleteGroup(call, p[0]) }
        routes.add(.get, "policies", .read("ListPolicies", policies)) { c, call, _ in try await c.policies(call) }
        routes.add(.get, "policies/new", .read("GetPolicy", policies)) { c, call, _ in try await c.policyEditor(call) }
        routes.add(.get, "policies/view", .read("GetPolicy", policies)) { c, call, _ in try await c.policyEditor(call) }
        routes.add(.post, "policies/editor", .action("SavePolicy", policies)) { c, call, _ in try await c.submitPolicy(call) }
        routes.add(.post, "policies/delete", .action("DeletePolicy", policies)) { c, call, _ in try await c.deletePolicy(call) }

        // Buckets and objects.
        routes.add(.get, "buckets", .read("ListBuckets", buckets)) { c, call, _ in try await c.buckets(call) }
        routes.add(.post, "buckets", .action("CreateBucket", buckets)) { c, call, _ in try await c.createBucket(call) }
        routes.add(.get, "buckets/:bucket", .read("GetBucket", buckets)) { c, call, p in try await c.bucket(call, p[0]) }
        routes.add(.post, "buckets/:bucket/versioning", .action("PutBucketVersioning", buckets)) { c, call, p in
            try await c.putVersioning(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/policy", .action("PutBucketPolicy", buckets)) { c, call, p in
            try await c.putPolicy(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/policy/delete", .action("DeleteBucketPolicy", buckets)) { c, call, p in
            try await c.deletePolicy(call, p[0])
        }
        routes.add(.get, "buckets/:bucket/empty", .read("EmptyBucket", buckets)) { c, call, p in try await c.emptyPage(call, p[0]) }
        routes.add(.post, "buckets/:bucket/empty", .action("EmptyBucket", buckets, audit: .onSuccess)) { c, call, p in
            try await c.emptyBucket(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/remove", .action("DeleteBucket", buckets)) { c, call, p in
            try await c.deleteBucket(call, p[0])
        }
        routes.add(.get, "buckets/:bucket/objects", .read("ListObjectVersions", buckets)) { c, call, p in
            try await c.objects(call, p[0])
        }
        routes.add(.get, "buckets/:bucket/object", .read("HeadObject", buckets)) { c, call, p in try await c.objectPage(call, p[0]) }
        routes.add(.get, "buckets/:bucket/preview", .read("GetObject", buckets)) { c, call, p in try await c.preview(call, p[0]) }
        routes.add(.get, "buckets/:bucket/download", .read("GetObject", buckets)) { c, call, p in try await c.download(call, p[0]) }
        routes.add(.post, "buckets/:bucket/presign", .action("PresignGetObject", buckets, audit: .onSuccess)) { c, call, p in
            try await c.presign(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/delete", .action("DeleteObjects", buckets)) { c, call, p in
            try await c.deleteSelected(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/folders", .action("CreateFolder", buckets)) { c, call, p in
            try await c.createFolder(call, p[0])
        }
        routes.add(.put, "buckets/:bucket/upload", .action("PutObject", buckets, audit: .onSuccess, change: .stream)) { c, call, p in
            try await c.upload(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/uploads", .action("CreateMultipartUpload", buckets, audit: .onSuccess)) { c, call, p in
            try await c.createUpload(call, p[0])
        }
        routes.add(.put, "buckets/:bucket/uploads/part", .action("UploadPart", buckets, audit: .elsewhere, change: .stream)) {
            c, call, p in try await c.uploadPart(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/uploads/complete", .action("CompleteMultipartUpload", buckets, audit: .onSuccess)) {
            c, call, p in try await c.completeUpload(call, p[0])
        }
        routes.add(.post, "buckets/:bucket/uploads/abort", .action("AbortMultipartUpload", buckets, audit: .onSuccess)) {
            c, call, p in try await c.abortUpload(call, p[0])
        }

        routes.add(.get, "audit", .read("Audit", audit)) { c, call, _ in try await c.audit(call) }
    }
}
