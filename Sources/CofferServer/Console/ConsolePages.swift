import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's sign-in steps and the account pages (home, security credentials, users, audit).
extension ConsoleResponder {
    /// `/`: a sign-in left half done resumes where it stopped.
    func start(_ call: Call) -> Response {
        switch call.session?.stage {
        case .active: return Self.redirect("/home")
        case .code: return Self.redirect("/signin/mfa")
        case .newPassword: return Self.redirect("/password")
        case nil: return Self.redirect("/signin")
        }
    }

    /// `GET /signout` never signs out by itself (a link or an image could): it shows the button that does.
    func signOutPage(_ call: Call) -> Response {
        guard call.session != nil else { return Self.redirect("/signin") }
        return page(SignOutView(), call: call)
    }

    func mfaNamePage(_ call: Call) -> Response {
        page(MFANameView(name: call.caller.userName, keysNeedName: keysNeedAName(call),
                         smsUnavailable: registry.sms.unavailableReason(for: call.caller.userName)), call: call)
    }

    func authorize(_ request: S3Request, _ call: Call) async throws {
        try await s3.authorizer.authorize(request, principal: call.caller, connection: call.connection)
    }

    /// Authorizes an IAM call with the parameters that name its resource, as the IAM API would.
    func authorize(_ action: IAMAction, _ form: [String: String] = [:], _ call: Call) async throws {
        try await s3.queryAPI.authorize(QueryCall(action: action, form: form, caller: call.caller, info: call.info),
                                        principal: call.caller, connection: call.connection)
    }

    /// Whether the caller may make an IAM call (for what a page shows; nothing audited).
    func may(_ action: IAMAction, _ form: [String: String] = [:], _ call: Call) async -> Bool {
        (try? await s3.queryAPI.permits(QueryCall(action: action, form: form, caller: call.caller, info: call.info),
                                  principal: call.caller, connection: call.connection)) ?? false
    }

    /// The condition keys of a console request, for the decisions the console asks of the
    /// policies directly (an action no API call stands for).
    func policyKeys(_ call: Call) -> [String: [String]] {
        s3.authorizer.keys(call.caller, connection: call.connection, extra: [])
    }

    /// An error in words for the page: the API's message, with its code. A validation error that
    /// quotes a regular expression is said in words instead.
    static func words(_ error: any Error) -> String {
        switch error {
        case let error as S3Error: "\(error.message) (\(error.code.rawValue))"
        case let error as IAMError where error.code == .validationError:
            if let plain = plainValidation(error.message) { "\(plain) (\(error.code.rawValue))" }
            else { "\(error.message) (\(error.code.rawValue))" }
        case let error as IAMError: "\(error.message) (\(error.code.rawValue))"
        case let problem as Problem: problem.message
        case let refusal as SMSRefusal: refusal.message
        case is StoreBusy: "Coffer is busy just now: nothing was changed. Try again in a moment."
        default: "The request failed. Please try again."
        }
    }

    /// What a validation error about a name, path, serial or code asks for, said for people.
    static func plainValidation(_ message: String) -> String? {
        guard message.contains("regular expression pattern"), let start = message.range(of: "Value at '"),
              let end = message[start.upperBound...].firstIndex(of: "'")
        else { return nil }
        switch message[start.upperBound..<end] {
        case "userName", "groupName", "policyName", "roleName", "newUserName":
            return "A name may use letters, digits and the characters + = , . @ _ - (no spaces), 1 to 64 of them."
        case "virtualMFADeviceName":
            return "A device name may use letters, digits and the characters + = , . @ _ - (no spaces)."
        case "path":
            return "A path begins and ends with / and holds only printable characters, without spaces."
        case "serialNumber":
            return "That is not an MFA device's serial number or ARN."
        case "authenticationCode1", "authenticationCode2", "authenticationCode", "code", "tokenCode":
            return "An MFA code is six digits, as your device shows it."
        default:
            return nil
        }
    }

