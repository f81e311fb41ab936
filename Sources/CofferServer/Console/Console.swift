import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import QRCode
import NIOCore
import WebAuthn

/// The web console, on a listener of its own (`coffer serve --console-port`): server-rendered
/// pages over the same engine, registry and authorization point as the API. A console session is
/// a principal (`Principal.isConsole`) whose MFA keys come from its sign-in code; every action is
/// authorized as the API request it stands for (`S3Authorizer`, `QueryAPI.authorize`).
struct ConsoleResponder: Sendable {
    let s3: S3Responder
    let registry: Registry
    let isTLS: Bool
    /// The names (lowercased) besides IP literals and `localhost` that the console answers to
    /// (`--console-host-name`); any other Host gets 421, whatever address the console is bound to.
    let hostNames: Set<String>
    /// Security keys: the relying-party id and allowed origins (configuration, never the Host header).
    let relyingParty: RelyingParty
    /// The root's access key id (its secret never reaches the console): from the server's
    /// configuration, listed on the root's security credentials page.
    var rootAccessKey = ""
    /// Templates, stylesheet and script, checked at startup.
    let assets: ConsoleAssets
    /// The S3 API's port (0: unknown), for the links the console presigns.
    var s3Port = 0
    var engine: Engine { s3.engine }

    /// Cookie names: under HTTPS with the `__Host-` prefix (Secure, Path=/, no Domain: no other
    /// site's page can set one, nor one for a longer path; a script on this very host over HTTPS
    /// could still set one while none exists, which the HttpOnly cookie the console sets prevents).
    static let sessionCookie = "coffer_session"
    static let preCookie = "coffer_signin"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let formLimit = 64 * 1024

    /// One console request, as the handlers see it.
    struct Call: Sendable {
        let request: Request
        let endpoint: ConsoleEndpoint
        let query: [String: String]
        var form: [String: String] = [:]
        /// Every value of a form field that may repeat (the objects page's checkboxes).
        var selected: [String] = []
        let connection: ConnectionInfo
        let cookies: [String: String]
        /// Cookie names the request carried more than once (`refuseTossedCookies`).
        let repeatedCookies: Set<String>
        /// The signed-in session (nil on the sign-in pages before a session exists).
        var session: ConsoleSessionRecord?
        var principal: Principal?
        var token: String?

        init(request: Request, endpoint: ConsoleEndpoint, context: ConsoleContext, console: ConsoleResponder) {
            self.request = request
            self.endpoint = endpoint
            query = ConsoleResponder.query(request.uri.query)
            form = context.form
            selected = context.selected
            connection = console.connection(request, context)
            cookies = context.cookies
            repeatedCookies = context.repeatedCookies
            session = context.session
            principal = context.principal
            token = context.token
        }

        var source: String? { connection.sourceIP }
        var info: Registry.RequestInfo { Registry.RequestInfo(source: connection.source, requestID: connection.requestID) }
        /// The signed-in principal; the router only calls handlers of signed-in routes with one.
        var caller: Principal { principal ?? Principal.anonymous(accountID: "") }
        var csrf: String { session?.csrf ?? cookies[preCookie] ?? "" }
        var sessionCookie: String { (connection.secureTransport ? "__Host-" : "") + ConsoleResponder.sessionCookie }
        var preCookie: String { (connection.secureTransport ? "__Host-" : "") + ConsoleResponder.preCookie }
    }

    /// Where a request comes from (the transport rule's view: TLS, peer, trusted proxies).
    func connection(_ request: Request, _ context: ConsoleContext) -> ConnectionInfo {
        s3.transport.context(for: request, peer: context.remoteAddress, requestID: context.requestID)
    }

    /// A message for the person at the browser, with the status it answers.
    struct Problem: HTTPStatusError {
        var status: HTTPResponse.Status
        var message: String
        var httpStatus: HTTPResponse.Status { status }
    }

    /// An error as a page for the person at the browser.
    func errorPage(_ error: any Error) -> Response {
        let view: MessageView
        let status: HTTPResponse.Status
        switch error {
        case let problem as Problem:
            view = MessageView(heading: problem.status == .notFound ? "Not found" : "Something went wrong", text: problem.message)
            status = problem.status
        case let error as HTTPError where error.status == .notFound:
            view = MessageView(heading: "Not found", text: "There is no such page in the console.")
            status = .notFound
        case let error as S3Error:
            view = MessageView(heading: error.code == .accessDenied ? "Access denied" : "The request failed", text: Self.words(error))
            status = Self.status(of: error)
        case let error as IAMError:
            view = MessageView(heading: error.code == .accessDenied ? "Access denied" : "The request failed", text: Self.words(error))
            status = Self.status(of: error)
        default:
            view = MessageView(heading: "Something went wrong", text: "The console could not answer this request. Please try again.")
            status = .internalServerError
        }
        return page(view, call: nil, status: status)
    }

