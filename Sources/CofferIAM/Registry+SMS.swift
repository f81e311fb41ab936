import CofferCore
import CofferStore
import Foundation

/// How SMS devices may be used here: where messages go, whether the account allows them at all,
/// and the global cap on sends.
public struct SMSSettings: Sendable {
    /// Nil: no delivery configured, so no SMS device can be assigned and no code sent.
    public var delivery: (any SMSDelivery)?
    /// The account forbids SMS devices: none can be assigned, and codes are neither sent nor accepted.
    public var forbidden: Bool
    /// Messages sent per minute, to anyone (SMS pumping costs money).
    public var globalPerMinute: Int
    /// Told the outcome of every code asked for (`sent`, `failed`, `limited`, `refused`), for metrics.
    public var observe: @Sendable (String) -> Void

    public init(delivery: (any SMSDelivery)? = nil, forbidden: Bool = false, globalPerMinute: Int = 20,
                observe: @escaping @Sendable (String) -> Void = { _ in }) {
        self.delivery = delivery
        self.forbidden = forbidden
        self.globalPerMinute = globalPerMinute
        self.observe = observe
    }
}

/// An SMS step refused, in words a person can act on; `kind` picks the page's status and the
/// `/metrics` outcome. Never holds the number (only its masked form) or a code.
public struct SMSRefusal: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Not allowed here: the root, an account that forbids SMS, no delivery configured, a bad number.
        case notAllowed
        /// A rate limit: try again later.
        case limited
        /// The delivery failed (the webhook timed out or refused, the outbox cannot be written).
        case couldNotSend
        /// The code was wrong, expired, used, voided, or never sent.
        case wrongCode
    }

    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The outcome of a code asked for that this refused (`SMSSettings.observe`).
    public var sendOutcome: String {
        switch kind {
        case .limited: "limited"
        case .couldNotSend: "failed"
        case .notAllowed, .wrongCode: "refused"
        }
    }
}

/// SMS text-message devices, for IAM users only (as on AWS): a phone number (sealed like a seed,
/// shown masked) that receives a random six-digit code when one is needed — to prove the number
/// when the device is assigned, and at console sign-in. Codes last 5 minutes, are stored only as a
/// keyed MAC, work once, and die after 3 wrong tries. Sends are limited per user, per number
/// (across users) and in all, counted in the database: the limits hold across processes.
///
/// An SMS code signs no API call: `x-amz-mfa`, GetSessionToken and MFA Delete refuse an SMS
/// device (the verifier does), since a code that must be asked for cannot sign a request.
public struct SMSDevices: RegistryPart {
    public let core: RegistryCore

    public static let codeLifetimeMs: Int64 = 300_000
    public static let triesPerCode = 3
    /// Per user and per number: one send per 30 seconds, ten an hour.
    public static let gapMs: Int64 = 30_000
    public static let perHour = 10
    /// An unfinished wizard's device waits an hour for its code; after that it is started again.
    public static let pendingLifetimeMs: Int64 = 3_600_000

    var settings: SMSSettings { core.smsSettings }

    /// Whether a new SMS device could be assigned now; nil if so, else why not, in words.
    public func unavailableReason(for user: String) -> String? {
        if user == Registry.rootUser {
            return "The root user cannot use SMS text messages for MFA (as on AWS): use a virtual MFA device, "
                + "a hardware TOTP token or a security key."
        }
        if settings.forbidden {
            return "This account does not allow SMS text-message MFA (SIM swapping lets a thief receive the codes): "
                + "use a virtual MFA device, a hardware TOTP token or a security key."
        }
        if settings.delivery == nil {
            return "SMS text messages cannot be sent from this Coffer: it was started without an SMS webhook or outbox "
                + "(coffer serve --sms-webhook or --sms-outbox)."
        }
        return nil
    }

    /// The serial of a new SMS device for `user`: `arn:aws:iam::ACCOUNT:sms-mfa/USER/RANDOM`.
    func newSerial(user: String) -> String {
        serialPrefix(user: user) + Names.random("abcdefghijklmnopqrstuvwxyz0123456789", count: 10)
    }

    /// Every SMS serial of the account starts with this; a user's with `serialPrefix(user:)`.
    var serialRoot: String { "arn:aws:iam::\(accountID):sms-mfa/" }

    func serialPrefix(user: String) -> String { serialRoot + user + "/" }

    // MARK: Assigning