    /// An ARN or serial cut after each `:` and `/` — where the page may wrap it (`<wbr>`), never
    /// in the middle of an account number or a name.
    static func joints(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == ":" || character == "/" {
                parts.append(current)
                current = ""
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    static func status(of error: any Error) -> HTTPResponse.Status {
        (error as? any HTTPStatusError)?.httpStatus ?? .badRequest
    }

    /// Secrets and codes travel only over HTTPS or loopback (the API's transport rule).
    func requireSecureTransport(_ call: Call) throws {
        if let reason = call.connection.insecureMFAReason { throw Problem(status: .forbidden, message: reason) }
    }

    /// Browsers refuse WebAuthn on an IP-address origin ("This is an invalid domain"): on such a
    /// page, the address to use instead (the same console under `localhost`); nil on a name.
    func keysNeedAName(_ call: Call) -> String? {
        guard let (host, port) = HostHeader.split(call.request.head.authority ?? ""), IPLiteral.isAddress(host) else { return nil }
        return (isTLS ? "https" : "http") + "://localhost" + (port.map { ":\($0)" } ?? "") + "/security/mfa/new"
    }

    static func randomToken() -> String {
        SecureRandom.string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", count: 43)
    }

    // MARK: Sign-in

    func signInPage(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok, form: [String: String] = [:])
        -> Response {
        if call.session?.stage == .active { return Self.redirect("/home") }
        var headers = HTTPFields()
        var csrf = call.cookies[call.preCookie] ?? ""
        if csrf.utf8.count < 32 || csrf.utf8.count > 64 {
            csrf = Self.randomToken()
            headers.append(HTTPField(name: .setCookie, value: cookie(call, call.preCookie, csrf)))
        }
        let view = SignInView(account: form["account"] ?? "", user: form["user"] ?? "", iam: form["kind"] == "iam", csrf: csrf,
                              error: error, notice: error == nil ? call.query["done"].flatMap { Self.notices[$0] } : nil)
        var response = page(view, call: nil, status: status, headers: headers)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func signIn(_ call: Call) async throws -> Response {
        if call.connection.insecureMFAReason != nil {
            return signInPage(call, error: "Sign-in needs HTTPS: plain HTTP is accepted only from this machine "
                + "(or with --allow-insecure-mfa).", status: .forbidden, form: call.form)
        }
        let password = call.form["password"] ?? ""
        let result: Registry.SignInResult
        if call.form["kind"] == "iam" {
            result = try await registry.console.consoleSignIn(accountID: call.form["account"]?.trimmingCharacters(in: .whitespaces) ?? "",
                                                      userName: call.form["user"]?.trimmingCharacters(in: .whitespaces) ?? "",
                                                      password: password, source: call.source)
        } else {
            result = try await registry.console.consoleSignIn(accountID: nil, userName: Registry.rootUser, password: password,
                                                      source: call.source)
        }
        switch result {
        case .session(let token, let record):
            let clear = cookie(call, call.preCookie, "", maxAge: 0)
            let session = cookie(call, call.sessionCookie, token)
            switch record.stage {
            case .code:
                let sent = await autoSendSMS(record, source: call.source)
                return Self.redirect("/signin/mfa" + sent, cookies: [session, clear])
            case .newPassword:
                s3.metrics.consoleSignIn(.success)
                return Self.redirect("/password", cookies: [session, clear])
            case .active:
                s3.metrics.consoleSignIn(.success)
                return Self.redirect(try await landing(record.userName), cookies: [session, clear])
            }
        case .refused:
            s3.metrics.consoleSignIn(.wrongPassword)
            return signInPage(call, error: call.form["kind"] == "iam"
                              ? "The account ID, user name or password is not correct."
                              : "The password is not correct.", status: .unauthorized, form: call.form)
        case .throttled(let seconds):
            s3.metrics.consoleSignIn(.throttled)
            return signInPage(call, error: "Too many failed sign-ins from your address. Try again in \(seconds) seconds.",
                              status: .tooManyRequests, form: call.form)
        case .busy:
            return signInPage(call, error: "The server is busy checking other sign-ins. Try again in a few seconds.",
                              status: .serviceUnavailable, form: call.form)
        case .expired:
            s3.metrics.consoleSignIn(.expired)
            return signInPage(call, error: "Your password has expired. Ask your administrator to set a new one.",
                              status: .forbidden, form: call.form)
        }
    }

    /// Where a signed-in user lands: the enrolment wizard when their policies require MFA and they
    /// have no device, else home.
    func landing(_ user: String) async throws -> String {
        guard try await registry.console.policiesMentionMFA(user: user) else { return "/home" }
        return try await registry.devices.enabledDevices(user: user).isEmpty ? "/security/mfa/new" : "/home"
    }

    func enabledDevices(_ user: String) async throws -> [DeviceRecord] {
        try await registry.devices.enabledDevices(user: user)
    }

    /// The devices that give codes (virtual and hardware TOTP): the only ones for codes, x-amz-mfa and MFA Delete.
    func totpDevices(_ user: String) async throws -> [DeviceRecord] {
        try await enabledDevices(user).filter(\.kind.isTOTP)
    }

    func codePage(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok, notice: String? = nil,
                  sent: String? = nil) async throws -> Response {
        guard let session = call.session, session.stage == .code else { return Self.redirect("/signin") }
        let all = try await enabledDevices(session.userName)
        let totp = all.filter(\.kind.isTOTP)
        let phones = all.filter { $0.kind == .sms }
        // A code texted right after the password (the only device is one phone) counts as sent.
        let sent = sent ?? (call.query["done"] == "sms-sent" && phones.count == 1 ? phones[0].serial : nil)
        // The phone a code was just sent to comes first in the list (and is the one chosen).
        let chosen = sent ?? (phones.count == 1 && totp.isEmpty ? phones[0].serial : nil)
        let devices = (phones.filter { $0.serial == chosen } + totp + phones.filter { $0.serial != chosen }).map {
            CodeView.Device(serial: $0.serial, name: $0.kind == .sms ? "SMS to \($0.name)" : $0.name, selected: $0.serial == chosen,
                            sms: $0.kind == .sms)
        }
        var view = CodeView(devices: devices, several: devices.count > 1, hasTOTP: !totp.isEmpty,
                            hasKeys: all.contains { $0.kind == .securityKey }, error: error, notice: notice)
        view.sms = phones.map { CodeView.Phone(serial: $0.serial, masked: $0.name, sent: $0.serial == sent) }
        view.hasSMS = !phones.isEmpty
        view.hasCodes = !devices.isEmpty
        return page(view, call: call, status: status)
    }

    func code(_ call: Call) async throws -> Response {
        guard let token = call.token, let session = call.session, session.stage == .code else { return Self.redirect("/signin") }
        try requireSecureTransport(call)
        do {
            guard let (newToken, record) = try await registry.console.consoleVerifyCode(
                token: token, serial: call.form["serial"] ?? "", code: call.form["code"] ?? "", source: call.source)
            else { return Self.redirect("/signin") }
            s3.metrics.consoleSignIn(.success)
            let next = record.stage == .newPassword ? "/password" : "/home"
            return Self.redirect(next, cookies: [cookie(call, call.sessionCookie, newToken)])
        } catch let error as IAMError {
            s3.metrics.consoleSignIn(.wrongCode)
            // Too many wrong codes end the pending sign-in: back to the password.
            guard try await registry.console.consoleSession(token: token, allowing: [.code]) != nil else {
                return Self.redirect("/signin")
            }
            let text = error.code == .accessDenied
                ? "That code was not accepted: it is not the code your device shows now, or it was used already "
                    + "(each code works once). Type the code it shows now."
                : Self.words(error)
            return try await codePage(call, error: text, status: .unauthorized)
        } catch let refusal as SMSRefusal {
            s3.metrics.consoleSignIn(.wrongCode)
            guard try await registry.console.consoleSession(token: token, allowing: [.code]) != nil else {
                return Self.redirect("/signin")
            }
            return try await codePage(call, error: refusal.message, status: refusal.httpStatus, sent: call.form["serial"])
        }
    }

    func passwordRules() async throws -> String {
        guard let policy = try await registry.passwords.passwordPolicy() else {
            return "At least 8 characters, with three of: uppercase letters, lowercase letters, numbers, symbols."
        }
        var rules = ["at least \(policy.minimumLength) characters"]
        if policy.requireUppercase { rules.append("an uppercase letter") }
        if policy.requireLowercase { rules.append("a lowercase letter") }
        if policy.requireNumbers { rules.append("a number") }
        if policy.requireSymbols { rules.append("a symbol") }
        if let reuse = policy.reusePrevention { rules.append("not one of your last \(reuse) passwords") }
        return "The password needs " + rules.joined(separator: ", ") + "."
    }

    func passwordPage(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let session = call.session, session.stage == .newPassword || session.stage == .active else {
            return Self.redirect("/signin")
        }
        return page(PasswordView(forced: session.stage == .newPassword, rules: try await passwordRules(), error: error),
                    call: call, status: status)
    }

    func changePassword(_ call: Call) async throws -> Response {
        guard let session = call.session, let principal = call.principal,
              session.stage == .newPassword || session.stage == .active
        else { return Self.redirect("/signin") }
        let old = call.form["old"] ?? "", new = call.form["new"] ?? ""
        guard new == call.form["confirm"] else {
            return try await passwordPage(call, error: "The new password and its confirmation differ.", status: .badRequest)
        }
        do {
            if principal.isRoot {
                try requireSecureTransport(call)
                try await registry.console.changeRootPassword(old: old, new: new, source: call.source)
            } else {
                try requireSecureTransport(call)
                if session.stage == .active {
                    try await authorize(.changePassword, [:], call)
                } else {
                    // A change the administrator required needs no policy (AWS attaches
                    // IAMUserChangePassword for it) — but an explicit Deny still refuses it.
                    do {
                        try await registry.access.resolving {
                            try registry.access.authorize(principal, action: "iam:ChangePassword", resource: principal.arn,
                                                          bucket: nil, service: .iam) { policyKeys(call) }
                        }
                    } catch let denial as Denial where denial.isExplicit {
                        await s3.authorizer.refusals.record(denial, event: "Console:ChangePassword", principal: principal,
                                                            connection: call.connection)
                        throw IAMError(.accessDenied, denial.message)
                    } catch is Denial {}
                }
                try await registry.passwords.changePassword(principal, old: old, new: new, info: call.info)
            }
        } catch {
            return try await passwordPage(call, error: "The password was not changed: " + Self.words(error), status: Self.status(of: error))
        }
        // Every session of the user ended with the old password; this browser carries on.
        let token = try await registry.console.consoleContinue(after: session, source: call.source)
        let next = session.stage == .newPassword ? try await landing(session.userName) : "/home?done=password-changed"
        return Self.redirect(next, cookies: [cookie(call, call.sessionCookie, token)])
    }

    func signOut(_ call: Call) async throws -> Response {
        if let token = call.token { try await registry.console.endConsoleSession(token: token, source: call.source) }
        return Self.redirect("/signin?done=signed-out", cookies: [cookie(call, call.sessionCookie, "", maxAge: 0)])
    }

    // MARK: Confirmations

    /// A destructive step's confirmation: what will go, in words, and — when AWS's console asks
    /// for one — a word to type. The form posts back to `action` with `fields` and `confirm`.
    struct Confirmation {
        var heading: String
        var text: String
        var action: String
        var fields: [(String, String)]
        /// What to type (nil: the button alone confirms).
        var word: String?
        var button: String
        var back: String
        var warnings: [String] = []
        var dangerous = true
        /// The root's own devices: a code of the one removed, or the step-up fields.
        var askCode = false
        var stepUp = StepUp()
    }

    /// Whether the person confirmed: the typed word matches exactly (spaces around it aside), or
    /// — without a word — the button was pressed.
    static func confirmed(_ call: Call, word: String?) -> Bool {
        guard let typed = call.form["confirm"] else { return false }
        guard let word else { return typed == "yes" }
        return typed.trimmingCharacters(in: .whitespaces) == word
    }

    /// The confirmation page; with `error` after a wrong word (422, nothing done).
    func confirmationPage(_ confirmation: Confirmation, call: Call, error: String? = nil) -> Response {
        let view = ConfirmView(title: confirmation.heading, heading: confirmation.heading, text: confirmation.text,
                               action: confirmation.action, fields: confirmation.fields.map { ConfirmView.Field(name: $0.0, value: $0.1) },
                               button: confirmation.button, buttonClass: confirmation.dangerous ? "danger" : "primary",
                               back: confirmation.back, warnings: confirmation.warnings, word: confirmation.word,
                               askCode: confirmation.askCode, stepUp: confirmation.stepUp, error: error)
        return page(view, call: call, status: error == nil ? .ok : .unprocessableContent)
    }

    /// The page to show before acting: nil once the person has confirmed.
    func unconfirmed(_ confirmation: Confirmation, _ call: Call) -> Response? {
        if Self.confirmed(call, word: confirmation.word) { return nil }
        let error = call.form["confirm"] == nil ? nil
            : "Nothing was changed: to confirm, type \u{201C}\(confirmation.word ?? "yes")\u{201D}."
        return confirmationPage(confirmation, call: call, error: error)
    }

    // MARK: Home

    func home(_ call: Call) async throws -> Response {
        let principal = call.caller
        var view = HomeView(accountID: registry.accountID, arnJoints: Self.joints(principal.arn),
                            mfa: principal.mfaAuthenticated, isRoot: principal.isRoot)
        if principal.isRoot { view.rootMFA = try await !enabledDevices(Registry.rootUser).isEmpty }
        if !principal.isRoot, try await registry.console.policiesMentionMFA(user: principal.userName),
           try await enabledDevices(principal.userName).isEmpty {
            view.needsMFA = true
        }
        if await may(.listUsers, [:], call), await may(.getCredentialReport, [:], call) {
            let without = try await registry.account.usersWithoutMFA()
            view.showUsers = true
            view.withoutMFA = without
            view.has_withoutMFA = !without.isEmpty
            view.hasUsers = try await without.isEmpty ? registry.users.hasAnyUser() : true
        }
        return page(view, call: call)
    }

    // MARK: My security credentials

    func security(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok,
                  newKey: (String, String)? = nil) async throws -> Response {
        let principal = call.caller
        let devices = try await enabledDevices(principal.userName).map { device in
            SecurityView.Device(serial: device.serial, serialJoints: Self.joints(device.serial), enabled: Self.date(device.enabled),
                                csrf: call.csrf,
                                kind: Self.kindWords(device), totp: device.kind.isTOTP)
        }
        // (`&&` and `||` take no `await` on their right: the same short circuits, spelled out.)
        let mayCreateKey = principal.isRoot ? false : await may(.createAccessKey, [:], call)
        let mayAssign = principal.isRoot ? true : await may(.enableMFADevice, ["UserName": principal.userName], call)
            ? true : await may(.createVirtualMFADevice, ["VirtualMFADeviceName": principal.userName], call)
        var view = SecurityView(
            devices: devices, has_devices: !devices.isEmpty,
            // The root's key is the server's configuration (COFFER_ROOT_ACCESS_KEY or the one
            // generated at the first start): listed here, changed there, never created here.
            rootKey: principal.isRoot && !rootAccessKey.isEmpty ? SecurityView.RootKey(accessKey: rootAccessKey) : nil,
            isRoot: principal.isRoot, newKey: newKey.map { SecurityView.NewKey(accessKey: $0.0, secret: $0.1) },
            mayCreateKey: mayCreateKey,
            mayAssign: mayAssign,
            error: error)
        if !principal.isRoot, await may(.listAccessKeys, [:], call) {
            view.keys = try await registry.users.listAccessKeys(principal, userName: nil).map { key in
                SecurityView.Key(accessKey: key.accessKey, status: key.status == .active ? "Active" : "Inactive",
                                 toggle: key.status == .active ? "Inactive" : "Active", created: Self.date(key.created))
            }
            view.has_keys = !view.keys.isEmpty
        }
        return page(view, call: call, status: status)
    }

    func createDevice(_ call: Call) async throws -> Response {
        let principal = call.caller
        let name = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        if call.form["type"] == "key" {
            // A security key: the page's script runs navigator.credentials.create.
            return page(KeyWizardView(name: name, stepUp: try await stepUp(call)), call: call)
        }
        if call.form["type"] == "sms" { return try await smsStart(call, user: principal.userName) }
        do {
            try requireSecureTransport(call)
            try await authorize(.createVirtualMFADevice, ["VirtualMFADeviceName": name], call)
            let device: NewVirtualDevice
            do {
                device = try await registry.devices.createVirtualDevice(principal, name: name, path: nil, tags: [], info: call.info)
            } catch let error as IAMError where error.code == .entityAlreadyExists {
                // An unfinished wizard of this caller's left the device unassigned: start it over.
                let serial = "arn:aws:iam::\(registry.accountID):mfa/\(name)"
                guard let existing = try await registry.devices.device(serial: serial), existing.userName == nil,
                      existing.creator == principal.userName || principal.isRoot
                else { throw error }
                try await authorize(.deleteVirtualMFADevice, ["SerialNumber": serial], call)
                try await registry.devices.deleteVirtualDevice(principal, serial: serial, info: call.info)
                device = try await registry.devices.createVirtualDevice(principal, name: name, path: nil, tags: [], info: call.info)
            }
            let size = Self.pngWidth(device.qrPNG)
            return await page(MFAWizardView(serial: device.serial, qr: Data(device.qrPNG).base64EncodedString(), qrSize: size,
                                       seed: device.base32Seed, stepUp: try stepUp(call)), call: call)
        } catch {
            return page(MFANameView(name: name, error: "The device was not created: " + Self.words(error)),
                        call: call, status: Self.status(of: error))
        }
    }

    /// A PNG's width, from its IHDR (the QR image is square).
    static func pngWidth(_ png: [UInt8]) -> Int {
        guard png.count > 24 else { return 0 }
        return png[16..<20].reduce(0) { $0 << 8 | Int($1) }
    }

    func enableDevice(_ call: Call) async throws -> Response {
        let principal = call.caller
        let serial = call.form["serial"] ?? ""
        do {
            try requireSecureTransport(call)
            try await authorize(.enableMFADevice, ["UserName": principal.userName, "SerialNumber": serial], call)
            let principal = try await stepUpRoot(call, event: "EnableMFADevice")
            try await registry.devices.enableDevice(principal, userName: principal.userName, serial: serial,
                                            code1: call.form["code1"] ?? "", code2: call.form["code2"] ?? "", info: call.info)
            return Self.redirect("/security?done=mfa-assigned")
        } catch {
            let text = (error as? IAMError)?.code == .invalidAuthenticationCode
                ? "The codes are not valid. Enter two consecutive codes: type one, wait for the app to show the next, type that."
                : Self.words(error)
            // The QR code stays on the page while the device is still this person's to assign.
            var view = MFAWizardView(serial: serial, stepUp: (try? await stepUp(call)) ?? StepUp(), error: text)
            if let setup = try? await registry.devices.pendingSetup(principal, serial: serial) {
                view.qr = Data(setup.qrPNG).base64EncodedString()
                view.qrSize = Self.pngWidth(setup.qrPNG)
                view.seed = setup.base32Seed
            }
            return page(view, call: call, status: Self.status(of: error))
        }
    }

    /// The root's devices are changed from the console only with a fresh code of one of the
    /// root's enabled devices (a stolen console cookie alone cannot enrol the thief's phone):
    /// the wizard's extra fields, when the root has a device.
    func stepUp(_ call: Call) async throws -> StepUp {
        guard call.caller.isRoot else { return StepUp() }
        let devices = try await totpDevices(Registry.rootUser).map { DeviceOption(serial: $0.serial) }
        if !devices.isEmpty { return StepUp(confirm: true, rootDevices: devices, has_rootDevices: true) }
        // Only security keys (which give no code): the root's password again.
        return StepUp(confirmPassword: try await !enabledDevices(Registry.rootUser).isEmpty)
    }

    /// Checks the step-up code for a change to the root's devices; the principal then counts as
    /// MFA-authenticated now. Others pass unchanged.
    func stepUpRoot(_ call: Call, event: String) async throws -> Principal {
        var principal = call.caller
        guard principal.isRoot, try await !enabledDevices(Registry.rootUser).isEmpty else { return principal }
        try requireSecureTransport(call)
        if try await totpDevices(Registry.rootUser).isEmpty {
            // Security keys only: a stolen console cookie does not know the password.
            try await registry.console.confirmRootPassword(call.form["stepPassword"] ?? "", source: call.source)
        } else {
            try await registry.console.confirmCode(principal, serial: call.form["stepSerial"] ?? "", code: call.form["stepCode"] ?? "",
                                           event: event, info: call.info)
        }
        principal.mfaAuthenticated = true
        principal.mfaAuthenticatedAt = engine.now()
        return principal
    }

    func cancelDevice(_ call: Call) async throws -> Response {
        let serial = call.form["serial"] ?? ""
        do {
            try await authorize(.deleteVirtualMFADevice, ["SerialNumber": serial], call)
            try await registry.devices.deleteVirtualDevice(call.caller, serial: serial, info: call.info)
            return Self.redirect("/security/mfa/new")
        } catch {
            return try await security(call, error: Self.words(error), status: Self.status(of: error))
        }
    }

    func resyncDevice(_ call: Call) async throws -> Response {
        let principal = call.caller
        let serial = call.form["serial"] ?? ""
        do {
            try requireSecureTransport(call)
            try await authorize(.resyncMFADevice, ["UserName": principal.userName, "SerialNumber": serial], call)
            try await registry.devices.resyncDevice(principal, userName: principal.userName, serial: serial,
                                            code1: call.form["code1"] ?? "", code2: call.form["code2"] ?? "", info: call.info)
            return Self.redirect("/security?done=mfa-resynced")
        } catch {
            return try await security(call, error: "The device was not resynchronized: " + Self.words(error),
                                      status: Self.status(of: error))
        }
    }

    /// Remove = deactivate, then delete a virtual device. The root's own devices need a fresh
    /// code of the device first (the API's rule: root MFA changes need MFA).
    func removeDevice(_ call: Call) async throws -> Response {
        var principal = call.caller
        let serial = call.form["serial"] ?? ""
        let kind = try? await registry.devices.device(serial: serial)?.kind
        var askCode = false
        var proof = StepUp()
        if principal.isRoot {
            // The root's own devices change only with a fresh proof, asked on the confirmation.
            if kind == .securityKey { proof = try await stepUp(call) } else { askCode = true }
        }
        let remove = Confirmation(
            heading: "Remove MFA device", text: "Remove \(serial) from \(principal.isRoot ? "the root user" : principal.userName)? "
                + "It will no longer be asked for at sign-in, and what needs MFA will need another device."
                + (kind == .virtual ? " The device's secret is deleted: to use the app again, assign a new device." : "")
                + " Removing a device signs you out.",
            action: "/security/mfa/remove", fields: [("serial", serial)], word: "remove", button: "Remove MFA device",
            back: "/security", askCode: askCode, stepUp: proof)
        if let page = unconfirmed(remove, call) { return page }
        do {
            try await authorize(.deactivateMFADevice, ["UserName": principal.userName, "SerialNumber": serial], call)
            if principal.isRoot {
                try requireSecureTransport(call)
                let isKey = try await registry.devices.device(serial: serial)?.kind == .securityKey
                if isKey {
                    principal = try await stepUpRoot(call, event: "DeactivateMFADevice")
                } else {
                    try await registry.console.confirmCode(principal, serial: serial, code: call.form["code"] ?? "",
                                                   event: "DeactivateMFADevice", info: call.info)
                    principal.mfaAuthenticated = true
                }
            }
            try await registry.devices.deactivateDevice(principal, userName: principal.userName, serial: serial, info: call.info)
            if try await registry.devices.device(serial: serial)?.kind == .virtual,
               await may(.deleteVirtualMFADevice, ["SerialNumber": serial], call) {
                try await registry.devices.deleteVirtualDevice(principal, serial: serial, info: call.info)
            }
        } catch {
            return try await security(call, error: "The device was not removed: " + Self.words(error), status: Self.status(of: error))
        }
        // Deactivating ended this user's sessions, this one included.
        return Self.redirect("/signin?done=signed-out", cookies: [cookie(call, call.sessionCookie, "", maxAge: 0)])
    }

    func createKey(_ call: Call) async throws -> Response {
        do {
            try requireSecureTransport(call)
            try await authorize(.createAccessKey, [:], call)
            let (key, secret) = try await registry.users.createAccessKey(call.caller, userName: nil)
            return try await security(call, newKey: (key.accessKey, secret))
        } catch {
            return try await security(call, error: "No access key was created: " + Self.words(error), status: Self.status(of: error))
        }
    }

    func updateKey(_ call: Call) async throws -> Response {
        let key = call.form["key"] ?? ""
        do {
            try await authorize(.updateAccessKey, ["AccessKeyId": key], call)
            try await registry.users.updateAccessKey(call.caller, userName: nil, accessKey: key, status: call.form["status"] ?? "")
            return Self.redirect("/security?done=key-updated")
        } catch {
            return try await security(call, error: Self.words(error), status: Self.status(of: error))
        }
    }

    func deleteKey(_ call: Call) async throws -> Response {
        let key = call.form["key"] ?? ""
        let delete = Confirmation(
            heading: "Delete access key", text: "Delete your access key \(key)? Programs that sign with it stop working at once; "
                + "a deleted key cannot be restored. To stop it for now, make it inactive instead.",
            action: "/security/keys/delete", fields: [("key", key)], word: key, button: "Delete access key", back: "/security")
        if let page = unconfirmed(delete, call) { return page }
        do {
            try await authorize(.deleteAccessKey, ["AccessKeyId": key], call)
            try await registry.users.deleteAccessKey(call.caller, userName: nil, accessKey: key)
            return Self.redirect("/security?done=key-deleted")
        } catch {
            return try await security(call, error: Self.words(error), status: Self.status(of: error))
        }
    }

    // MARK: Users

    func users(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok,
               form: [String: String] = ["reset": "true"]) async throws -> Response {
        try await authorize(.listUsers, [:], call)
        let page = try await registry.users.listUsers(call.caller, marker: call.query["after"], maxItems: 100)
        // The password, MFA and key columns come from what the credential report tells.
        let report = await may(.getCredentialReport, [:], call)
        let rows = await report
            ? try registry.account.summaries(of: page.items).map { summary in
                UsersView.Row(name: summary.user.name, created: Self.date(summary.user.created),
                              password: summary.hasPassword ? "Enabled" : "None",
                              mfa: summary.deviceKinds.isEmpty ? "Not assigned"
                                : summary.deviceKinds.map(Self.kindWords).joined(separator: ", "),
                              keys: String(summary.accessKeys))
            }
            : page.items.map { user in
                UsersView.Row(name: user.name, created: Self.date(user.created), password: "—", mfa: "—", keys: "—")
            }
        let view = UsersView(users: rows, accountID: registry.accountID, passwordRules: try await passwordRules(),
                             newName: form["name"] ?? "", newReset: form["reset"] == "true",
                             mayCreate: await may(.createUser, ["UserName": "*"], call), more: page.marker.map(Self.q), error: error)
        return self.page(view, call: call, status: status)
    }

    /// Validates everything first and creates the user whole — with its console password — or not
    /// at all (a password the policy refuses used to leave a user without one under a red error).
    func createUser(_ call: Call) async throws -> Response {
        let name = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = call.form["password"] ?? ""
        let resetRequired = call.form["reset"] == "true"
        do {
            try await authorize(.createUser, ["UserName": name], call)
            if !password.isEmpty {
                try requireSecureTransport(call)
                try await authorize(.createLoginProfile, ["UserName": name], call)
                let problems = await PasswordPolicy.violations(of: password, user: name,
                                                         policy: try registry.passwords.passwordPolicy())
                guard problems.isEmpty else {
                    throw Problem(status: .badRequest, message: problems.joined(separator: "; ") + ".")
                }
            }
            _ = try await registry.users.createUser(call.caller, name: name, path: nil)
            if !password.isEmpty {
                do {
                    _ = try await registry.passwords.createLoginProfile(user: name, password: password,
                                                                        resetRequired: resetRequired)
                } catch {
                    // Not half made: the user goes again (it was created a moment ago, by this call).
                    try? await registry.users.deleteUser(call.caller, name: name)
                    throw error
                }
            }
        } catch {
            return try await users(call, error: "The user was not created: " + Self.words(error), status: Self.status(of: error),
                                   form: ["name": name, "reset": resetRequired ? "true" : ""])
        }
        return Self.redirect("/users/\(Self.q(name))?done=user-created")
    }

    func user(_ call: Call, _ name: String, error: String? = nil, status: HTTPResponse.Status = .ok,
              newKey: (String, String)? = nil) async throws -> Response {
        try Self.requireIAMUser(name)
        try await authorize(.getUser, ["UserName": name], call)
        guard let record = try await registry.users.getUser(call.caller, name: name) else {
            throw Problem(status: .notFound, message: "There is no user named \(name).")
        }
        // Each part shows only what its own IAM call would tell this caller.
        let devices = await !may(.listMFADevices, ["UserName": name], call) ? []
            : try enabledDevices(name).enumerated().map { index, device in
                UserView.Device(serial: device.serial, serialJoints: Self.joints(device.serial), enabled: Self.date(device.enabled),
                                index: index, sms: device.kind == .sms ? Self.kindWords(device) : nil)
            }
        let attached = await !may(.listAttachedUserPolicies, ["UserName": name], call) ? []
            : try registry.policies.attachedPolicies(.user(name)).map { UserView.Policy(name: $0.name, arn: $0.arn, user: name) }
        let policies = await !may(.listPolicies, [:], call) ? []
            : try registry.policies.listPolicies(scope: .all, onlyAttached: false, pathPrefix: "/", marker: nil, maxItems: 200)
                .items.map { NamedArn(name: $0.name, arn: $0.arn) }
        let hasPassword: Bool? = await !may(.getLoginProfile, ["UserName": name], call) ? nil
            : try registry.passwords.hasLoginProfile(user: name)
        var view = UserView(
            title: "User \(name)", name: name, arnJoints: Self.joints(registry.userArn(record)), created: Self.date(record.created),
            devices: devices, has_devices: !devices.isEmpty, attached: attached, policies: policies,
            password: hasPassword.map { $0 ? "Enabled" : "None" } ?? "—",
            // Forms for what this caller may do, not for everything.
            mayDeactivate: await may(.deactivateMFADevice, ["UserName": name, "SerialNumber": "*"], call),
            mayDetach: await may(.detachUserPolicy, ["UserName": name, "PolicyArn": "*"], call),
            mayAttach: policies.isEmpty ? false : await may(.attachUserPolicy, ["UserName": name, "PolicyArn": "*"], call),
            maySetPassword: await may(hasPassword == true ? .updateLoginProfile : .createLoginProfile, ["UserName": name], call),
            mayDelete: await may(.deleteUser, ["UserName": name], call),
            newKey: newKey.map { SecurityView.NewKey(accessKey: $0.0, secret: $0.1) }, error: error)
        view.mayAssignSMS = registry.sms.unavailableReason(for: name) == nil ? await may(.enableMFADevice, ["UserName": name], call) : false
        if await may(.listAccessKeys, ["UserName": name], call) {
            let keys = try await registry.users.listAccessKeys(call.caller, userName: name)
            view.keys = []
            for key in keys {
                let used = try await registry.users.lastUsed(accessKey: key.accessKey)
                view.keys.append(UserView.Key(accessKey: key.accessKey, status: key.status == .active ? "Active" : "Inactive",
                                    toggle: key.status == .active ? "Inactive" : "Active", created: Self.date(key.created),
                                    lastUsed: used.map { "\(Self.date($0.time)) · \($0.service) · \($0.region)" } ?? "Never"))
            }
            view.showKeys = true
            view.has_keys = !keys.isEmpty
            view.mayCreateKey = keys.count < 2 ? await may(.createAccessKey, ["UserName": name], call) : false
            view.mayUpdateKey = await may(.updateAccessKey, ["UserName": name], call)
            view.mayDeleteKey = await may(.deleteAccessKey, ["UserName": name], call)
        }
        return page(view, call: call, status: status)
    }

    func createUserKey(_ call: Call, _ name: String) async throws -> Response {
        try Self.requireIAMUser(name)
        do {
            try requireSecureTransport(call)
            try await authorize(.createAccessKey, ["UserName": name], call)
            let (key, secret) = try await registry.users.createAccessKey(call.caller, userName: name)
            return try await user(call, name, newKey: (key.accessKey, secret))
        } catch {
            return try await user(call, name, error: "No access key was created: " + Self.words(error), status: Self.status(of: error))
        }
    }

    func updateUserKey(_ call: Call, _ name: String) async throws -> Response {
        try Self.requireIAMUser(name)
        let key = call.form["key"] ?? ""
        do {
            try await authorize(.updateAccessKey, ["UserName": name, "AccessKeyId": key], call)
            try await registry.users.updateAccessKey(call.caller, userName: name, accessKey: key, status: call.form["status"] ?? "")
        } catch {
            return try await user(call, name, error: Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/users/\(Self.q(name))?done=key-updated")
    }

    /// Deleting an access key asks for its id, as AWS's console does.
    func deleteUserKey(_ call: Call, _ name: String) async throws -> Response {
        try Self.requireIAMUser(name)
        let key = call.form["key"] ?? ""
        let delete = Confirmation(
            heading: "Delete access key", text: "Delete access key \(key) of \(name)? Programs that sign with it stop working at once; "
                + "a deleted key cannot be restored. To stop it for now, make it inactive instead.",
            action: "/users/\(Self.q(name))/keys/delete", fields: [("key", key)], word: key, button: "Delete access key",
            back: "/users/\(Self.q(name))")
        if let page = unconfirmed(delete, call) { return page }
        do {
            try await authorize(.deleteAccessKey, ["UserName": name, "AccessKeyId": key], call)
            try await registry.users.deleteAccessKey(call.caller, userName: name, accessKey: key)
        } catch {
            return try await user(call, name, error: Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/users/\(Self.q(name))?done=key-deleted")
    }

    /// The users pages are about IAM users: the root's devices are changed on its own page,
    /// with a fresh code.
    static func requireIAMUser(_ name: String) throws {
        guard name != Registry.rootUser else {
            throw Problem(status: .notFound, message: "The root user is not an IAM user: manage its MFA devices under My security credentials.")
        }
    }

    func deactivateUserDevice(_ call: Call, _ name: String) async throws -> Response {
        let serial = call.form["serial"] ?? ""
        try Self.requireIAMUser(name)
        let deactivate = Confirmation(
            heading: "Deactivate MFA device",
            text: "Deactivate \(serial) of user \(name)? \(name) will sign in without it, and what their policies allow "
                + "only with MFA stays out of reach until they assign a device again. Their console sessions end.",
            action: "/users/\(Self.q(name))/deactivate-mfa", fields: [("serial", serial)], word: "deactivate",
            button: "Deactivate MFA device", back: "/users/\(Self.q(name))")
        if let page = unconfirmed(deactivate, call) { return page }
        do {
            try await authorize(.deactivateMFADevice, ["UserName": name, "SerialNumber": serial], call)
            try await registry.devices.deactivateDevice(call.caller, userName: name, serial: serial, info: call.info)
        } catch {
            return try await user(call, name, error: "The device was not deactivated: " + Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/users/\(Self.q(name))?done=device-deactivated")
    }

    func attach(_ call: Call, _ name: String, attach: Bool) async throws -> Response {
        try Self.requireIAMUser(name)
        let arn = call.form["arn"] ?? ""
        let policyName = String(arn.split(separator: "/").last ?? Substring(arn))
        if !attach {
            let detach = Confirmation(
                heading: "Detach policy", text: "Detach \(policyName) from user \(name)? What it allows \(name) stops at once; "
                    + "what it denies is allowed again if another policy allows it.",
                action: "/users/\(Self.q(name))/detach", fields: [("arn", arn)], word: nil, button: "Detach policy",
                back: "/users/\(Self.q(name))")
            if let page = unconfirmed(detach, call) { return page }
        } else if call.form["confirm"] != "yes", await may(.attachUserPolicy, ["UserName": name, "PolicyArn": arn], call) {
            // A policy that would leave the user stuck at sign-in is attached only after a warning.
            let traps = (try? await registry.console.trapsAfterAttaching(user: name, arn: arn)) ?? []
            if !traps.isEmpty {
                return confirmationPage(Confirmation(
                    heading: "This policy would trap \(name)", text: "Attaching \(policyName) to \(name):",
                    action: "/users/\(Self.q(name))/attach", fields: [("arn", arn)], word: nil,
                    button: "Attach anyway", back: "/users/\(Self.q(name))", warnings: traps), call: call)
            }
        }
        do {
            try await authorize(attach ? .attachUserPolicy : .detachUserPolicy, ["UserName": name, "PolicyArn": arn], call)
            if attach { try await registry.policies.attachPolicy(.user(name), arn: arn) } else { try await registry.policies.detachPolicy(.user(name), arn: arn) }
        } catch {
            return try await user(call, name, error: Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/users/\(Self.q(name))?done=\(attach ? "policy-attached" : "policy-detached")")
    }

    func setUserPassword(_ call: Call, _ name: String) async throws -> Response {
        try Self.requireIAMUser(name)
        let password = call.form["password"] ?? ""
        let reset = call.form["reset"] == "true"
        do {
            try requireSecureTransport(call)
            if try await registry.passwords.hasLoginProfile(user: name) {
                try await authorize(.updateLoginProfile, ["UserName": name], call)
                try await registry.passwords.updateLoginProfile(user: name, password: password, resetRequired: reset)
            } else {
                try await authorize(.createLoginProfile, ["UserName": name], call)
                _ = try await registry.passwords.createLoginProfile(user: name, password: password, resetRequired: reset)
            }
        } catch {
            return try await user(call, name, error: "The password was not set: " + Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/users/\(Self.q(name))?done=password-set")
    }

    /// As AWS's console: the user's console password, access keys and managed policy attachments
    /// go first (each authorized as its own call); MFA devices must have been deactivated.
    func deleteUser(_ call: Call, _ name: String) async throws -> Response {
        try Self.requireIAMUser(name)
        do {
            // Intent: the user's name, typed (AWS's console asks the same).
            guard Self.confirmed(call, word: name) else {
                throw Problem(status: .badRequest, message: "To confirm, type the user name \u{201C}\(name)\u{201D} in the box.")
            }
            try await authorize(.deleteUser, ["UserName": name], call)
            if try await registry.passwords.hasLoginProfile(user: name) {
                try await authorize(.deleteLoginProfile, ["UserName": name], call)
                try await registry.passwords.deleteLoginProfile(user: name)
            }
            try await authorize(.listAccessKeys, ["UserName": name], call)
            for key in try await registry.users.listAccessKeys(call.caller, userName: name) {
                try await authorize(.deleteAccessKey, ["UserName": name, "AccessKeyId": key.accessKey], call)
                try await registry.users.deleteAccessKey(call.caller, userName: name, accessKey: key.accessKey)
            }
            try await authorize(.listAttachedUserPolicies, ["UserName": name], call)
            for policy in try await registry.policies.attachedPolicies(.user(name)) {
                try await authorize(.detachUserPolicy, ["UserName": name, "PolicyArn": policy.arn], call)
                try await registry.policies.detachPolicy(.user(name), arn: policy.arn)
            }
            try await registry.users.deleteUser(call.caller, name: name)
        } catch {
            return try await user(call, name, error: "The user was not deleted: " + Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/users?done=user-deleted")
    }

    // MARK: Audit

    func audit(_ call: Call) async throws -> Response {
        let principal = call.caller
        if !principal.isRoot {
            do {
                try await registry.access.resolving {
                    try registry.access.authorize(principal, action: "cloudtrail:LookupEvents", resource: "*", bucket: nil,
                                                  service: .iam) { policyKeys(call) }
                }
            } catch let denial as Denial {
                await s3.authorizer.refusals.record(denial, event: "Console:Audit", principal: principal, connection: call.connection)
                throw Problem(status: .forbidden, message: "You may not read the audit log: " + denial.message)
            }
        }
        let user = (call.query["user"] ?? "").trimmingCharacters(in: .whitespaces)
        let outcome = AuditOutcome(rawValue: call.query["outcome"] ?? "")
        let before = call.query["before"].flatMap { Int64($0) }
        let suffix: String? = user.isEmpty ? nil : (user == Registry.rootUser ? ":root" : "/" + user)
        let limit = 50
        let entries = try await registry.account.auditPage(before: before, principalSuffix: suffix, outcome: outcome?.rawValue, limit: limit)
        var view = AuditView(
            user: user,
            outcomes: [AuditOutcome.done, .passed, .failed, .refused, .denied].map {
                AuditView.Outcome(value: $0.rawValue, words: AuditWords.outcome($0), selected: $0 == outcome)
            },
            entries: entries.map { entry in
                let event = AuditWords.event(entry.event)
                return AuditView.Entry(time: Self.date(entry.time), event: event.words, api: event.api,
                                       outcome: entry.outcome.rawValue, outcomeWords: AuditWords.outcome(entry.outcome),
                                       principal: AuditWords.principal(entry.principal), principalArn: entry.principal,
                                       serialJoints: Self.joints(entry.serial ?? ""), source: entry.source ?? "",
                                       detail: entry.detail ?? "")
            })
        if entries.count == limit, let last = entries.last {
            var query = "before=\(last.id)"
            if !user.isEmpty { query += "&user=" + Self.q(user) }
            if let outcome { query += "&outcome=" + outcome.rawValue }
            view.older = "/audit?" + query
        }
        return page(view, call: call)
    }
}
