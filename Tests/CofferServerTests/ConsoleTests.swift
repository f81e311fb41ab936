import CofferCore
import CofferIAM
@testable import CofferServer
import CofferStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TOTP

/// The web console over a real loopback listener: sessions, CSRF and origin checks, security
/// headers, the sign-in steps and their throttling, and handlers acting through the same
/// authorization point and MFA gate as the API.
@Suite("Web console")
struct ConsoleTests {
    static let rootPassword = "Console-Test-Root-1!"

    /// A browser's state: cookies and the page's CSRF token.
    final class Browser: @unchecked Sendable {
        let client: any TestClientProtocol
        var cookies: [String: String] = [:]
        var csrf = ""
        var lastBody = ""

        init(_ client: any TestClientProtocol) { self.client = client }

        @discardableResult
        func get(_ path: String) async throws -> (HTTPResponse.Status, HTTPFields, String) {
            try await send(.get, path)
        }

        @discardableResult
        func post(_ path: String, _ form: [String: String], csrf: String? = nil, headers extra: HTTPFields = [:])
            async throws -> (HTTPResponse.Status, HTTPFields, String) {
            var form = form
            if form["_csrf"] == nil, let token = csrf ?? (self.csrf.isEmpty ? nil : self.csrf) { form["_csrf"] = token }
            let body = form.map { "\($0.key)=\(Percent.encode($0.value))" }.joined(separator: "&")
            var headers = extra
            headers[.contentType] = "application/x-www-form-urlencoded"
            return try await send(.post, path, body: Array(body.utf8), headers: headers)
        }

        func send(_ method: HTTPRequest.Method, _ path: String, body: [UInt8] = [], headers extra: HTTPFields = [:])
            async throws -> (HTTPResponse.Status, HTTPFields, String) {
            var headers = extra
            if !cookies.isEmpty {
                headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
            }
            let response = try await client.execute(uri: path, method: method, headers: headers,
                                                    body: body.isEmpty ? nil : ByteBuffer(bytes: body))
            for field in response.headers[values: .setCookie] {
                let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
                if value.isEmpty || field.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
            let text = String(buffer: response.body)
            lastBody = text
            if let range = text.range(of: #"name="_csrf" value=""#) {
                csrf = String(text[range.upperBound...].prefix { $0 != "\"" })
            }
            return (response.status, response.headers, text)
        }

        func signInRoot(_ password: String = ConsoleTests.rootPassword) async throws -> (HTTPResponse.Status, HTTPFields, String) {
            try await get("/signin")
            return try await post("/signin", ["kind": "root", "password": password])
        }

        func signIn(account: String, user: String, password: String) async throws -> (HTTPResponse.Status, HTTPFields, String) {
            try await get("/signin")
            return try await post("/signin", ["kind": "iam", "account": account, "user": user, "password": password])
        }
    }

    struct Rig {
        let instance: CofferInstance
        let browser: Browser
        var registry: Registry { instance.registry }
        var account: String { instance.accountID }
        static let root = Principal(userName: "root")
        static let info = Registry.RequestInfo(source: "test", requestID: nil)

        func newBrowser() -> Browser { Browser(browser.client) }

        /// A root virtual device enabled with the codes of the previous and current steps.
        func rootDevice(name: String = "root-phone") async throws -> (serial: String, totp: TOTPParameters) {
            let device = try await registry.devices.createVirtualDevice(Self.root, name: name, path: nil, tags: [], info: Self.info)
            let totp = try TOTPParameters(secret: Base32.decode(device.base32Seed))
            let step = totp.step(at: Int64(Date().timeIntervalSince1970))
            try await registry.devices.enableDevice(Self.root, userName: "root", serial: device.serial,
                                            code1: totp.code(step: step - 1), code2: totp.code(step: step), info: Self.info)
            return (device.serial, totp)
        }
    }