    /// Every console action that changed something is audited like an API call (sign-in steps
    /// and password changes are audited by the registry; refusals by the authorization point). The
    /// detail names what was acted on, never a password or a code.
    func auditAction(_ call: Call) async {
        guard let principal = call.principal, call.session?.stage == .active else { return }
        var detail = "console " + String(call.request.uri.path.prefix(200))
        for name in ["key", "versionId", "serial", "name", "arn", "status"] {
            if let value = call.form[name] ?? call.query[name], !value.isEmpty { detail += " \(name)=\(value.prefix(300))" }
        }
        if !call.selected.isEmpty { detail += " objects=" + call.selected.prefix(20).joined(separator: ",") }
        if detail.count > 512 { detail = String(detail.prefix(509)) + "..." }
        let entry = AuditRecord(time: engine.now(), event: "Console:" + call.endpoint.name, outcome: .done,
                                principal: principal.arn, source: call.connection.source,
                                requestID: call.connection.requestID, detail: detail)
        await registry.account.appendAudit(entry)
    }

    /// A state change must come from the console's own pages: `Sec-Fetch-Site`, which a page's
    /// script cannot set, must say `same-origin`, and an `Origin` must be this console's. (Under
    /// `Referrer-Policy: no-referrer` browsers send `Origin: null` with a form; `Sec-Fetch-Site`
    /// then decides, and without it a `null` origin is refused.)
    func checkOrigin(_ call: Call) async throws {
        let headers = call.request.headers
        let site = headers[Self.secFetchSite]
        if let site, site != "same-origin" {
            try await refuse(call, reason: "cross-site request (Sec-Fetch-Site: \(site.prefix(20)))")
        }
        if let origin = headers[.origin] {
            // The Host was accepted by checkHost; the Origin must be exactly this scheme, host and port.
            let own = (call.connection.secureTransport ? "https://" : "http://") + (call.request.head.authority ?? "").lowercased()
            guard origin.lowercased() == own || (origin == "null" && site != nil) else {
                try await refuse(call, reason: "foreign Origin")
            }
        }
    }

    /// The session's CSRF token (the sign-in's own before a session exists) must come back in the
    /// form's `_csrf` or the `X-CSRF-Token` header.
    func checkCSRF(_ call: Call) async throws {
        // The sign-in form carries its own token, whatever session the browser may still hold.
        let expected = call.endpoint.isSignIn ? call.cookies[call.preCookie] : call.session?.csrf
        let given = call.form["_csrf"] ?? call.request.headers[Self.csrfHeader]
        guard let expected, expected.utf8.count >= 32, let given,
              constantTimeEqual(expected.utf8, given.utf8)
        else { try await refuse(call, reason: "missing or wrong CSRF token") }
    }

    func refuse(_ call: Call, reason: String) async throws -> Never {
        let principal = call.principal ?? Principal.anonymous(accountID: registry.accountID)
        await s3.authorizer.refusals.record(Denial(message: "Forbidden", reason: reason, action: "console:\(call.endpoint.name)",
                                                   resource: String(call.request.uri.path.prefix(200))),
                                            event: "Console:\(call.endpoint.name)", principal: principal,
                                            connection: call.connection)
        throw Problem(status: .forbidden, message: "This request was refused: it did not come from a console page "
            + "(its security token is missing or out of date). Reload the page and try again.")
    }

    // MARK: Responses

    /// A page of the layout; `call` supplies the signed-in parts (navigation, CSRF token).
    /// A page from its typed view, inside the layout (its title, the menu, the sign-out button, the
    /// notice of a `?done=` redirect).
    func page(_ view: some ConsoleView, call: Call?, status: HTTPResponse.Status = .ok,
              headers: HTTPFields = HTTPFields()) -> Response {
        page(type(of: view).template, Self.values(of: view), call: call, status: status, headers: headers)
    }

