import CofferCore
import CofferIAM
import CofferStore
import Foundation
import Synchronization
import Testing

/// A clock the test moves (Unix ms).
final class TestClock: Sendable {
    private let time = Mutex<Int64>(1_800_000_000_000)
    var now: Int64 { time.withLock { $0 } }
    func advance(milliseconds: Int64) { time.withLock { $0 += milliseconds } }
}

/// SMS devices on a real store and a real outbox folder, with a clock the test moves.
final class SMSHarness: Sendable {
    let folder: URL
    let outbox: URL
    let store: Store
    let registry: Registry
    let clock = TestClock()
    static let root = Principal(userName: "root", accessKey: "ROOTKEY")

    init(globalPerMinute: Int = 20, forbidden: Bool = false, delivery: Bool = true) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-sms-\(UUID().uuidString)")
        outbox = folder.appendingPathComponent("outbox")
        store = try Store.forTesting(folder: folder)
        let clock = self.clock
        let verifier = DeviceVerifier(masterKey: try MasterKey(bytes: Array(repeating: 7, count: 32)),
                                      now: { clock.now })
        registry = Registry(store: store, verifier: verifier, accountID: "123456789012",
                            passwords: PasswordHasher(cost: .init(logN: 10, blockSize: 8, parallelism: 1)),
                            sms: SMSSettings(delivery: delivery ? try SMSOutbox(folder: outbox) : nil, forbidden: forbidden,
                                             globalPerMinute: globalPerMinute))
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func advance(seconds: Int64) { clock.advance(milliseconds: seconds * 1000) }

    /// The code in the newest message of the outbox.
    func lastCode() throws -> String {
        let message = try #require(try SMSOutbox.latest(in: outbox, count: 1).first)
        let digits = message.body.split(separator: " ").first { $0.count == 6 && $0.allSatisfy(\.isNumber) }
        return String(try #require(digits))
    }

    func messages() throws -> [SMSMessage] { try SMSOutbox.latest(in: outbox, count: 1000) }

    func user(_ name: String) async throws -> Principal {
        _ = try await registry.users.createUser(Self.root, name: name, path: nil)
        return Principal(userName: name, accessKey: "AKIA\(name.uppercased())", accountID: "123456789012")
    }

    static let info = Registry.RequestInfo(source: "127.0.0.1", requestID: nil)
}

@Suite("SMS devices")
struct SMSTests {
    static func refusal(_ body: () async throws -> Void) async -> SMSRefusal? {
        do {
            try await body()
            return nil
        } catch let refusal as SMSRefusal {
            return refusal
        } catch {
            Issue.record("expected an SMS refusal, got \(error)")
            return nil
        }
    }

    @Test("Phone numbers: E.164 after removing spaces, dots, dashes and parentheses; anything else refused; masked to the last 4")
    func phoneNumbers() {
        #expect(PhoneNumber("+44 (20) 7946-0958")?.e164 == "+442079460958")
        #expect(PhoneNumber("+44 (0)20 7946 0958")?.e164 == "+442079460958")  // the trunk prefix is dropped
        #expect(PhoneNumber("+1.555.010.9999")?.e164 == "+15550109999")
        #expect(PhoneNumber("+12345678")?.e164 == "+12345678")            // 8 digits
        #expect(PhoneNumber("+123456789012345")?.e164 == "+123456789012345")  // 15 digits
        for bad in ["", "+", "442079460958", "+1234567", "+1234567890123456", "+0123456789", "++44207946095",
                    "+44 20 7946 095x", "+44\u{00A0}2079460958", "+44/2079460958", "44+2079460958", "+٤٤٢٠٧٩٤٦٠٩٥٨",
                    String(repeating: " ", count: 60) + "+442079460958"] {
            #expect(PhoneNumber(bad) == nil, "\(bad)")
        }
        #expect(PhoneNumber("+442079460958")?.masked == "+••••••••0958")
    }