    func withConsole(_ body: @Sendable (Rig) async throws -> Void) async throws {
        var options = ServerOptions(dataFolder: FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-console-\(UUID().uuidString)"))
        options.rootAccessKey = "AKIACONSOLETEST00001"
        options.rootSecretKey = "console-test-secret"
        options.passwordLogN = 10
        let instance = try CofferInstance(options: options)
        try await instance.registry.passwords.setRootPassword(Self.rootPassword)
        let app = try instance.makeConsole(logger: Logger(label: "test"), port: 0)
        try await app.test(.live) { client in try await body(Rig(instance: instance, browser: Browser(client))) }
        try instance.store.close()
        try? FileManager.default.removeItem(at: options.dataFolder)
    }

    @Test("Sign-in makes a server-side session in an HttpOnly, SameSite=Strict cookie; sign-out ends it")
    func sessions() async throws {
        try await withConsole { rig in
            let browser = rig.browser
            #expect(try await browser.get("/home").1[.location] == "/signin")
            let (status, headers, _) = try await browser.signInRoot()
            #expect(status == .seeOther)
            #expect(headers[.location] == "/home")
            let cookie = try #require(headers[values: .setCookie].first { $0.hasPrefix("coffer_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"))  // plain HTTP here; TLS adds it
            let token = try #require(browser.cookies["coffer_session"])
            // Only the token's hash is stored; the record expires in one hour for the root.
            let record = try #require(try rig.instance.store.readNow { try $0.consoleSession(tokenHash: Registry.tokenHash(token)) })
            #expect(record.userName == "root" && record.stage == .active)
            #expect(record.expires - record.created == ConsoleSignIn.rootConsoleSessionMs)
            #expect(try rig.instance.store.readNow { try $0.consoleSession(tokenHash: token) } == nil)
            let home = try await browser.get("/home")
            #expect(home.0 == .ok)
            #expect(home.2.contains(rig.account))
            #expect(home.1[.cacheControl] == "no-store")
            try await browser.post("/signout", [:])
            #expect(try await browser.get("/home").1[.location] == "/signin")
            // The old token, replayed, is worth nothing.
            let replay = rig.newBrowser()
            replay.cookies["coffer_session"] = token
            #expect(try await replay.get("/home").1[.location] == "/signin")
            // An expired record signs nobody in.
            var expired = try #require(try await { () async throws -> ConsoleSessionRecord? in
                _ = try await browser.signInRoot()
                return try rig.instance.store.readNow { try $0.consoleSession(tokenHash: Registry.tokenHash(browser.cookies["coffer_session"]!)) }
            }())
            expired.expires = Int64(Date().timeIntervalSince1970 * 1000) - 1
            let stale = expired
            try await rig.instance.store.write { try $0.saveConsoleSession(stale) }
            #expect(try await browser.get("/home").1[.location] == "/signin")
        }
    }

