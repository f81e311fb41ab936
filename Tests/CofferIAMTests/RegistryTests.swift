import CofferCore
import CofferIAM
import CofferStore
import Foundation
import Testing
import TOTP

/// The IAM module on a real store in a temporary folder, without HTTP.
struct IAMHarness {
    let folder: URL
    let store: Store
    let registry: Registry
    static let root = Principal(userName: "root", accessKey: "ROOTKEY")

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-iam-\(UUID().uuidString)")
        store = try Store.forTesting(folder: folder)
        let verifier = DeviceVerifier(masterKey: try MasterKey(bytes: Array(repeating: 9, count: 32)),
                                      now: { Int64(Date().timeIntervalSince1970 * 1000) })
        registry = Registry(store: store, verifier: verifier, accountID: "123456789012",
                            passwords: PasswordHasher(cost: .init(logN: 10, blockSize: 8, parallelism: 1)))
    }
}

@Suite("IAM registry")
struct RegistryTests {
    static func code(_ body: () async throws -> Void) async -> IAMError.Code? {
        do {
            try await body()
            return nil
        } catch let error as IAMError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test("User, group and policy names are unique whatever their case; the root's name in any case is reserved")
    func namesIgnoreCase() async throws {
        let h = try IAMHarness()
        _ = try await h.registry.users.createUser(IAMHarness.root, name: "bob", path: nil)
        for name in ["Bob", "BOB", "bOb"] {
            #expect(await Self.code { _ = try await h.registry.users.createUser(IAMHarness.root, name: name, path: nil) } == .entityAlreadyExists)
        }
        for name in ["root", "Root", "ROOT"] {
            #expect(await Self.code { _ = try await h.registry.users.createUser(IAMHarness.root, name: name, path: nil) } == .invalidInput)
        }
        _ = try await h.registry.policies.createGroup(name: "Admins", path: nil)
        #expect(await Self.code { _ = try await h.registry.policies.createGroup(name: "ADMINS", path: nil) } == .entityAlreadyExists)
        let document = #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#
        _ = try await h.registry.policies.createPolicy(name: "ReadAll", path: nil, document: document, description: nil)
        #expect(await Self.code {
            _ = try await h.registry.policies.createPolicy(name: "readall", path: "/other/", document: document, description: nil)
        } == .entityAlreadyExists)
        // A policy document with a trailing comma is not stored.
        #expect(await Self.code {
            _ = try await h.registry.policies.createPolicy(name: "Trailing", path: nil, document: document.dropLast() + ",}", description: nil)
        } == .malformedPolicyDocument)
    }

    @Test("ChangePassword counts each guess before its hash: 40 at once are judged at most 5 times")
    func changePasswordBurst() async throws {
        let h = try IAMHarness()
        var policy = PasswordPolicy()
        policy.minimumLength = 8
        policy.allowUsersToChangePassword = true
        try await h.registry.passwords.updatePasswordPolicy(policy)
        _ = try await h.registry.users.createUser(IAMHarness.root, name: "gus", path: nil)
        _ = try await h.registry.passwords.createLoginProfile(user: "gus", password: "Right-Pass-001", resetRequired: false)
        let gus = Principal(userName: "gus", accessKey: "AKIAGUS", accountID: "123456789012")
        let codes = await withTaskGroup(of: IAMError.Code?.self) { group in
            for guess in 0..<40 {
                group.addTask {
                    await Self.code {
                        try await h.registry.passwords.changePassword(gus, old: "Guess-\(guess)", new: "New-Pass-0002",
                                                            info: .init(source: "127.0.0.1", requestID: nil))
                    }
                }
            }
            var codes: [IAMError.Code?] = []
            for await code in group { codes.append(code) }
            return codes
        }
        #expect(codes.filter { $0 == .accessDenied }.count <= 5, "\(codes)")
        #expect(codes.allSatisfy { $0 == .accessDenied || $0 == .limitExceeded }, "\(codes)")
        let judged = try h.store.readNow { try $0.audit(after: 0, limit: 100) }.filter { $0.detail?.contains("wrong old password") ?? false }
        #expect((1...5).contains(judged.count))
        // Even the right password is not checked while locked.
        #expect(await Self.code {
            try await h.registry.passwords.changePassword(gus, old: "Right-Pass-001", new: "New-Pass-0002", info: .init(source: nil, requestID: nil))
        } == .limitExceeded)
    }

    @Test("A trap is warned of only when the policy makes it: a required password change it denies; the account's AllowUsersToChangePassword counts")
    func traps() async throws {
        let h = try IAMHarness()
        _ = try await h.registry.users.createUser(IAMHarness.root, name: "tom", path: nil)
        _ = try await h.registry.passwords.createLoginProfile(user: "tom", password: "Tom-First-Pass-1", resetRequired: true)
        try await h.registry.policies.attachPolicy(.user("tom"), arn: "arn:aws:iam::aws:policy/IAMUserChangePassword")
        let deny = #"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*"}}"#
        let denies = try await h.registry.policies.createPolicy(name: "NoChange", path: nil, document: deny, description: nil)
        let reads = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        #expect(try await h.registry.console.trapsAfterAttaching(user: "tom", arn: denies.arn).count == 1)
        #expect(try await h.registry.console.trapsAfterAttaching(user: "tom", arn: reads).isEmpty)
        // Without the managed policy, tom is stuck already unless the account lets everyone change passwords.
        try await h.registry.policies.detachPolicy(.user("tom"), arn: "arn:aws:iam::aws:policy/IAMUserChangePassword")
        #expect(try await h.registry.console.trapsAfterAttaching(user: "tom", arn: denies.arn).isEmpty)  // not this policy's doing
        var policy = PasswordPolicy()
        policy.allowUsersToChangePassword = true
        try await h.registry.passwords.updatePasswordPolicy(policy)
        #expect(try await h.registry.console.trapsAfterAttaching(user: "tom", arn: denies.arn).count == 1)  // an explicit Deny still traps
        #expect(try await h.registry.console.trapsAfterAttaching(user: "tom", arn: reads).isEmpty)
    }

    @Test("Console link credentials: for console sessions only, carrying their MFA state, at most 200 live per user")
    func consoleLinkCredentials() async throws {
        let h = try IAMHarness()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(await Self.code {
            _ = try await h.registry.account.consoleSessionCredentials(IAMHarness.root, expires: now + 60_000)
        } == .accessDenied)  // a long-term key's caller is not a console session
        let console = Principal(userName: "root", isConsole: true, mfaAuthenticated: true, mfaAuthenticatedAt: now, accountID: "123456789012")
        let first = try await h.registry.account.consoleSessionCredentials(console, expires: now + 60_000)
        #expect(first.accessKey.hasPrefix("ASIA") && first.expiration == now + 60_000)
        let session = try h.store.readNow { try $0.session(first.accessKey) }
        #expect(session?.mfaAuthenticated == true && session?.userName == "root")
        for _ in 1..<Account.maxConsoleLinkSessions {
            _ = try await h.registry.account.consoleSessionCredentials(console, expires: now + 60_000)
        }
        #expect(await Self.code {
            _ = try await h.registry.account.consoleSessionCredentials(console, expires: now + 60_000)
        } == .limitExceeded)
    }

    @Test("A pending virtual device's setup is shown again to its creator only, and never once assigned")
    func pendingSetup() async throws {
        let h = try IAMHarness()
        let info = Registry.RequestInfo(source: nil, requestID: nil)
        _ = try await h.registry.users.createUser(IAMHarness.root, name: "ann", path: nil)
        let ann = Principal(userName: "ann", accountID: "123456789012")
        let created = try await h.registry.devices.createVirtualDevice(ann, name: "ann-phone", path: nil, tags: [], info: info)
        let again = try await #require(try h.registry.devices.pendingSetup(ann, serial: created.serial))
        #expect(again.base32Seed == created.base32Seed && again.qrPNG == created.qrPNG)
        #expect(try await h.registry.devices.pendingSetup(Principal(userName: "bob", accountID: "123456789012"), serial: created.serial) == nil)
        let totp = try TOTPParameters(secret: Base32.decode(created.base32Seed))
        let step = totp.step(at: Int64(Date().timeIntervalSince1970))
        try await h.registry.devices.enableDevice(IAMHarness.root, userName: "ann", serial: created.serial,
                                                  code1: totp.code(step: step - 1), code2: totp.code(step: step), info: info)
        #expect(try await h.registry.devices.pendingSetup(ann, serial: created.serial) == nil)
    }
}
