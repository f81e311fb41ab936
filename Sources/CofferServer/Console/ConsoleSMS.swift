import CofferCore
import CofferIAM
import CofferStore
import Foundation
import HTTPTypes
import Hummingbird

/// SMS text-message devices in the console: the wizard (number → code sent → code typed back,
/// Resend, Cancel), for oneself or — from a user's page — by an administrator; and the sign-in
/// step's "Text a code" buttons.
extension SMSRefusal: HTTPStatusError {
    public var httpStatus: HTTPResponse.Status {
        switch kind {
        case .notAllowed: .forbidden
        case .limited: .tooManyRequests
        case .couldNotSend: .serviceUnavailable
        case .wrongCode: .unauthorized
        }
    }
}

extension ConsoleResponder {
    /// A device's kind in words; an SMS device with its masked number ("SMS to +•••1234").
    static func kindWords(_ device: DeviceRecord) -> String {
        device.kind == .sms ? "SMS to \(device.name)" : kindWords(device.kind)
    }

    static func kindWords(_ kind: DeviceKind) -> String {
        switch kind {
        case .virtual: "Virtual"
        case .hardware: "Hardware TOTP"
        case .securityKey: "Security key"
        case .sms: "SMS"
        }
    }

    /// The wizard's first step for `user` (the caller, or a user an administrator assigns to):
    /// the device made and the first code sent. Needs `iam:EnableMFADevice` on the user.
    func smsStart(_ call: Call, user: String) async throws -> Response {
        let number = call.form["phone"] ?? ""
        do {
            try requireSecureTransport(call)
            try await authorize(.enableMFADevice, ["UserName": user], call)
            let (serial, masked) = try await registry.sms.start(call.caller, userName: user, number: number, info: call.info)
            return page(SMSWizardView(serial: serial, user: user, masked: masked, forOther: user != call.caller.userName,
                                      notice: "A code was sent to \(masked)."), call: call)
        } catch {
            // A device made but not reached (the delivery failed): the wizard stays, with Resend.
            if let refusal = error as? SMSRefusal, refusal.kind == .couldNotSend,
               let pending = try? await registry.sms.latestPending(call.caller, userName: user) {
                return page(SMSWizardView(serial: pending.serial, user: user, masked: pending.name,
                                          forOther: user != call.caller.userName, error: refusal.message),
                            call: call, status: refusal.httpStatus)
            }
            let text = "No SMS device was added: " + Self.words(error)
            if user != call.caller.userName { return try await self.user(call, user, error: text, status: Self.status(of: error)) }
            return page(MFANameView(name: call.form["name"] ?? user, keysNeedName: keysNeedAName(call),
                                    smsUnavailable: registry.sms.unavailableReason(for: user),
                                    // A refused number comes back to be corrected; a valid one is never
                                    // written into a page again (numbers are shown masked).
                                    phone: PhoneNumber(number) == nil ? number : "", smsChosen: true,
                                    error: text), call: call, status: Self.status(of: error))
        }
    }

    /// The SMS wizard's forms name the user; whoever posts them must still be allowed to assign to them.
    private func smsTarget(_ call: Call) async throws -> String {
        let user = call.form["user"] ?? ""
        try await authorize(.enableMFADevice, ["UserName": user], call)
        return user
    }

    func smsEnable(_ call: Call) async throws -> Response {
        let serial = call.form["serial"] ?? ""
        let user = call.form["user"] ?? ""
        do {
            try requireSecureTransport(call)
            let user = try await smsTarget(call)
            try await registry.sms.enable(call.caller, userName: user, serial: serial, code: call.form["code"] ?? "", info: call.info)
            return Self.redirect(user == call.caller.userName ? "/security?done=mfa-assigned" : "/users/\(Self.q(user))?done=sms-assigned")
        } catch {
            return try await smsWizardAgain(call, serial: serial, user: user, error: Self.words(error), status: Self.status(of: error))
        }
    }

    func smsResend(_ call: Call) async throws -> Response {
        let serial = call.form["serial"] ?? ""
        let user = call.form["user"] ?? ""
        do {
            try requireSecureTransport(call)
            let user = try await smsTarget(call)
            let masked = try await registry.sms.resendForEnable(call.caller, userName: user, serial: serial, info: call.info)
            return page(SMSWizardView(serial: serial, user: user, masked: masked, forOther: user != call.caller.userName,
                                      notice: "A new code was sent to \(masked). Earlier codes no longer work."), call: call)
        } catch {
            return try await smsWizardAgain(call, serial: serial, user: user, error: Self.words(error), status: Self.status(of: error))
        }
    }

    func smsCancel(_ call: Call) async throws -> Response {
        let serial = call.form["serial"] ?? ""
        let user = call.form["user"] ?? ""
        if (try? await smsTarget(call)) != nil {
            try? await registry.sms.cancel(call.caller, userName: user, serial: serial, info: call.info)
        }
        return Self.redirect(user == call.caller.userName || user.isEmpty ? "/security/mfa/new" : "/users/\(Self.q(user))")
    }

    /// The wizard's page again after a refusal, while the device still waits; else the first step.
    private func smsWizardAgain(_ call: Call, serial: String, user: String, error: String, status: HTTPResponse.Status) async throws
        -> Response {
        if let device = try? await registry.sms.pendingDevice(call.caller, userName: user, serial: serial) {
            return page(SMSWizardView(serial: serial, user: user, masked: device.name, forOther: user != call.caller.userName,
                                      error: error), call: call, status: status)
        }
        return page(MFANameView(name: call.caller.userName, keysNeedName: keysNeedAName(call),
                                smsUnavailable: registry.sms.unavailableReason(for: call.caller.userName), smsChosen: true,
                                error: error), call: call, status: status)
    }

    // MARK: Sign-in

    /// "Text a code to +•••1234" on the sign-in's code step.
    func signInSendSMS(_ call: Call) async throws -> Response {
        guard let session = call.session, session.stage == .code else { return Self.redirect("/signin") }
        let serial = call.form["serial"] ?? ""
        do {
            try requireSecureTransport(call)
            let masked = try await registry.sms.sendForSignIn(session, serial: serial, source: call.source)
            return try await codePage(call, notice: "A code was sent to \(masked). It works for 5 minutes.", sent: serial)
        } catch {
            return try await codePage(call, error: Self.words(error), status: Self.status(of: error), sent: serial)
        }
    }

    /// After the password: a user whose only code-giving device is one SMS device gets the code
    /// at once (as SMS sign-ins elsewhere do); the code page then says whether it went.
    func autoSendSMS(_ session: ConsoleSessionRecord, source: String?) async -> String {
        guard let devices = try? await enabledDevices(session.userName), devices.count == 1, let only = devices.first,
              only.kind == .sms
        else { return "" }
        do {
            _ = try await registry.sms.sendForSignIn(session, serial: only.serial, source: source)
            return "?done=sms-sent"
        } catch {
            return (error as? SMSRefusal)?.kind == .limited ? "?done=sms-limited" : "?done=sms-not-sent"
        }
    }
}