    @Test("Security headers on every answer: pages, errors, redirects, assets")
    func headers() async throws {
        try await withConsole { rig in
            for path in ["/signin", "/", "/nowhere", "/static/console.css", "/home"] {
                let (_, headers, _) = try await rig.browser.get(path)
                let policy = try #require(headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"))
                #expect(!policy.contains("unsafe-inline"))
                #expect(headers[.xContentTypeOptions] == "nosniff")
                #expect(headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            #expect(try await rig.browser.get("/nowhere").0 == .notFound)
            // No inline script or style in any template (the policy would block them anyway).
            for (name, text) in try ConsoleAssets.checked().texts {
                #expect(!text.contains("<script>") && !text.contains("style=") && !text.contains("onclick"), "\(name)")
                #expect(!text.contains("{{{") && !text.contains("{{&"), "\(name): unescaped output")
            }
        }
    }

    @Test("Every state change needs the session's CSRF token and a same-origin request")
    func csrf() async throws {
        try await withConsole { rig in
            let browser = rig.browser
            // The sign-in form has its own token (a cookie and the form must agree).
            try await browser.get("/signin")
            #expect(try await browser.post("/signin", ["kind": "root", "password": Self.rootPassword], csrf: "x").0 == .forbidden)
            #expect(try await browser.signInRoot().0 == .seeOther)
            try await browser.get("/buckets")
            let token = browser.csrf
            #expect(token.count == 43)
            func created(_ name: String) async throws -> Bool {
                try await rig.instance.engine.listBuckets().contains { $0.name == name }
            }
            #expect(try await browser.post("/buckets", ["name": "no-token", "_csrf": ""]).0 == .forbidden)
            #expect(try await browser.post("/buckets", ["name": "wrong-token"], csrf: String(token.reversed())).0 == .forbidden)
            var foreign = HTTPFields()
            foreign[.origin] = "https://evil.example"
            #expect(try await browser.post("/buckets", ["name": "foreign-origin"], headers: foreign).0 == .forbidden)
            var crossSite = HTTPFields()
            crossSite[ConsoleResponder.secFetchSite] = "cross-site"
            #expect(try await browser.post("/buckets", ["name": "cross-site"], headers: crossSite).0 == .forbidden)
            var nullOrigin = HTTPFields()
            nullOrigin[.origin] = "null"  // no Sec-Fetch-Site to vouch for it
            #expect(try await browser.post("/buckets", ["name": "null-origin"], headers: nullOrigin).0 == .forbidden)
            // An upload (the page's script) carries the token in a header.
            #expect(try await browser.send(.put, "/buckets/x/upload?key=k", body: [1]).0 == .forbidden)
            for name in ["no-token", "wrong-token", "foreign-origin", "cross-site", "null-origin"] {
                #expect(try await !created(name), "\(name)")
            }
            // Same origin, as a browser sends it under Referrer-Policy: no-referrer.
            var sameSite = HTTPFields()
            sameSite[.origin] = "null"
            sameSite[ConsoleResponder.secFetchSite] = "same-origin"
            #expect(try await browser.post("/buckets", ["name": "with-token"], headers: sameSite).0 == .seeOther)
            #expect(try await created("with-token"))
            // Refusals are audited (bounded, as the API's are); the action itself too.
            let audit = try rig.instance.store.readNow { try $0.auditPage(before: nil, principalSuffix: nil, outcome: nil, limit: 50) }
            #expect(audit.contains { $0.event == "Console:CreateBucket" && $0.outcome == .denied
                && ($0.detail ?? "").contains("CSRF") })
            #expect(audit.contains { $0.event == "Console:CreateBucket" && $0.outcome == .done
                && ($0.detail ?? "").contains("with-token") })
            // The audit page shows them, filtered, and keeps the filter's choice.
            let page = try await browser.get("/audit?outcome=denied")
            #expect(page.2.contains(#"<option value="denied" selected>"#) && !page.2.contains(#"<option value="done" selected>"#))
            #expect(page.2.contains("missing or wrong CSRF token") && !page.2.contains("with-token"))
        }
    }

    @Test("Wrong passwords and unknown users answer alike; failures back off per user and address")
    func signInFailures() async throws {
        try await withConsole { rig in
            _ = try await rig.registry.users.createUser(Rig.root, name: "bob", path: nil)
            _ = try await rig.registry.passwords.createLoginProfile(user: "bob", password: "Bob-Pass-Word-1", resetRequired: false)
            let wrong = try await rig.browser.signIn(account: rig.account, user: "bob", password: "not-it")
            let missing = try await rig.newBrowser().signIn(account: rig.account, user: "nobody", password: "not-it")
            let noAccount = try await rig.newBrowser().signIn(account: "999999999999", user: "bob", password: "Bob-Pass-Word-1")
            for answer in [wrong, missing, noAccount] {
                #expect(answer.0 == .unauthorized)
                #expect(answer.2.contains("The account ID, user name or password is not correct."))
            }
            // Two more wrong passwords for bob from here: the next attempt is refused unchecked,
            // even with the right password.
            _ = try await rig.browser.signIn(account: rig.account, user: "bob", password: "not-it")
            _ = try await rig.browser.signIn(account: rig.account, user: "bob", password: "not-it")
            let locked = try await rig.browser.signIn(account: rig.account, user: "bob", password: "Bob-Pass-Word-1")
            #expect(locked.0 == .tooManyRequests)
            #expect(locked.2.contains("Too many failed sign-ins"))
            let audit = try rig.instance.store.readNow { try $0.auditPage(before: nil, principalSuffix: "/bob", outcome: nil, limit: 20) }
            #expect(audit.filter { $0.event == "ConsoleLogin" && $0.outcome == .failed }.count == 3)
            // Names that are no user's (here, or under another account id) are not logged: people
            // type passwords into that field.
            let hidden = try rig.instance.store.readNow {
                try $0.auditPage(before: nil, principalSuffix: "/HIDDEN_DUE_TO_SECURITY_REASONS", outcome: nil, limit: 20)
            }
            #expect(hidden.count == 2)
            // A typed "root" as an IAM user name is no root sign-in.
            _ = try await rig.newBrowser().signIn(account: rig.account, user: "root", password: "guess")
            let rootEntries = try rig.instance.store.readNow { try $0.auditPage(before: nil, principalSuffix: ":root", outcome: nil, limit: 20) }
            #expect(!rootEntries.contains { $0.event == "ConsoleLogin" })
            #expect(audit.contains { $0.event == "ConsoleLogin" && $0.outcome == .refused && $0.detail == "throttled" })
            #expect(!audit.contains { ($0.detail ?? "").contains("not-it") })  // no password in the log
        }
    }

    @Test("The throttle: per (user, address) and per address; a stranger elsewhere cannot lock a user out")
    func throttle() throws {
        // On a real store: the counters are rows that every process sharing the folder reads.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-throttle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Store.forTesting(folder: folder)
        defer { try? store.close() }
        func failed(_ throttle: SignInThrottle, _ user: String, _ source: String, _ now: Int64) throws {
            try store.writeNow { try throttle.failed(user: user, source: source, now: now, in: $0) }
        }
        func retryAfter(_ throttle: SignInThrottle, _ user: String, _ source: String, _ now: Int64) throws -> Int64? {
            try store.writeNow { try throttle.retryAfter(user: user, source: source, now: now, in: $0) }
        }
        let throttle = SignInThrottle(perUserFree: 3, perSourceFree: 20)
        var now: Int64 = 1_000_000
        for _ in 0..<3 { try failed(throttle, "bob", "203.0.113.9", now) }
        #expect(try retryAfter(throttle, "bob", "203.0.113.9", now) == nil)
        try failed(throttle, "bob", "203.0.113.9", now)
        #expect(try retryAfter(throttle, "bob", "203.0.113.9", now) == 1000)
        // Bob, from his own address, is not locked by the stranger's failures.
        #expect(try retryAfter(throttle, "bob", "198.51.100.7", now) == nil)
        // The lock doubles with each further failure, up to 15 minutes.
        for _ in 0..<20 { try failed(throttle, "bob", "203.0.113.9", now) }
        #expect(try retryAfter(throttle, "bob", "203.0.113.9", now) == 900_000)
        now += 900_001
        #expect(try retryAfter(throttle, "bob", "203.0.113.9", now) == nil)
        // One address trying many users is locked for all of them.
        let spray = SignInThrottle(perUserFree: 3, perSourceFree: 20)
        for index in 0..<21 { try failed(spray, "user\(index)", "192.0.2.1", now) }
        #expect(try retryAfter(spray, "someone-else", "192.0.2.1", now) != nil)
        #expect(try retryAfter(spray, "someone-else", "192.0.2.2", now) == nil)
        // A right password clears the user's pair, not the address's count.
        try failed(throttle, "carol", "192.0.2.5", now)
        try store.writeNow { try throttle.succeeded(user: "carol", source: "192.0.2.5", in: $0) }
        #expect(try retryAfter(throttle, "carol", "192.0.2.5", now) == nil)
        // A spray of new keys cannot grow the table past its cap.
        // A spray of one kind never pushes out (or forgets) another kind's counters.
        try store.writeNow {
            try $0.saveAttemptCounter("password:gus", AttemptCounter(failures: 7, lockedUntil: 0, last: 1), forgetBefore: 0)
        }
        try store.writeNow { transaction in
            for index in 0..<50 {
                try transaction.saveAttemptCounter("spray:k\(index)", AttemptCounter(failures: 1, lockedUntil: 0, last: now + Int64(index)),
                                                   forgetBefore: now, cap: 20)
            }
        }
        #expect(try store.readNow { try $0.attemptCounter("spray:k49") } != nil)
        #expect(try store.readNow { try $0.attemptCounter("spray:k0") } == nil)
        #expect(try store.readNow { try $0.attemptCounter("password:gus") }?.failures == 7)
    }

    @Test("A password reset forces a change at sign-in, under the account's password policy")
    func forcedPasswordChange() async throws {
        try await withConsole { rig in
            var policy = PasswordPolicy()
            policy.minimumLength = 12
            policy.requireNumbers = true
            try await rig.registry.passwords.updatePasswordPolicy(policy)
            _ = try await rig.registry.users.createUser(Rig.root, name: "dana", path: nil)
            _ = try await rig.registry.passwords.createLoginProfile(user: "dana", password: "Dana-First-Pass-1", resetRequired: true)
            let browser = rig.browser
            let signIn = try await browser.signIn(account: rig.account, user: "dana", password: "Dana-First-Pass-1")
            #expect(signIn.1[.location] == "/password")
            // Nothing else until the password is changed.
            #expect(try await browser.get("/buckets").1[.location] == "/password")
            let page = try await browser.get("/password")
            #expect(page.2.contains("at least 12 characters, a number"))
            let short = try await browser.post("/password", ["old": "Dana-First-Pass-1", "new": "short1", "confirm": "short1"])
            #expect(short.0 == .badRequest)
            #expect(short.2.contains("minimum length of 12"))
            let differ = try await browser.post("/password", ["old": "Dana-First-Pass-1", "new": "Dana-Second-Pass-2",
                                                               "confirm": "Dana-Second-Pass-3"])
            #expect(differ.2.contains("differ"))
            let changed = try await browser.post("/password", ["old": "Dana-First-Pass-1", "new": "Dana-Second-Pass-2",
                                                                "confirm": "Dana-Second-Pass-2"])
            #expect(changed.0 == .seeOther)
            #expect(changed.1[.location] == "/home")
            #expect(try await browser.get("/home").0 == .ok)
            #expect(try await !rig.registry.passwords.loginProfile(user: "dana").resetRequired)
            // Another browser's session of dana ended with the old password.
            let other = rig.newBrowser()
            _ = try await other.signIn(account: rig.account, user: "dana", password: "Dana-Second-Pass-2")
            #expect(try await other.get("/home").0 == .ok)
            try await rig.registry.passwords.updateLoginProfile(user: "dana", password: "Dana-Third-Pass-33", resetRequired: nil)
            #expect(try await other.get("/home").1[.location] == "/signin")
            #expect(try await browser.get("/home").1[.location] == "/signin")
        }
    }

    @Test("The MFA step: a code is owed before anything else; single use; wrong codes end the pending sign-in")
    func codeStep() async throws {
        try await withConsole { rig in
            let (serial, totp) = try await rig.rootDevice()
            let browser = rig.browser
            #expect(try await browser.signInRoot().1[.location] == "/signin/mfa")
            #expect(try await browser.get("/home").1[.location] == "/signin/mfa")
            #expect(try await browser.get("/buckets").1[.location] == "/signin/mfa")
            let pending = try #require(browser.cookies["coffer_session"])
            #expect(try await browser.get("/signin/mfa").2.contains(serial))
            let now = totp.step(at: Int64(Date().timeIntervalSince1970))
            let used = totp.code(step: now)  // the enable consumed it
            let replay = try await browser.post("/signin/mfa", ["serial": serial, "code": used])
            #expect(replay.0 == .unauthorized)
            #expect(replay.2.contains("was not accepted") && replay.2.contains("used already"))
            let good = try await browser.post("/signin/mfa", ["serial": serial, "code": totp.code(step: now + 1)])
            #expect(good.1[.location] == "/home")
            // A new token after the second factor; the pending one is gone.
            #expect(browser.cookies["coffer_session"] != pending)
            let record = try await #require(try rig.registry.console.consoleSession(token: browser.cookies["coffer_session"]!))
            #expect(record.1.mfaAuthenticated && record.1.isConsole && record.1.mfaAuthenticatedAt != nil)
            #expect(try await browser.get("/home").2.contains("Signed in with MFA</dt><dd>Yes"))
            // Five wrong codes end a pending sign-in: the password again.
            let other = rig.newBrowser()
            _ = try await other.signInRoot()
            try await other.get("/signin/mfa")
            for _ in 0..<4 {
                #expect(try await other.post("/signin/mfa", ["serial": serial, "code": "000000"]).0 == .unauthorized)
            }
            #expect(try await other.post("/signin/mfa", ["serial": serial, "code": "000000"]).1[.location] == "/signin")
            #expect(try await other.get("/signin/mfa").1[.location] == "/signin")
            // A signed-in root enrols another device only with a code of a device it already has:
            // a stolen console cookie alone cannot add the thief's phone.
            try await browser.get("/security/mfa/new")
            let wizard = try await browser.post("/security/mfa/new", ["name": "second-phone"])
            #expect(wizard.2.contains("Confirm with a device you already have"))
            let seed = try #require(wizard.2.range(of: #"id="secret-key">"#).map { String(wizard.2[$0.upperBound...].prefix { $0 != "<" }) })
            let second = try TOTPParameters(secret: Base32.decode(seed))
            let step = second.step(at: Int64(Date().timeIntervalSince1970))
            let newSerial = "arn:aws:iam::\(rig.account):mfa/second-phone"
            let noStepUp = try await browser.post("/security/mfa/enable", ["serial": newSerial, "code1": second.code(step: step - 1),
                                                                            "code2": second.code(step: step)])
            #expect(noStepUp.0 == .badRequest || noStepUp.0 == .forbidden)
            #expect(try rig.instance.store.readNow { try $0.device(newSerial) }?.userName == nil)
            // /users/root is no IAM user's page: the root's devices are not deactivated there.
            #expect(try await browser.post("/users/root/deactivate-mfa", ["serial": serial]).0 == .notFound)
            #expect(try rig.instance.store.readNow { try $0.device(serial) }?.userName == "root")
        }
    }

    @Test("A user whose policies require MFA and who has no device lands in the enrolment wizard")
    func ledToEnrolment() async throws {
        try await withConsole { rig in
            _ = try await rig.registry.users.createUser(Rig.root, name: "fay", path: nil)
            _ = try await rig.registry.passwords.createLoginProfile(user: "fay", password: "Fay-Pass-Word-1", resetRequired: false)
            try await rig.registry.policies.putInlinePolicy(.user("fay"), name: "mfa-or-nothing", document: """
                {"Version":"2012-10-17","Statement":[
                 {"Effect":"Allow","Action":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:ListMFADevices"],
                  "Resource":["arn:aws:iam::*:mfa/fay","arn:aws:iam::*:user/fay"]},
                 {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}
                """)
            let signIn = try await rig.browser.signIn(account: rig.account, user: "fay", password: "Fay-Pass-Word-1")
            #expect(signIn.1[.location] == "/security/mfa/new")
            #expect(try await rig.browser.get("/home").2.contains("Your policies require MFA"))
            // Without MFA in the session, the condition keeps S3 closed.
            #expect(try await rig.browser.get("/buckets").0 == .forbidden)
            // The wizard works for her (the policy allows her own device).
            try await rig.browser.get("/security/mfa/new")
            let wizard = try await rig.browser.post("/security/mfa/new", ["name": "fay"])
            #expect(wizard.0 == .ok)
            #expect(wizard.2.contains(#"id="qr""#))
        }
    }

    @Test("Console actions go through the API's authorization point")
    func authorization() async throws {
        try await withConsole { rig in
            _ = try await rig.registry.users.createUser(Rig.root, name: "erin", path: nil)
            _ = try await rig.registry.passwords.createLoginProfile(user: "erin", password: "Erin-Pass-Word-1", resetRequired: false)
            _ = try await rig.instance.engine.createBucket("erins-bucket", region: "us-east-1")
            let browser = rig.browser
            _ = try await browser.signIn(account: rig.account, user: "erin", password: "Erin-Pass-Word-1")
            // No policy: nothing is allowed, in the API's words, and the refusal is audited.
            let buckets = try await browser.get("/buckets")
            #expect(buckets.0 == .forbidden)
            #expect(buckets.2.contains("is not authorized to perform: s3:ListAllMyBuckets"))
            #expect(try await browser.get("/users").0 == .forbidden)
            try await browser.get("/home")
            #expect(try await browser.post("/buckets", ["name": "erin-made-this"]).0 == .forbidden)
            #expect(try await !rig.instance.engine.listBuckets().contains { $0.name == "erin-made-this" })
            let denied = try rig.instance.store.readNow { try $0.auditPage(before: nil, principalSuffix: "/erin", outcome: "denied", limit: 20) }
            #expect(denied.contains { $0.event == "S3:ListBuckets" } && denied.contains { $0.event == "S3:CreateBucket" })
            // With a policy for one bucket: that bucket only.
            try await rig.registry.policies.putInlinePolicy(.user("erin"), name: "one-bucket", document: """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:ListBucketVersions",
                "s3:GetBucketVersioning","s3:PutObject","s3:GetObject"],"Resource":["arn:aws:s3:::erins-bucket","arn:aws:s3:::erins-bucket/*"]}]}
                """)
            #expect(try await browser.get("/buckets/erins-bucket/objects").0 == .ok)
            var upload = HTTPFields()
            upload[ConsoleResponder.csrfHeader] = browser.csrf
            upload[.contentType] = "text/plain"
            let put = try await browser.send(.put, "/buckets/erins-bucket/upload?key=docs/a.txt", body: Array("hello".utf8), headers: upload)
            #expect(put.0 == .ok)
            let (_, stored) = try rig.instance.engine.read(bucket: "erins-bucket", key: "docs/a.txt", versionID: nil)
            #expect(stored.size == 5 && stored.headers.fields.contains { $0.name.lowercased() == "content-type" && $0.value == "text/plain" })
            let download = try await browser.get("/buckets/erins-bucket/download?key=docs/a.txt")
            #expect(download.0 == .ok && download.2 == "hello")
            #expect(download.1[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(download.1[.contentSecurityPolicy]?.hasPrefix("sandbox") == true)
            // Deleting is not in the policy.
            let delete = try await browser.post("/buckets/erins-bucket/delete", ["v": "docs/a.txt", "back": "docs/",
                                                                                     "confirm": "delete"])
            #expect(delete.0 == .forbidden)
            #expect(delete.2.contains("s3:DeleteObject"))
        }
    }

    @Test("A permanent delete on an MFA Delete bucket needs the root's code, through the API's gate")
    func permanentDelete() async throws {
        try await withConsole { rig in
            let (serial, totp) = try await rig.rootDevice()
            let engine = rig.instance.engine
            _ = try await engine.createBucket("vault", region: "us-east-1")
            let step = totp.step(at: Int64(Date().timeIntervalSince1970))
            try await engine.putVersioning("vault", .init(status: .enabled, mfaDelete: true), principal: Principal(userName: "root"),
                                           mfa: PresentedMFA(header: "\(serial) \(totp.code(step: step + 1))"))
            let browser = rig.browser
            var upload = HTTPFields()
            _ = try await browser.signInRoot()
            try await browser.get("/signin/mfa")
            _ = try await browser.post("/signin/mfa", ["serial": serial, "code": totp.code(step: step)])
            // step was used by the enable; the sign-in needs a fresh code: wait for none, use a wrong one first.
            if try await browser.get("/home").0 != .ok {
                // The window is one step each way; step+1 went to MFA Delete, so the next one (step+2)
                // is reached within 30 s.
                while totp.step(at: Int64(Date().timeIntervalSince1970)) + 1 < step + 2 { try await Task.sleep(for: .milliseconds(500)) }
                _ = try await browser.post("/signin/mfa", ["serial": serial, "code": totp.code(step: step + 2)])
            }
            #expect(try await browser.get("/home").0 == .ok)
            upload[ConsoleResponder.csrfHeader] = browser.csrf
            _ = try await browser.send(.put, "/buckets/vault/upload?key=ledger.txt", body: Array("v1".utf8), headers: upload)
            _ = try await browser.send(.put, "/buckets/vault/upload?key=ledger.txt", body: Array("v2".utf8), headers: upload)
            let versions = try await engine.listObjectVersions(bucket: "vault", .init(prefix: "ledger"))
            #expect(versions.entries.count == 2)
            let oldest = versions.entries[1].versionID
            let page = try await browser.get("/buckets/vault/objects?versions=1")
            #expect(page.2.contains(oldest) && page.2.contains("a permanent delete needs a code"))
            let refused = try await browser.post("/buckets/vault/delete", ["v": "\(oldest) ledger.txt", "versions": "1", "back": "",
                                                                              "confirm": "permanently delete"])
            #expect(refused.0 == .forbidden)
            #expect(refused.2.contains("type the code your MFA device shows now"))
            #expect(refused.2.contains("(AccessDenied: Mfa Authentication must be used for this request)"))
            let wrong = try await browser.post("/buckets/vault/delete", ["v": "\(oldest) ledger.txt", "versions": "1", "confirm": "permanently delete",
                                                                         "back": "", "serial": serial, "code": "123456"])
            #expect(wrong.0 == .forbidden)
            #expect(wrong.2.contains("the MFA code was not accepted"))
            #expect(try await engine.listObjectVersions(bucket: "vault", .init(prefix: "ledger")).entries.count == 2)
            // The next unused step of the device.
            let last = try #require(try rig.instance.store.readNow { try $0.device(serial) }?.lastStep)
            while totp.step(at: Int64(Date().timeIntervalSince1970)) + 1 < last + 1 { try await Task.sleep(for: .milliseconds(500)) }
            let done = try await browser.post("/buckets/vault/delete", ["v": "\(oldest) ledger.txt", "versions": "1", "confirm": "permanently delete", "back": "",
                                                                        "serial": serial, "code": totp.code(step: last + 1)])
            #expect(done.0 == .seeOther)
            #expect(try await engine.listObjectVersions(bucket: "vault", .init(prefix: "ledger")).entries.map(\.versionID) != [])
            #expect(try await !engine.listObjectVersions(bucket: "vault", .init(prefix: "ledger")).entries.contains { $0.versionID == oldest })
            // An IAM user, even one allowed to delete versions, is offered no code box (MFA Delete
            // takes the root's codes only) and is told so, in words, if it tries.
            _ = try await rig.registry.users.createUser(Rig.root, name: "gil", path: nil)
            _ = try await rig.registry.passwords.createLoginProfile(user: "gil", password: "Gil-Pass-Word-1", resetRequired: false)
            try await rig.registry.policies.putInlinePolicy(.user("gil"), name: "vault", document: """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucketVersions","s3:DeleteObjectVersion"],
                "Resource":["arn:aws:s3:::vault","arn:aws:s3:::vault/*"]}]}
                """)
            let gil = rig.newBrowser()
            _ = try await gil.signIn(account: rig.account, user: "gil", password: "Gil-Pass-Word-1")
            let seen = try await gil.get("/buckets/vault/objects?versions=1")
            #expect(seen.0 == .ok && seen.2.contains("id=\"root-only\"") && !seen.2.contains("mfa-code-delete"))
            let remaining = try await engine.listObjectVersions(bucket: "vault", .init(prefix: "ledger")).entries[0].versionID
            let tried = try await gil.post("/buckets/vault/delete", ["v": "\(remaining) ledger.txt", "versions": "1", "back": "",
                                                                     "confirm": "permanently delete"])
            #expect(tried.0 == .forbidden && tried.2.contains("only the root user (the bucket owner)"))
        }
    }

    @Test("A root whose MFA devices are all security keys changes them only with its password again")
    func keyOnlyStepUp() async throws {
        try await withConsole { rig in
            let time = Int64(Date().timeIntervalSince1970 * 1000)
            let key = DeviceRecord(serial: "arn:aws:iam::\(rig.account):u2f/root/key-TEST", kind: .securityKey, name: "key",
                                   path: "/", sealedSeed: [0xa0], algorithm: "ES256", digits: 0, period: 0, userName: "root",
                                   enabled: time, created: time, lastStep: 0, creator: "root")
            try await rig.instance.store.write { try $0.insertSecurityKey(key, credentialID: [1, 2, 3], format: "none") }
            // Signed in (a pending session promoted by hand: the key's ceremony is the browser suite's).
            _ = try await rig.browser.signInRoot()
            let pending = try #require(rig.browser.cookies["coffer_session"])
            var record = try #require(try rig.instance.store.readNow { try $0.consoleSession(tokenHash: Registry.tokenHash(pending)) })
            record.stage = .active
            record.mfaAt = time
            let active = record
            try await rig.instance.store.write { try $0.saveConsoleSession(active) }
            let security = try await rig.browser.get("/security")
            #expect(security.2.contains("Security key") && security.2.contains("Remove…"))
            var headers = HTTPFields()
            headers[ConsoleResponder.csrfHeader] = rig.browser.csrf
            headers[.contentType] = "application/x-www-form-urlencoded"
            let without = try await rig.browser.send(.post, "/security/webauthn/register", body: Array("name=second".utf8), headers: headers)
            #expect(without.0 == .forbidden && without.2.contains("root password is not correct"))
            let withPassword = try await rig.browser.send(.post, "/security/webauthn/register",
                                                          body: Array("name=second&stepPassword=\(Percent.encode(Self.rootPassword))".utf8),
                                                          headers: headers)
            #expect(withPassword.0 == .badRequest && withPassword.2.contains("incomplete"), "\(withPassword.0) \(withPassword.2)")  // past the step-up
            // Removing the key: first a confirmation that asks for the password and the word; then
            // the password again, too.
            let asked = try await rig.browser.post("/security/mfa/remove", ["serial": key.serial])
            #expect(asked.0 == .ok && asked.2.contains(#"name="stepPassword""#) && asked.2.contains("type <strong>remove</strong>"))
            let wrongWord = try await rig.browser.post("/security/mfa/remove", ["serial": key.serial, "confirm": "Remove",
                                                                                "stepPassword": Self.rootPassword])
            #expect(wrongWord.0 == .unprocessableContent && wrongWord.2.contains("Nothing was changed"))
            #expect(try await rig.browser.post("/security/mfa/remove", ["serial": key.serial, "confirm": "remove"]).0 == .forbidden)
            #expect(try rig.instance.store.readNow { try $0.device(key.serial) } != nil)
            let removed = try await rig.browser.post("/security/mfa/remove", ["serial": key.serial, "confirm": "remove",
                                                                              "stepPassword": Self.rootPassword])
            #expect(removed.0 == .seeOther)
            #expect(try rig.instance.store.readNow { try $0.device(key.serial) } == nil)
        }
    }

    @Test("Every template loads from the resource files and renders; a missing one stops the console from starting")
    func assets() throws {
        let assets = try ConsoleAssets.checked()
        for template in ConsoleTemplate.allCases where template != .stepUp && template != .mfaFields {
            let html = try #require(assets.library.render(["title": "T"], withTemplate: template.rawValue), "\(template)")
            #expect(!html.isEmpty, "\(template)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-assets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("templates"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for template in ConsoleTemplate.allCases where template != .audit {
            try assets.texts[template]!.write(to: folder.appendingPathComponent("templates/\(template.rawValue).mustache"),
                                              atomically: true, encoding: .utf8)
        }
        try assets.css.write(to: folder.appendingPathComponent("console.css"), atomically: true, encoding: .utf8)
        try assets.script.write(to: folder.appendingPathComponent("console.js"), atomically: true, encoding: .utf8)
        #expect(throws: ConsoleAssets.LoadError.self) { try ConsoleAssets.load(from: folder) }
        try "{{#unclosed}}".write(to: folder.appendingPathComponent("templates/audit.mustache"), atomically: true, encoding: .utf8)
        #expect(throws: ConsoleAssets.LoadError.self) { try ConsoleAssets.load(from: folder) }
    }

    @Test("Typed views reach the templates as values: nested rows, nil absent, the step-up part spread in")
    func views() throws {
        let view = MFAWizardView(serial: "arn:aws:iam::1:mfa/x", qr: nil, qrSize: nil, seed: nil,
                                 stepUp: StepUp(confirm: true, rootDevices: [DeviceOption(serial: "s")], has_rootDevices: true),
                                 error: "e")
        let values = ConsoleResponder.values(of: view)
        #expect(values["serial"] as? String == "arn:aws:iam::1:mfa/x" && values["qr"] == nil && values["error"] as? String == "e")
        #expect(values["confirm"] as? Bool == true && values["stepUp"] == nil)
        #expect((values["rootDevices"] as? [[String: Any]])?.first?["serial"] as? String == "s")
        let html = try #require(try ConsoleAssets.checked().library.render(values, withTemplate: "mfa-wizard"))
        #expect(html.contains("arn:aws:iam::1:mfa/x") && html.contains(#"<option value="s">"#) && !html.contains("id=\"qr\""))
    }

    @Test("Every ?done= notice is defined once (a repeated key in the literal traps on first use: a remote kill)")
    func notices() {
        #expect(ConsoleResponder.notices["key-updated"] != nil && ConsoleResponder.notices["iam-policy-saved"] != nil)
        #expect(AuditWords.event("Console:CreateUser") == ("Created a user", "CreateUser · console"))
        #expect(AuditWords.split("PutBucketMFADeleteThing") == "Put bucket MFA delete thing")
    }

    @Test("Routes: Hummingbird's router, names percent-decoded, nothing else answers")
    func routes() async throws {
        try await withConsole { rig in
            #expect(try await rig.browser.signInRoot().0 == .seeOther)
            _ = try await rig.instance.registry.users.createUser(Principal(userName: "root"), name: "a+b", path: nil)
            #expect(try await rig.browser.get("/users/a%2Bb").0 == .ok)  // the name, decoded
            for path in ["/users/a%2Fb", "/users/%ZZ", "/static/other.js", "/" + String(repeating: "a", count: 3000),
                         "/buckets/x/upload", "/nowhere"] {
                #expect(try await rig.browser.get(path).0 == .notFound, "\(path)")
            }
            #expect(try await rig.browser.send(.delete, "/buckets/x", body: [], headers: [:]).0 != .ok)
            // Every state change is behind the CSRF check; the sign-in steps too.
            for path in ["/buckets", "/users", "/signout", "/signin", "/buckets/b/delete"] {
                #expect(try await rig.browser.post(path, ["name": "x"], csrf: "wrong").0 == .forbidden, "\(path)")
            }
        }
    }
}