    @Test("The wizard: a code sent to the number proves it; wrong tries say how many are left; the code works once")
    func enable() async throws {
        let h = try SMSHarness()
        let ann = try await h.user("ann")
        let (serial, masked) = try await h.registry.sms.start(ann, userName: "ann", number: "+44 20 7946 0958", info: SMSHarness.info)
        #expect(masked == "+••••••••0958")
        #expect(serial.hasPrefix("arn:aws:iam::123456789012:sms-mfa/ann/"))
        let message = try #require(try h.messages().first)
        #expect(message.to == "+442079460958" && message.purpose == "enable")
        // Files a demo reads are the operator's alone.
        let files = try FileManager.default.contentsOfDirectory(atPath: h.outbox.path)
        let mode = try FileManager.default.attributesOfItem(atPath: h.outbox.appendingPathComponent(files[0]).path)[.posixPermissions]
        #expect((mode as? Int) == 0o600)
        let code = try h.lastCode()
        let wrong = code == "000000" ? "111111" : "000000"
        let first = await Self.refusal { try await h.registry.sms.enable(ann, userName: "ann", serial: serial, code: wrong, info: SMSHarness.info) }
        #expect(first?.message.contains("2 tries left") == true)
        try await h.registry.sms.enable(ann, userName: "ann", serial: serial, code: code, info: SMSHarness.info)
        let device = try await #require(try h.registry.devices.device(serial: serial))
        #expect(device.userName == "ann" && device.kind == .sms && device.name == masked)
        // The number is sealed: the store holds no digit run of it, nor does any audit row.
        let audit = try h.store.readNow { try $0.audit(after: 0, limit: 1000) }
        #expect(!audit.isEmpty)
        for row in audit {
            for field in [row.detail, row.serial, row.principal] {
                #expect(!(field ?? "").contains("2079460958"), "\(row.event): \(field ?? "")")
                #expect(!(field ?? "").contains(code))
            }
        }
        #expect(!String(decoding: device.sealedSeed, as: UTF8.self).contains("2079460958"))
        // It is listed like other devices.
        let listed = try await h.registry.devices.listDevices(ann, userName: nil, marker: nil, maxItems: 10)
        #expect(listed.items.map(\.serial) == [serial])
    }

    @Test("Three wrong tries void a code; an expired code is refused; a new send replaces the old code")
    func triesAndExpiry() async throws {
        let h = try SMSHarness()
        let bo = try await h.user("bo")
        let (serial, _) = try await h.registry.sms.start(bo, userName: "bo", number: "+15550109999", info: SMSHarness.info)
        let code = try h.lastCode()
        let wrong = code == "000000" ? "111111" : "000000"
        for _ in 0..<2 {
            _ = await Self.refusal { try await h.registry.sms.enable(bo, userName: "bo", serial: serial, code: wrong, info: SMSHarness.info) }
        }
        let third = await Self.refusal { try await h.registry.sms.enable(bo, userName: "bo", serial: serial, code: wrong, info: SMSHarness.info) }
        #expect(third?.message.contains("no longer works") == true)
        let after = await Self.refusal { try await h.registry.sms.enable(bo, userName: "bo", serial: serial, code: code, info: SMSHarness.info) }
        #expect(after?.message.contains("No code is waiting") == true)

        h.advance(seconds: 31)
        _ = try await h.registry.sms.resendForEnable(bo, userName: "bo", serial: serial, info: SMSHarness.info)
        let fresh = try h.lastCode()
        h.advance(seconds: 301)
        let expired = await Self.refusal { try await h.registry.sms.enable(bo, userName: "bo", serial: serial, code: fresh, info: SMSHarness.info) }
        #expect(expired?.message.contains("expired") == true)
        // Voided with it: the right code does not come back to life.
        h.advance(seconds: -300)
        let gone = await Self.refusal { try await h.registry.sms.enable(bo, userName: "bo", serial: serial, code: fresh, info: SMSHarness.info) }
        #expect(gone?.message.contains("No code is waiting") == true)
    }