    private func page(_ template: ConsoleTemplate, _ values: [String: Any], call: Call?, status: HTTPResponse.Status = .ok,
              headers extra: HTTPFields = HTTPFields()) -> Response {
        var values = values
        if values["title"] == nil { values["title"] = values["heading"] ?? "Console" }
        if let call {
            values["csrf"] = call.csrf
            if let session = call.session, session.stage == .active, let principal = call.principal {
                values["signedIn"] = true
                values["who"] = principal.isRoot ? "root · account \(registry.accountID)"
                    : "\(principal.userName) @ \(registry.accountID)"
                if let menu = call.endpoint.menu { values["menu_" + menu] = true }
            } else if call.session != nil {
                // Half signed in (a code owed, a new password required): never a page without a way out.
                values["halfSignedIn"] = true
            }
            if values["notice"] == nil, let done = call.query["done"], let text = Self.notices[done] { values["notice"] = text }
        }
        // Every template was checked when the console started: a nil here cannot come from a name.
        let html = assets.library.render(values, withTemplate: template.rawValue) ?? ""
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// What a `?done=` code says after a redirect (fixed texts: nothing from the request is echoed).
    static let notices: [String: String] = [
        "folder-created": "The folder is created.",
        "bucket-deleted": "The bucket is deleted.",
        "group-created": "The group is created.",
        "iam-policy-saved": "The policy is saved.",
        "iam-policy-deleted": "The policy is deleted.",
        "group-updated": "The group's users are changed.",
        "group-deleted": "The group is deleted.",
        "mfa-assigned": "The MFA device is assigned. You will be asked for a code at your next sign-in.",
        "sms-assigned": "The SMS device is assigned. The user will be sent a code at their next sign-in.",
        "sms-sent": "A code was sent to your phone by text message. It works for 5 minutes.",
        "sms-not-sent": "Coffer could not send a text message just now: use the button below to try again.",
        "sms-limited": "A code was sent to your phone moments ago: type that one, or ask for another in a little while.",
        "key-registered": "The security key is registered. You can use it at your next sign-in.",
        "mfa-resynced": "The MFA device is resynchronized.",
        "mfa-removed": "The MFA device is removed.",
        "key-updated": "The access key is updated.",
        "key-deleted": "The access key is deleted.",
        "user-created": "The user is created.",
        "signed-out": "You have signed out.",
        "user-deleted": "The user is deleted.",
        "policy-attached": "The policy is attached.",
        "policy-detached": "The policy is detached.",
        "password-set": "The console password is set.",
        "password-changed": "Your password is changed.",
        "device-deactivated": "The MFA device is deactivated. Its user must assign a device again.",
        "bucket-created": "The bucket is created.",
        "versioning-saved": "The versioning configuration is saved.",
        "policy-saved": "The bucket policy is saved.",
        "policy-deleted": "The bucket policy is deleted.",
        "object-deleted": "Delete markers now hide the selected objects; their versions are kept.",
        "version-deleted": "The selected versions are permanently deleted.",
    ]

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// The tab icon: a "C" ring, 32 × 32, drawn once (browsers ask for /favicon.ico on every site;
    /// a 404 there is noise in every log and every browser console).
    static let faviconPNG: [UInt8] = {
        (try? PNG.encode(width: 32, height: 32) { x, y in
            let dx = Double(x) - 15.5, dy = Double(y) - 15.5
            let radius = (dx * dx + dy * dy).squareRoot()
            return radius >= 8.5 && radius <= 14 && !(dx > 4 && abs(dy) < 5)
        }) ?? []
    }()

    static var favicon: Response {
        var headers = HTTPFields()
        headers[.contentType] = "image/png"
        headers[.cacheControl] = "public, max-age=86400"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: faviconPNG)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func cookie(_ call: Call, _ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if call.connection.secureTransport { text += "; Secure" }
        return text
    }

    /// The console answers only to a Host that is an IP literal, `localhost`, or a name given with
    /// `--console-host-name`: a page on another site whose name an attacker points at this
    /// server (DNS rebinding: `127.attacker.example`) is turned away with 421.
    func checkHost(_ request: Request) -> Problem? {
        if let host = HostHeader.split(request.head.authority ?? "")?.host,
           host == "localhost" || IPLiteral.isAddress(host) || hostNames.contains(host) {
            return nil
        }
        return Problem(status: .misdirectedRequest, message: "This console answers only to IP addresses, localhost"
            + (hostNames.isEmpty ? "" : " and " + hostNames.sorted().joined(separator: ", "))
            + ". Use http://localhost:PORT, or start Coffer with --console-host-name NAME for the name you used.")
    }

    /// On every response: no inline script or style, no framing, no sniffing, no referrer; and
    /// nothing the console answers is cached (the stylesheet and script excepted).
    static func secure(_ headers: inout HTTPFields, isTLS: Bool) {
        if headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        }
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        if isTLS { headers[.strictTransportSecurity] = "max-age=31536000" }
    }