    /// The wizard's first step: a device for `userName` with this number, unassigned until its
    /// code comes back, and the code sent. Whoever may call `iam:EnableMFADevice` on the user (the
    /// authorization point decides that before) may start it: the user, or an administrator.
    /// An earlier unfinished SMS device of the same caller for the same user is replaced.
    public func start(_ caller: Principal, userName: String, number: String, info: RequestInfo) async throws
        -> (serial: String, masked: String) {
        try await observed { try await self.startAndSend(caller, userName: userName, number: number, info: info) }
    }

    func startAndSend(_ caller: Principal, userName: String, number: String, info: RequestInfo) async throws
        -> (serial: String, masked: String) {
        if let reason = unavailableReason(for: userName) { throw SMSRefusal(.notAllowed, reason) }
        guard let phone = PhoneNumber(number) else { throw SMSRefusal(.notAllowed, "That is not a phone number. " + PhoneNumber.rule) }
        let serial = newSerial(user: userName)
        let device = DeviceRecord(serial: serial, kind: .sms, name: phone.masked, path: "/",
                                  sealedSeed: try masterKey.seal(Array(phone.e164.utf8), context: serial), algorithm: "SMS",
                                  digits: 6, period: 0, created: now(), creator: caller.userName)
        try await store.write { transaction in
            let user = try self.requireUser(userName, caller: caller, in: transaction)
            try self.requireDeviceRoom(user: user, in: transaction)
            // One unfinished SMS wizard per caller and user: starting again replaces it.
            for pending in try transaction.pendingSMSDevices(creator: caller.userName, serialPrefix: self.serialPrefix(user: user)) {
                try transaction.deleteDevice(pending.serial)
            }
            // The caller's wizards left for more than an hour, for anyone: their sealed numbers go.
            let stale = self.now() - Self.pendingLifetimeMs
            for pending in try transaction.pendingSMSDevices(creator: caller.userName,
                                                             serialPrefix: self.serialRoot)
            where pending.created < stale {
                try transaction.deleteDevice(pending.serial)
            }
            if !caller.isRoot, try transaction.unassignedDeviceCount(creator: caller.userName) >= Registry.maxUnassignedDevicesPerUser {
                throw IAMError(.limitExceeded, "Cannot exceed quota for unassigned MFA devices per user: "
                    + "\(Registry.maxUnassignedDevicesPerUser). Enable or delete one first.")
            }
            try transaction.insertDevice(device)
            try transaction.appendAudit(self.audit("CreateSMSMFADevice", caller, info, serial: serial,
                                                   detail: "for user \(user), number \(phone.masked)"))
        }
        do {
            try await send(device: device, user: userName, purpose: .enable, boundTo: Self.callerBinding(caller),
                           principal: arn(of: caller), info: info)
        } catch let refusal as SMSRefusal where refusal.kind != .couldNotSend {
            // Nothing was sent: nothing is left behind. (A failed delivery keeps the device, for Resend.)
            try? await store.write { try $0.deleteDevice(serial) }
            throw refusal
        }
        return (serial, phone.masked)
    }

    /// "Resend code" in the wizard: a new code for the caller's unfinished device.
    public func resendForEnable(_ caller: Principal, userName: String, serial: String, info: RequestInfo) async throws -> String {
        try await observed {
            if let reason = self.unavailableReason(for: userName) { throw SMSRefusal(.notAllowed, reason) }
            let device = try await self.pending(caller, userName: userName, serial: serial)
            try await self.send(device: device, user: userName, purpose: .enable, boundTo: Self.callerBinding(caller),
                                principal: self.arn(of: caller), info: info)
            return device.name
        }
    }