    @Test("Sends are limited per user (30 s, 10 an hour), per number across users, and in all per minute")
    func limits() async throws {
        let h = try SMSHarness(globalPerMinute: 3)
        let cy = try await h.user("cy")
        let (serial, _) = try await h.registry.sms.start(cy, userName: "cy", number: "+15550100001", info: SMSHarness.info)
        let soon = await Self.refusal { _ = try await h.registry.sms.resendForEnable(cy, userName: "cy", serial: serial, info: SMSHarness.info) }
        #expect(soon?.kind == .limited && soon?.message.contains("30 seconds") == true)
        for _ in 0..<9 {
            h.advance(seconds: 31)
            _ = try await h.registry.sms.resendForEnable(cy, userName: "cy", serial: serial, info: SMSHarness.info)
        }
        h.advance(seconds: 31)
        let hourly = await Self.refusal { _ = try await h.registry.sms.resendForEnable(cy, userName: "cy", serial: serial, info: SMSHarness.info) }
        #expect(hourly?.kind == .limited && hourly?.message.contains("last hour") == true)
        #expect(try h.messages().count == 10)
        // The same number for another user: the number's own limit holds.
        let di = try await h.user("di")
        let other = await Self.refusal { _ = try await h.registry.sms.start(di, userName: "di", number: "+1 555 010 0001", info: SMSHarness.info) }
        #expect(other?.kind == .limited && other?.message.contains("this phone number") == true)
        // The global cap: 3 a minute, whoever they go to.
        h.advance(seconds: 3600)
        for (index, name) in ["e1", "e2", "e3"].enumerated() {
            let user = try await h.user(name)
            _ = try await h.registry.sms.start(user, userName: name, number: "+1555020000\(index)", info: SMSHarness.info)
        }
        let e4 = try await h.user("e4")
        let global = await Self.refusal { _ = try await h.registry.sms.start(e4, userName: "e4", number: "+15550200009", info: SMSHarness.info) }
        #expect(global?.kind == .limited && global?.message.contains("this minute") == true)
        // Every refusal is in the audit log, in words.
        let refused = try h.store.readNow { try $0.audit(after: 0, limit: 1000) }.filter { $0.event == "SendSMSCode" && $0.outcome == .refused }
        #expect(refused.count == 4)
    }

    @Test("Nobody's wizard aimed at another person's number uses up that person's sign-in codes; a refused start leaves nothing")
    func wizardsCannotStarveSignIns() async throws {
        let h = try SMSHarness()
        let vic = try await h.user("vic")
        _ = try await h.registry.passwords.createLoginProfile(user: "vic", password: "Vic-Pass-0001!", resetRequired: false)
        let (serial, _) = try await h.registry.sms.start(vic, userName: "vic", number: "+15550100077", info: SMSHarness.info)
        try await h.registry.sms.enable(vic, userName: "vic", serial: serial, code: try h.lastCode(), info: SMSHarness.info)
        // Mallory starts wizards with Vic's number as fast as the limits let her: 10 sends in the hour.
        let mal = try await h.user("mal")
        var refused = 0
        for _ in 0..<12 {
            h.advance(seconds: 31)
            if await Self.refusal({ _ = try await h.registry.sms.start(mal, userName: "mal", number: "+1 555 010 0077",
                                                                       info: SMSHarness.info) }) != nil { refused += 1 }
        }
        #expect(refused == 3)  // the wizard's own per-number limit: 10 an hour, every send counted
        // A refused start left no device behind (starting again had abandoned the earlier wizard).
        let pending = try h.store.readNow { try $0.devices(user: nil, assigned: false, kind: .sms, after: nil, limit: 100) }
        #expect(pending.isEmpty)
        // Vic still gets his sign-in code.
        guard case .session(_, let record) = try await h.registry.console.consoleSignIn(
            accountID: "123456789012", userName: "vic", password: "Vic-Pass-0001!", source: "127.0.0.1")
        else { Issue.record("no pending sign-in"); return }
        _ = try await h.registry.sms.sendForSignIn(record, serial: serial, source: "127.0.0.1")
        #expect(try h.messages().first?.purpose == "sign-in")
    }