    // MARK: Parsing

    static func query(_ text: String?) -> [String: String] {
        guard let text, !text.isEmpty, text.utf8.count <= 8192 else { return [:] }
        return pairs(text)
    }

    static func pairs(_ text: some StringProtocol) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Percent.decode(parts[0], plusAsSpace: true), values[name] == nil else { continue }
            values[name] = parts.count == 2 ? Percent.decode(parts[1], plusAsSpace: true) ?? "" : ""
        }
        return values
    }

    /// A form body (`application/x-www-form-urlencoded`, at most 64 KiB; other bodies are empty
    /// forms): the first value of each field, and every value of the repeatable `v` (at most 1,000,
    /// DeleteObjects' limit).
    static func form(_ request: Request) async throws -> ([String: String], [String]) {
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= formLimit else {
                throw Problem(status: .contentTooLarge, message: "The form is larger than \(formLimit / 1024) KiB.")
            }
            bytes += buffer.readableBytesView
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false,
              let text = String(validating: bytes, as: UTF8.self)
        else { return ([:], []) }
        var selected: [String] = []
        for pair in text.split(separator: "&") where pair.hasPrefix("v=") {
            guard selected.count < 1000 else {
                throw Problem(status: .badRequest, message: "Select at most 1,000 objects at once.")
            }
            if let value = Percent.decode(pair.dropFirst(2), plusAsSpace: true), !value.isEmpty { selected.append(value) }
        }
        return (pairs(text), selected)
    }

    /// The first value of each cookie, and the names sent more than once (a browser sends every
    /// cookie whose path matches: a second one of a name was set elsewhere, for a longer path).
    static func cookieValues(_ header: String?) -> (values: [String: String], repeated: Set<String>) {
        guard let header, header.utf8.count <= 8192 else { return ([:], []) }
        var values: [String: String] = [:]
        var repeated: Set<String> = []
        for item in header.split(separator: ";") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            if values[name] == nil {
                values[name] = parts[1].trimmingCharacters(in: .whitespaces)
            } else {
                repeated.insert(name)
            }
        }
        return (values, repeated)
    }

    /// Cookie tossing: a page served elsewhere on this host (an HTML object on the S3 port, whose
    /// cookies the browser shares: RFC 6265 §8.5) can set a console cookie for a longer path, which
    /// the browser then sends first. A request carrying a console cookie twice is refused, and the
    /// copies at every longer path this request could carry are expired. The console's own cookie
    /// (`Path=/`, HttpOnly) is kept: a page's script cannot overwrite an HttpOnly cookie, so
    /// keeping it is what stops the same page from planting one at `Path=/` next.
    func refuseTossedCookies(request: Request, repeated all: Set<String>, secure isSecure: Bool) -> Response? {
        let prefix = isSecure ? "__Host-" : ""
        let repeated = all.intersection([prefix + Self.sessionCookie, prefix + Self.preCookie])
        guard !repeated.isEmpty else { return nil }
        var paths: [String] = []
        var path = ""
        for segment in request.uri.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().prefix(32) {
            path += "/" + segment
            paths += [path, path + "/"].filter { $0 != "/" }  // never the console's own Path=/
        }
        var headers = HTTPFields()
        for name in repeated.sorted() {
            for path in paths {
                let secure = isSecure ? "; Secure" : ""
                headers.append(HTTPField(name: .setCookie, value: "\(name)=; Path=\(path); Max-Age=0; HttpOnly; SameSite=Strict\(secure)"))
            }
        }
        let view = MessageView(heading: "A second console cookie was refused",
                               text: "Your browser sent two Coffer console cookies of the same name: a page elsewhere on this "
                                   + "host may have set one to make you act in its session. Nothing was done, and the "
                                   + "other cookie is cleared: go back and try again.")
        return page(view, call: nil, status: .badRequest, headers: headers)
    }

    // MARK: Formatting

    /// `2026-11-29 09:26:03 UTC` (a listing formats hundreds: no Foundation string searching).
    static func date(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "" }
        let iso = HTTPDate.iso8601(milliseconds: milliseconds)  // YYYY-MM-DDTHH:MM:SS.mmmZ
        guard let t = iso.firstIndex(of: "T"), let dot = iso.lastIndex(of: ".") else { return iso }
        return iso[..<t] + " " + iso[iso.index(after: t)..<dot] + " UTC"
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// A query-string value (for links built in templates).
    static func q(_ text: String) -> String { Percent.encode(text) }
}