    /// Runs one "send a code" step and tells `SMSSettings.observe` how it ended: every code asked
    /// for is counted once, whichever page or path asked.
    func observed<T>(_ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            settings.observe("sent")
            return result
        } catch let refusal as SMSRefusal {
            settings.observe(refusal.sendOutcome)
            throw refusal
        }
    }

    /// The wizard's last step: the code sent to the number, typed back. Assigns the device.
    public func enable(_ caller: Principal, userName: String, serial: String, code: String, info: RequestInfo) async throws {
        if let reason = unavailableReason(for: userName) { throw SMSRefusal(.notAllowed, reason) }
        _ = try await pending(caller, userName: userName, serial: serial)
        let context = DeviceVerifier.Context(event: "EnableMFADevice", principal: arn(of: caller), source: info.source,
                                             requestID: info.requestID)
        let binding = Self.callerBinding(caller)
        try await checked(serial: serial) { transaction in
            let user = try self.requireUser(userName, caller: caller, in: transaction)
            guard var device = try transaction.device(serial), device.kind == .sms, device.userName == nil else {
                throw SMSRefusal(.wrongCode, "This SMS device is no longer waiting to be assigned: start again.")
            }
            try self.requireDeviceRoom(user: user, in: transaction)
            try self.check(serial: serial, code: code, purpose: .enable, user: user, boundTo: binding, context: context,
                           in: transaction)
            device.userName = user
            device.enabled = self.now()
            try transaction.updateDevice(device)
            try transaction.appendAudit(AuditRecord(time: self.now(), event: "EnableMFADevice", outcome: .done,
                                                    principal: context.principal, serial: serial, source: info.source,
                                                    requestID: info.requestID, detail: "user \(user), SMS \(device.name)"))
        }
    }

    /// The caller's unfinished SMS device for `userName`.
    func pending(_ caller: Principal, userName: String, serial: String) async throws -> DeviceRecord {
        guard let device = try await store.asyncRead({ try $0.device(serial) }), device.kind == .sms, device.userName == nil,
              device.creator == caller.userName, serial.hasPrefix(serialPrefix(user: userName)),
              device.created + Self.pendingLifetimeMs > now()
        else { throw SMSRefusal(.wrongCode, "This SMS device is no longer waiting to be assigned: start again.") }
        return device
    }

    /// The caller's unfinished SMS device `serial` for `userName`, if it still waits.
    public func pendingDevice(_ caller: Principal, userName: String, serial: String) async throws -> DeviceRecord {
        try await pending(caller, userName: userName, serial: serial)
    }

    /// The caller's newest unfinished SMS device for `userName`.
    public func latestPending(_ caller: Principal, userName: String) async throws -> DeviceRecord? {
        try await store.asyncRead { try $0.pendingSMSDevices(creator: caller.userName, serialPrefix: serialPrefix(user: userName)) }
            .max { $0.created < $1.created }
    }

    /// Cancel in the wizard: the unfinished device and its code are deleted.
    public func cancel(_ caller: Principal, userName: String, serial: String, info: RequestInfo) async throws {
        _ = try await pending(caller, userName: userName, serial: serial)
        try await store.write { transaction in
            guard let device = try transaction.device(serial), device.kind == .sms, device.userName == nil else { return }
            try transaction.deleteDevice(serial)
            try transaction.appendAudit(self.audit("DeleteSMSMFADevice", caller, info, serial: serial,
                                                   detail: "unfinished, for user \(userName)"))
        }
    }

    static func callerBinding(_ caller: Principal) -> String { "caller:\(caller.userName)" }

    // MARK: Sign-in

    /// Sends a sign-in code to one of the user's SMS devices, for the pending sign-in `pending`
    /// (whose password was right). Returns the masked number.
    public func sendForSignIn(_ pending: ConsoleSessionRecord, serial: String, source: String?) async throws -> String {
        try await observed { try await self.sendSignInCode(pending, serial: serial, source: source) }
    }

    func sendSignInCode(_ pending: ConsoleSessionRecord, serial: String, source: String?) async throws -> String {
        guard !settings.forbidden else {
            throw SMSRefusal(.notAllowed, "This account no longer allows SMS text-message MFA: sign in with another "
                + "device, or ask an administrator to remove this one and assign another kind.")
        }
        guard let device = try await store.asyncRead({ try $0.device(serial) }), device.kind == .sms, device.userName == pending.userName
        else { throw SMSRefusal(.wrongCode, "That is not an SMS device of yours.") }
        try await send(device: device, user: pending.userName, purpose: .signIn, boundTo: pending.tokenHash,
                       principal: console.principalArn(pending.userName),
                       info: RequestInfo(source: source, requestID: nil))
        return device.name
    }

    /// Checks a sign-in code inside the sign-in's transaction (consumed with it, or not at all).
    func checkSignIn(serial: String, code: String, pending: ConsoleSessionRecord, context: DeviceVerifier.Context,
                     in transaction: StoreTransaction) throws {
        guard !settings.forbidden else {
            throw SMSRefusal(.notAllowed, "This account no longer allows SMS text-message MFA: sign in with another device.")
        }
        try check(serial: serial, code: code, purpose: .signIn, user: pending.userName, boundTo: pending.tokenHash,
                  context: context, in: transaction)
    }

    // MARK: Codes

    /// A failed code check: what must be written after the caller's transaction rolls back.
    struct CodeFailure: Error {
        var refusal: SMSRefusal
        var serial: String
        /// The wrong tries now, or nil when the code is to be deleted (voided, expired).
        var tries: Int?
        var deleteCode: Bool
        var audit: AuditRecord
    }

    /// One code against the device's live code. Right: the code is deleted (single use). Wrong:
    /// counted; the third wrong try voids it. Expired: voided.
    func check(serial: String, code: String, purpose: SMSCodeRecord.Purpose, user: String, boundTo: String,
               context: DeviceVerifier.Context, in transaction: StoreTransaction) throws {
        let time = now()
        func failure(_ words: String, tries: Int? = nil, delete: Bool = false, reason: String) -> CodeFailure {
            CodeFailure(refusal: SMSRefusal(.wrongCode, words), serial: serial, tries: tries, deleteCode: delete,
                        audit: AuditRecord(time: time, event: context.event, outcome: .failed, principal: context.principal,
                                           serial: serial, source: context.source, requestID: context.requestID,
                                           detail: "SMS code: \(reason)"))
        }
        guard let live = try transaction.smsCode(serial: serial), live.purpose == purpose, live.userName == user,
              live.boundTo == boundTo
        else { throw failure("No code is waiting for this phone: send one first.", reason: "none sent") }
        guard live.expires > time else {
            throw failure("That code has expired (a code works for 5 minutes): send a new one.", delete: true, reason: "expired")
        }
        guard code.utf8.count == 6, code.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw failure("A code is six digits.", reason: "malformed")
        }
        if constantTimeEqual(codeMAC(code, serial: serial), live.codeMAC) {
            try transaction.deleteSMSCode(serial: serial)
            try transaction.appendAudit(AuditRecord(time: time, event: context.event, outcome: .passed, principal: context.principal,
                                                    serial: serial, source: context.source, requestID: context.requestID,
                                                    detail: "SMS code accepted"))
            return
        }
        let tries = live.tries + 1
        if tries >= Self.triesPerCode {
            throw failure("That code is not right, and after \(Self.triesPerCode) wrong tries it no longer works: send a new one.",
                          delete: true, reason: "wrong code, code voided")
        }
        let left = Self.triesPerCode - tries
        throw failure("That code is not right: \(left) \(left == 1 ? "try" : "tries") left for this code.", tries: tries,
                      reason: "wrong code")
    }

    /// Runs a write that checks an SMS code: a failed check rolls the write back, then its count
    /// (or the voided code) and audit row are written in the same transaction, before any other
    /// write runs — parallel guesses are judged one after the other, each seeing the last count.
    func checked(serial: String, _ body: @escaping @Sendable (StoreTransaction) throws -> Void) async throws {
        do {
            try await MFAFailureRecorder.write(store, body) { error, transaction in
                guard let failure = error as? CodeFailure else { return }
                try Self.record(failure, in: transaction)
            }
        } catch let failure as CodeFailure {
            throw failure.refusal
        }
    }

    static func record(_ failure: CodeFailure, in transaction: StoreTransaction) throws {
        if failure.deleteCode {
            try transaction.deleteSMSCode(serial: failure.serial)
        } else if let tries = failure.tries {
            try transaction.setSMSCodeTries(serial: failure.serial, tries: tries)
        }
        try transaction.appendAudit(failure.audit)
    }

    func codeMAC(_ code: String, serial: String) -> [UInt8] {
        masterKey.mac(Array("\(serial)\u{0}\(code)".utf8), purpose: "sms code")
    }

    /// Six digits, uniform, from the system's CSPRNG.
    static func newCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = UInt32.random(in: 0..<1_000_000, using: &generator)
        let digits = String(value)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }

    // MARK: Sending

    /// Checks the limits, records the send and saves the new code (replacing an earlier one) in
    /// one transaction, then hands the message to the delivery. A limit, or a delivery that
    /// fails, is audited and answered in words.
    func send(device: DeviceRecord, user: String, purpose: SMSCodeRecord.Purpose, boundTo: String, principal: String,
              info: RequestInfo) async throws {
        guard let delivery = settings.delivery else {
            throw SMSRefusal(.couldNotSend, unavailableReason(for: user) ?? "SMS text messages cannot be sent from this Coffer.")
        }
        let number = String(decoding: try masterKey.open(device.sealedSeed, context: device.serial), as: UTF8.self)
        let phoneMAC = hexString(masterKey.mac(Array(number.utf8), purpose: "sms phone"))
        let code = Self.newCode()
        let time = now()
        let globalCap = settings.globalPerMinute
        @Sendable func entry(_ outcome: AuditOutcome, _ detail: String) -> AuditRecord {
            AuditRecord(time: now(), event: "SendSMSCode", outcome: outcome, principal: principal, serial: device.serial,
                        source: info.source, requestID: info.requestID, detail: detail)
        }
        let what = purpose == .enable ? "to prove the number" : "for sign-in"
        let sendID: Int64
        do {
            sendID = try await store.write { transaction in
                let counts = try transaction.smsSendCounts(user: user, phoneMAC: phoneMAC, purpose: purpose, at: time)
                if let refusal = Self.limit(counts, at: time, globalCap: globalCap) {
                    throw refusal
                }
                let id = try transaction.recordSMSSend(at: time, user: user, phoneMAC: phoneMAC, purpose: purpose, outcome: "sending")
                try transaction.saveSMSCode(SMSCodeRecord(serial: device.serial, userName: user, purpose: purpose, boundTo: boundTo,
                                                          codeMAC: self.codeMAC(code, serial: device.serial),
                                                          expires: time + Self.codeLifetimeMs))
                return id
            } recover: { error, transaction in
                if let refusal = error as? SMSRefusal {
                    try transaction.appendAudit(entry(.refused, "code to \(device.name) not sent (\(what)): \(refusal.message)"))
                }
            }
        }
        let message = SMSMessage(id: SecureRandom.hex(8), to: number,
                                 body: "Coffer: \(code) is your verification code \(what). It works for 5 minutes. "
                                    + "Never share it: Coffer never asks for it by phone.",
                                 purpose: purpose.rawValue, created: time)
        do {
            try await Self.within(seconds: 10) { try await delivery.deliver(message) }
        } catch {
            let reason = (error as? SMSDeliveryError)?.reason ?? "no answer in time"
            try? await store.write { transaction in
                try transaction.setSMSSendOutcome(id: sendID, outcome: "failed")
                try transaction.appendAudit(entry(.failed, "code to \(device.name) could not be sent (\(what)) "
                    + "through the \(delivery.name): \(reason)"))
            }
            throw SMSRefusal(.couldNotSend, "Coffer could not send a text message to \(device.name) just now. "
                + "Try again in a little while; if it keeps failing, tell your administrator.")
        }
        try? await store.write { transaction in
            try transaction.setSMSSendOutcome(id: sendID, outcome: "sent")
            try transaction.appendAudit(entry(.done, "code sent to \(device.name) (\(what)) through the \(delivery.name)"))
        }
    }

    /// The first limit a send would break, in words; nil when it may go.
    static func limit(_ counts: SMSSendCounts, at time: Int64, globalCap: Int) -> SMSRefusal? {
        func wait(_ latest: Int64?) -> Int64 { ((latest ?? 0) + gapMs - time + 999) / 1000 }
        if let latest = counts.userLatest, time - latest < gapMs {
            return SMSRefusal(.limited, "A code was sent less than 30 seconds ago: wait \(wait(latest)) seconds before asking for another.")
        }
        if counts.userHour >= perHour {
            return SMSRefusal(.limited, "Ten codes were sent in the last hour: wait a while before asking for another.")
        }
        if let latest = counts.phoneLatest, time - latest < gapMs {
            return SMSRefusal(.limited, "A code was sent to this phone number less than 30 seconds ago: wait "
                + "\(wait(latest)) seconds before asking for another.")
        }
        if counts.phoneHour >= perHour {
            return SMSRefusal(.limited, "Ten codes were sent to this phone number in the last hour: wait a while before asking for another.")
        }
        if counts.globalMinute >= globalCap {
            return SMSRefusal(.limited, "Coffer is sending as many text messages as it may this minute: try again in a minute.")
        }
        return nil
    }

    /// Runs `body`, giving up after `seconds` (the delivery's own timeouts come first; this is the backstop).
    static func within(seconds: Int, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await body(); return true }
            group.addTask { try await Task.sleep(for: .seconds(seconds)); return false }
            let finished = try await group.next() ?? false
            group.cancelAll()
            guard finished else { throw SMSDeliveryError("no answer within \(seconds) seconds") }
        }
    }
}