    @Test("Never for the root, never where forbidden or undeliverable; never for x-amz-mfa, GetSessionToken or EnableMFADevice")
    func refusals() async throws {
        let h = try SMSHarness()
        let root = await Self.refusal { _ = try await h.registry.sms.start(SMSHarness.root, userName: "root", number: "+15550100002", info: SMSHarness.info) }
        #expect(root?.message.contains("root user cannot use SMS") == true)
        let forbidden = try SMSHarness(forbidden: true)
        let fay = try await forbidden.user("fay")
        let no = await Self.refusal { _ = try await forbidden.registry.sms.start(fay, userName: "fay", number: "+15550100003", info: SMSHarness.info) }
        #expect(no?.message.contains("does not allow SMS") == true)
        let silent = try SMSHarness(delivery: false)
        let gil = try await silent.user("gil")
        let none = await Self.refusal { _ = try await silent.registry.sms.start(gil, userName: "gil", number: "+15550100004", info: SMSHarness.info) }
        #expect(none?.message.contains("--sms-webhook or --sms-outbox") == true)

        let hal = try await h.user("hal")
        let (serial, _) = try await h.registry.sms.start(hal, userName: "hal", number: "+15550100005", info: SMSHarness.info)
        try await h.registry.sms.enable(hal, userName: "hal", serial: serial, code: try h.lastCode(), info: SMSHarness.info)
        let context = DeviceVerifier.Context(event: "Test", principal: "hal", source: nil, requestID: nil)
        do {
            try await h.store.write { try h.registry.verifier.check(serial: serial, code: "123456", user: "hal", context: context, in: $0) }
            Issue.record("an SMS serial passed the code verifier")
        } catch let error as DeviceVerifier.CheckError {
            #expect(error.failure == .smsDevice)
        }
        do {
            _ = try await h.registry.account.getSessionToken(hal, duration: nil, serial: serial, code: "123456",
                                                              info: SMSHarness.info)
            Issue.record("GetSessionToken took an SMS serial")
        } catch let error as IAMError {
            #expect(error.code == .accessDenied && error.message.contains("SMS device"))
        }
        // Deactivating deletes it: a new number is a new device.
        try await h.registry.devices.deactivateDevice(SMSHarness.root, userName: "hal", serial: serial, info: SMSHarness.info)
        #expect(try await h.registry.devices.device(serial: serial) == nil)
    }

    @Test("Console sign-in with an SMS code: sent only after the password, bound to that sign-in, single use")
    func signIn() async throws {
        let h = try SMSHarness()
        let ivy = try await h.user("ivy")
        _ = try await h.registry.passwords.createLoginProfile(user: "ivy", password: "Ivy-Pass-0001!", resetRequired: false)
        let (serial, _) = try await h.registry.sms.start(ivy, userName: "ivy", number: "+15550100006", info: SMSHarness.info)
        try await h.registry.sms.enable(ivy, userName: "ivy", serial: serial, code: try h.lastCode(), info: SMSHarness.info)
        h.advance(seconds: 31)
        func pending() async throws -> (String, ConsoleSessionRecord) {
            guard case .session(let token, let record) = try await h.registry.console.consoleSignIn(
                accountID: "123456789012", userName: "ivy", password: "Ivy-Pass-0001!", source: "127.0.0.1")
            else { throw SMSRefusal(.wrongCode, "no session") }
            #expect(record.stage == .code)
            return (token, record)
        }
        let (token, record) = try await pending()
        _ = try await h.registry.sms.sendForSignIn(record, serial: serial, source: "127.0.0.1")
        let code = try h.lastCode()
        #expect(try h.messages().first?.purpose == "sign-in")
        // Another pending sign-in (someone else with the password) cannot use this sign-in's code.
        let (otherToken, _) = try await pending()
        let stolen = await Self.refusal { _ = try await h.registry.console.consoleVerifyCode(token: otherToken, serial: serial, code: code, source: nil) }
        #expect(stolen?.kind == .wrongCode)
        let signedIn = try #require(try await h.registry.console.consoleVerifyCode(token: token, serial: serial, code: code, source: nil))
        #expect(signedIn.record.stage == .active && signedIn.record.mfaAt != nil)
        // Used: a third sign-in cannot replay it.
        let (third, _) = try await pending()
        let replay = await Self.refusal { _ = try await h.registry.console.consoleVerifyCode(token: third, serial: serial, code: code, source: nil) }
        #expect(replay?.message.contains("No code is waiting") == true)
    }
}
