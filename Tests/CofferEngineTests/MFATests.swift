import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Foundation
import QRCode
import Testing
import TOTP

/// MFA with a pinned clock: the verifier's rules, throttling, drift, windows, the gate, the root rule.
@Suite("MFA registry, verifier and gate")
struct MFATests {
    static let start: Int64 = 1_700_000_010_000  // ms; inside step 56,666,667
    static let root = Principal(userName: "root")
    static let info = Registry.RequestInfo(source: "127.0.0.1", requestID: "TEST")

    struct Setup {
        let h: Harness
        let serial: String
        let parameters: TOTPParameters
        func step(_ offset: Int64 = 0) -> Int64 { parameters.step(at: h.clock.milliseconds() / 1000) + offset }
        func code(_ offset: Int64 = 0) -> String { parameters.code(step: step(offset)) }
        var header: String { "\(serial) \(code())" }
    }

    /// A root device created and enabled with the codes of steps now−1 and now (last step = now).
    static func rootWithDevice(name: String = "root-phone") async throws -> Setup {
        let h = try Harness(clock: TestClock(pinnedAt: start))
        let device = try await h.registry.devices.createVirtualDevice(root, name: name, path: nil, tags: [], info: info)
        let parameters = try TOTPParameters(secret: Base32.decode(device.base32Seed))
        let setup = Setup(h: h, serial: device.serial, parameters: parameters)
        try await h.registry.devices.enableDevice(root, userName: "root", serial: device.serial, code1: setup.code(-1),
                                          code2: setup.code(), info: info)
        return setup
    }

    static func mfaBucket(_ s: Setup) async throws {
        _ = try await s.h.engine.createBucket("vault", region: "us-east-1")
        s.h.clock.advance(seconds: 30)
        try await s.h.engine.putVersioning("vault", .init(status: .enabled, mfaDelete: true), principal: Harness.root,
                                           mfa: PresentedMFA(header: s.header))
    }

    func s3Code(_ body: () async throws -> Void) async -> (S3ErrorCode?, String?) {
        do {
            try await body()
            return (nil, nil)
        } catch let error as S3Error {
            return (error.code, error.message)
        } catch {
            return (.internalError, "\(error)")
        }
    }

    @Test("A seed is returned once as Base32 (64 characters) and the QR encodes the Coffer otpauth URI")
    func creation() async throws {
        let h = try Harness()
        let device = try await h.registry.devices.createVirtualDevice(Self.root, name: "phone", path: "/team/", tags: [("k", "v")],
                                                              info: Self.info)
        #expect(device.serial == "arn:aws:iam::123456789012:mfa/team/phone")
        #expect(device.base32Seed.count == 64)
        #expect(Array(device.qrPNG.prefix(8)) == PNG.signature)
        await #expect(throws: IAMError.self) {
            _ = try await h.registry.devices.createVirtualDevice(Self.root, name: "phone", path: "/team/", tags: [], info: Self.info)
        }
    }

    @Test("The database file alone yields no seed; a wrong master key opens nothing")
    func seedsAtRest() async throws {
        let h = try Harness()
        guard !h.store.isCluster else { return }  // reads the SQLite files
        let device = try await h.registry.devices.createVirtualDevice(Self.root, name: "phone", path: nil, tags: [], info: Self.info)
        let seed = try Base32.decode(device.base32Seed)
        try h.store.close()
        var bytes = [UInt8]()
        for file in ["coffer.sqlite", "coffer.sqlite-wal"] {
            if let data = FileManager.default.contents(atPath: h.folder.appendingPathComponent(file).path) { bytes += data }
        }
        #expect(!bytes.isEmpty)
        func contains(_ needle: [UInt8]) -> Bool {
            guard needle.count <= bytes.count else { return false }
            return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        #expect(!contains(Array(seed.prefix(16))))
        #expect(!contains(Array(device.base32Seed.utf8.prefix(24))))
        let reopened = try Harness(folder: h.folder)
        let record = try #require(try reopened.store.readNow { try $0.device(device.serial) })
        let other = try MasterKey(bytes: Array(repeating: 9, count: 32))
        #expect(throws: MasterKeyError.cannotOpen) { try other.open(record.sealedSeed, context: record.serial) }
        #expect(try Harness.masterKey.open(record.sealedSeed, context: record.serial) == seed)
    }

    @Test("MFA Delete: missing, malformed, wrong, replayed and older codes; the right code once")
    func gate() async throws {
        let s = try await Self.rootWithDevice()
        try await Self.mfaBucket(s)
        let version = try #require(try await s.h.put("vault", "doc", "v1").versionID)
        func delete(_ header: String?, principal: Principal = Harness.root,
                    context: ConnectionInfo = ConnectionInfo()) async -> (S3ErrorCode?, String?) {
            await s3Code {
                _ = try await s.h.engine.deleteObject(bucket: "vault", key: "doc", versionID: version, principal: principal,
                                                      mfa: header.map(PresentedMFA.init(header:)), context: context)
            }
        }
        #expect(await delete(nil) == (.accessDenied, "Mfa Authentication must be used for this request"))
        #expect(await delete("123456").0 == .invalidArgument)
        #expect(await delete("\(s.serial) 123456 extra").0 == .invalidArgument)
        let iamUser = Principal(userName: "alice", accessKey: "AKIAUSER")
        #expect(await delete(s.header, principal: iamUser) == (.accessDenied, "This operation may only be performed by the bucket owner"))
        let session = Principal(userName: "root", isSession: true, accessKey: "ASIA")
        #expect(await delete(s.header, principal: session).0 == .invalidRequest)
        #expect(await delete(s.header, context: ConnectionInfo(insecureMFAReason: "must use HTTPS")).0 == .invalidRequest)
        #expect(await delete("\(s.serial) \(s.code(-1))").0 == .accessDenied)  // at or before the last step
        #expect(await delete("arn:aws:iam::123456789012:mfa/other \(s.code(1))").0 == .accessDenied)
        // The version is still there after all of that, and every refusal was audited without a code.
        #expect(try await s.h.read("vault", "doc", versionID: version) == "v1")
        let audit = try s.h.store.readNow { try $0.audit(after: 0, limit: 100) }.filter { $0.event == "S3:DeleteObject" }
        #expect(audit.map(\.outcome.rawValue) == ["refused", "refused", "refused", "refused", "refused", "refused", "failed", "failed"])
        #expect(audit.allSatisfy { !($0.detail ?? "").contains("123456") })  // the malformed header's value
        let good = "\(s.serial) \(s.code(1))"
        #expect(await delete(good).0 == nil)
        #expect(await delete(good).0 == .accessDenied)  // replay
        // A simple delete never needs MFA.
        _ = try await s.h.engine.deleteObject(bucket: "vault", key: "doc", versionID: nil, principal: Harness.root, mfa: nil)
    }

    @Test("N concurrent requests with one code: exactly one succeeds, and each is counted once")
    func replayRace() async throws {
        let s = try await Self.rootWithDevice()
        try await Self.mfaBucket(s)
        var versions: [String] = []
        for index in 0..<12 { versions.append(try #require(try await s.h.put("vault", "k\(index)", "x").versionID)) }
        s.h.clock.advance(seconds: 30)
        let header = s.header
        let (passed, replayed, total) = (s.h.checks[.passed], s.h.checks[.replayed], s.h.checks.total)
        let successes = await withTaskGroup(of: Bool.self) { group in
            for (index, version) in versions.enumerated() {
                group.addTask {
                    (try? await s.h.engine.deleteObject(bucket: "vault", key: "k\(index)", versionID: version,
                                                        principal: Harness.root, mfa: PresentedMFA(header: header))) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1)
        #expect(try await s.h.versions("vault").count == 11)
        // One judgement per request, however often a cluster's transaction ran again after a conflict.
        #expect(s.h.checks[.passed] - passed == 1)
        #expect(s.h.checks[.replayed] - replayed == 11)
        #expect(s.h.checks.total - total == 12)
    }

    @Test("DeleteObjects is all or nothing: one versioned entry without a valid code deletes nothing")
    func multiDeleteAllOrNothing() async throws {
        let s = try await Self.rootWithDevice()
        try await Self.mfaBucket(s)
        let v1 = try #require(try await s.h.put("vault", "a", "1").versionID)
        try await s.h.put("vault", "b", "1")
        let mixed = [DeleteEntry(key: "a", versionID: v1), DeleteEntry(key: "b"), DeleteEntry(key: "c")]
        for header in [nil, "\(s.serial) 000000"] as [String?] {
            let (code, _) = await s3Code {
                _ = try await s.h.engine.deleteObjects(bucket: "vault", entries: mixed, principal: Harness.root,
                                                       mfa: header.map(PresentedMFA.init(header:)))
            }
            #expect(code == .accessDenied)
        }
        // An invalid token fails the request even when no entry names a version.
        let (plainCode, _) = await s3Code {
            _ = try await s.h.engine.deleteObjects(bucket: "vault", entries: [DeleteEntry(key: "b")],
                                                   principal: Harness.root, mfa: PresentedMFA(header: "\(s.serial) 000000"))
        }
        #expect(plainCode == .accessDenied)
        #expect(try await s.h.versions("vault").map(\.0) == ["a", "b"])  // no markers, nothing removed
        let results = try await s.h.engine.deleteObjects(bucket: "vault", entries: mixed, principal: Harness.root,
                                                         mfa: PresentedMFA(header: "\(s.serial) \(s.code(1))"))
        #expect(results.count == 3)
        // Without any version id and without a header, no MFA is needed.
        _ = try await s.h.engine.deleteObjects(bucket: "vault", entries: [DeleteEntry(key: "z")], principal: Harness.root,
                                               mfa: nil)
    }

    @Test("Throttling: 5 wrong codes per step judged, then a growing back-off that refuses even the right code")
    func throttle() async throws {
        let s = try await Self.rootWithDevice()
        try await Self.mfaBucket(s)  // last step = now + 1 step
        s.h.clock.advance(seconds: 30)
        let wrong = s.parameters.code(step: s.step() + 9)
        func attempt(_ code: String) async -> Bool {
            await s3Code {
                try await s.h.engine.putVersioning("vault", .init(status: .enabled), principal: Harness.root,
                                                   mfa: PresentedMFA(header: "\(s.serial) \(code)"))
                // A no-op change is not protected; make it one that is.
                try await s.h.engine.putVersioning("vault", .init(status: .suspended), principal: Harness.root,
                                                   mfa: PresentedMFA(header: "\(s.serial) \(code)"))
            }.0 == nil
        }
        // Malformed values and replays never count.
        for _ in 0..<10 { #expect(await attempt("12345") == false) }
        for _ in 0..<5 { #expect(await attempt(wrong) == false) }
        var device = try #require(try s.h.store.readNow { try $0.device(s.serial) })
        #expect(device.windowFailures == 5 && device.throttledUntil == 0)
        #expect(await attempt(wrong) == false)  // the sixth: back-off starts
        device = try #require(try s.h.store.readNow { try $0.device(s.serial) })
        #expect(device.throttledUntil == s.h.clock.milliseconds() + 1000)
        #expect(await attempt(s.code()) == false)  // the right code, refused while throttled
        s.h.clock.advance(seconds: 1)
        #expect(await attempt(s.code()) == true)
        device = try #require(try s.h.store.readNow { try $0.device(s.serial) })
        #expect(device.failures == 0 && device.backoffs == 0 && device.throttledUntil == 0)
        // Back-offs grow and are capped: never a permanent lock.
        var record = device
        for _ in 0..<40 { DeviceVerifier.registerFailure(&record, at: Self.start) }
        #expect(record.throttledUntil == Self.start + DeviceVerifier.maxBackoffSeconds * 1000)
    }

    /// The pen test sent 100 wrong codes at once and had every one judged: the failures were
    /// counted in a later write. Now the count is written in the transaction that judged the code,
    /// before any other check runs.
    @Test("A burst of concurrent wrong codes is judged exactly as the same codes one by one")
    func concurrentThrottle() async throws {
        let s = try await Self.rootWithDevice()
        s.h.clock.advance(seconds: 30)
        let wrong = s.parameters.code(step: s.step() + 9)
        let refused = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    do {
                        _ = try await s.h.registry.account.getSessionToken(Self.root, duration: nil, serial: s.serial, code: wrong,
                                                                   info: Self.info)
                        return false
                    } catch {
                        return true
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(refused == 100)
        let audit = try s.h.store.readNow { try $0.audit(after: 0, limit: 1000) }
        #expect(audit.filter { $0.detail == "wrong code" }.count == 6)  // 5 per step, the 6th starts the back-off
        #expect(audit.filter { $0.detail == "throttled" }.count == 94)
        let device = try #require(try s.h.store.readNow { try $0.device(s.serial) })
        #expect(device.windowFailures == 6 && device.throttledUntil == s.h.clock.milliseconds() + 1000)
    }

    @Test("A back-off in force survives step boundaries, then the right code works again")
    func backoffAcrossSteps() async throws {
        let s = try await Self.rootWithDevice()
        var device = try #require(try s.h.store.readNow { try $0.device(s.serial) })
        for _ in 0..<20 { DeviceVerifier.registerFailure(&device, at: s.h.clock.milliseconds()) }  // the 300 s cap
        let throttled = device
        try await s.h.store.write { transaction in try transaction.updateDevice(throttled) }
        s.h.clock.advance(seconds: 90)  // three steps on, still inside the 300 s back-off
        await #expect(throws: IAMError.self) {
            _ = try await s.h.registry.account.getSessionToken(Self.root, duration: nil, serial: s.serial, code: s.code(),
                                                       info: Self.info)
        }
        s.h.clock.advance(seconds: 240)
        _ = try await s.h.registry.account.getSessionToken(Self.root, duration: nil, serial: s.serial, code: s.code(), info: Self.info)
    }

    @Test("Only the creator or the root may enable an unassigned device; a stranger's codes are never judged")
    func enableByCreatorOnly() async throws {
        let h = try Harness(clock: TestClock(pinnedAt: Self.start))
        _ = try await h.registry.users.createUser(Self.root, name: "eve", path: nil)
        let eve = Principal(userName: "eve")
        let device = try await h.registry.devices.createVirtualDevice(Self.root, name: "pending", path: nil, tags: [], info: Self.info)
        for _ in 0..<10 {
            await #expect(throws: IAMError.self) {
                try await h.registry.devices.enableDevice(eve, userName: "eve", serial: device.serial, code1: "123456",
                                                  code2: "654321", info: Self.info)
            }
        }
        let record = try #require(try h.store.readNow { try $0.device(device.serial) })
        #expect(record.windowFailures == 0 && record.throttledUntil == 0 && record.creator == "root")
        for index in 0..<Registry.maxUnassignedDevicesPerUser {
            _ = try await h.registry.devices.createVirtualDevice(eve, name: "eve\(index)", path: nil, tags: [], info: Self.info)
        }
        await #expect(throws: IAMError.self) {
            _ = try await h.registry.devices.createVirtualDevice(eve, name: "one-too-many", path: nil, tags: [], info: Self.info)
        }
    }

    @Test("Drift: enable learns it (bounded); an ordinary check never changes it; resync moves it")
    func drift() async throws {
        let h = try Harness(clock: TestClock(pinnedAt: Self.start))
        let device = try await h.registry.devices.createVirtualDevice(Self.root, name: "fast", path: nil, tags: [], info: Self.info)
        let p = try TOTPParameters(secret: Base32.decode(device.base32Seed))
        let now = p.step(at: Self.start / 1000)
        // A device whose clock runs 5 steps ahead.
        try await h.registry.devices.enableDevice(Self.root, userName: "root", serial: device.serial, code1: p.code(step: now + 4),
                                          code2: p.code(step: now + 5), info: Self.info)
        var record = try #require(try h.store.readNow { try $0.device(device.serial) })
        #expect(record.drift == 5 && record.lastStep == now + 5)
        h.clock.advance(seconds: 30)
        // The device now shows now + 1 + 5: accepted around now + drift; drift unchanged.
        try await h.store.write { transaction in
            try h.registry.verifier.check(serial: device.serial, code: p.code(step: now + 6), user: "root",
                                          context: .init(event: "t", principal: "root", source: nil, requestID: nil),
                                          in: transaction)
        }
        record = try #require(try h.store.readNow { try $0.device(device.serial) })
        #expect(record.drift == 5)
        // Resync to a clock that is now correct.
        h.clock.advance(seconds: 300)
        let later = p.step(at: h.clock.milliseconds() / 1000)
        try await h.registry.devices.resyncDevice(Principal(userName: "root", isSession: true, mfaAuthenticated: true), userName: "root",
                                          serial: device.serial, code1: p.code(step: later - 1),
                                          code2: p.code(step: later), info: Self.info)
        record = try #require(try h.store.readNow { try $0.device(device.serial) })
        #expect(record.drift == 0)
    }

    @Test("Enable window: pairs within ±20 steps, in order and consecutive; codes must be 6 digits")
    func enableWindow() async throws {
        let h = try Harness(clock: TestClock(pinnedAt: Self.start))
        let p0 = try await h.registry.devices.createVirtualDevice(Self.root, name: "w", path: nil, tags: [], info: Self.info)
        let p = try TOTPParameters(secret: Base32.decode(p0.base32Seed))
        let now = p.step(at: Self.start / 1000)
        func enable(_ a: Int64, _ b: Int64) async -> IAMError.Code? {
            do {
                try await h.registry.devices.enableDevice(Self.root, userName: "root", serial: p0.serial, code1: p.code(step: a),
                                                  code2: p.code(step: b), info: Self.info)
                return nil
            } catch let error as IAMError {
                return error.code
            } catch {
                return .serviceFailure
            }
        }
        #expect(await enable(now - 22, now - 21) == .invalidAuthenticationCode)
        #expect(await enable(now + 21, now + 22) == .invalidAuthenticationCode)
        #expect(await enable(now + 1, now) == .invalidAuthenticationCode)
        #expect(await enable(now, now + 2) == .invalidAuthenticationCode)
        await #expect(throws: IAMError.self) {
            try await h.registry.devices.enableDevice(Self.root, userName: "root", serial: p0.serial, code1: "12345",
                                              code2: "123456", info: Self.info)
        }
        #expect(await enable(now - 20, now - 19) == nil)
        // Enabled now: plain root keys meet the root rule first; an MFA session meets "in use".
        #expect(await enable(now, now + 1) == .accessDenied)
        await #expect(throws: IAMError(.entityAlreadyExists, "MFA Device is already in use.")) {
            try await h.registry.devices.enableDevice(Principal(userName: "root", isSession: true, mfaAuthenticated: true),
                                              userName: "root", serial: p0.serial, code1: p.code(step: now),
                                              code2: p.code(step: now + 1), info: Self.info)
        }
    }

    @Test("A stolen root key alone cannot change the root's MFA once the root has a device")
    func rootRule() async throws {
        let s = try await Self.rootWithDevice()
        let second = try await s.h.registry.devices.createVirtualDevice(Self.root, name: "spare", path: nil, tags: [], info: Self.info)
        let p2 = try TOTPParameters(secret: Base32.decode(second.base32Seed))
        let now = s.step()
        let plainRoot = Self.root
        let mfaSession = Principal(userName: "root", isSession: true, mfaAuthenticated: true)
        let plainSession = Principal(userName: "root", isSession: true, mfaAuthenticated: false)
        func code(_ body: () async throws -> Void) async -> IAMError.Code? {
            do { try await body(); return nil } catch let error as IAMError { return error.code } catch { return .serviceFailure }
        }
        #expect(await code {
            try await s.h.registry.devices.enableDevice(plainRoot, userName: "root", serial: second.serial,
                                                code1: p2.code(step: now), code2: p2.code(step: now + 1), info: Self.info)
        } == .accessDenied)
        #expect(await code {
            try await s.h.registry.devices.deactivateDevice(plainRoot, userName: "root", serial: s.serial, info: Self.info)
        } == .accessDenied)
        #expect(await code {
            try await s.h.registry.devices.deactivateDevice(plainSession, userName: "root", serial: s.serial, info: Self.info)
        } == .accessDenied)
        #expect(await code {
            try await s.h.registry.devices.enableDevice(mfaSession, userName: "root", serial: second.serial,
                                                code1: p2.code(step: now), code2: p2.code(step: now + 1), info: Self.info)
        } == nil)
        #expect(await code {
            try await s.h.registry.devices.deactivateDevice(mfaSession, userName: "root", serial: s.serial, info: Self.info)
        } == nil)
        // The host-side path, audited.
        #expect(try await s.h.registry.devices.adminDeactivate(serial: second.serial, operator: "ops") == "root")
        let audit = try s.h.store.readNow { try $0.audit(after: 0, limit: 100) }
        #expect(audit.contains { $0.event == "AdminDeactivateMFADevice" && $0.principal == "admin:ops" })
    }

    @Test("IAM users are limited to 8 devices; which devices they may manage is their policies' to say")
    func iamUsers() async throws {
        let h = try Harness(clock: TestClock(pinnedAt: Self.start))
        _ = try await h.registry.users.createUser(Self.root, name: "alice", path: nil)
        _ = try await h.registry.users.createUser(Self.root, name: "bob", path: nil)
        let alice = Principal(userName: "alice", accountID: "123456789012")
        var serials: [String] = []
        for index in 0..<9 {
            let device = try await h.registry.devices.createVirtualDevice(alice, name: "a\(index)", path: nil, tags: [], info: Self.info)
            let p = try TOTPParameters(secret: Base32.decode(device.base32Seed))
            let now = p.step(at: Self.start / 1000)
            do {
                try await h.registry.devices.enableDevice(alice, userName: "alice", serial: device.serial, code1: p.code(step: now),
                                                  code2: p.code(step: now + 1), info: Self.info)
                serials.append(device.serial)
            } catch let error as IAMError {
                #expect(index == 8 && error.code == .limitExceeded)
            }
        }
        #expect(serials.count == 8)
        #expect(try await h.registry.devices.listDevices(alice, userName: nil, marker: nil, maxItems: 3).isTruncated)
        // The authorization point: nothing until a policy allows it, then exactly what it allows.
        let own = "arn:aws:iam::123456789012:user/alice"
        let bobs = "arn:aws:iam::123456789012:user/bob"
        func decide(_ action: String, _ resource: String) -> Bool {
            (try? h.registry.access.authorize(alice, action: action, resource: resource, bucket: nil, service: .iam) {
                ConditionKeys.global(alice, connection: .init(secureTransport: true, sourceIP: nil, userAgent: nil),
                                     now: Self.start)
            }) != nil
        }
        #expect(!decide("iam:ListMFADevices", own))
        try await h.registry.policies.putInlinePolicy(.user("alice"), name: "own", document: """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:ListMFADevices",
             "iam:DeactivateMFADevice"], "Resource": "arn:aws:iam::*:user/${aws:username}"}]}
            """)
        #expect(decide("iam:ListMFADevices", own) && decide("iam:DeactivateMFADevice", own))
        #expect(!decide("iam:ListMFADevices", bobs) && !decide("iam:CreateUser", own))
        do {
            try h.registry.access.authorize(alice, action: "iam:ListMFADevices", resource: bobs, bucket: nil, service: .iam) { [:] }
            Issue.record("allowed")
        } catch let denial as Denial {
            #expect(denial.message == "User: \(own) is not authorized to perform: iam:ListMFADevices on resource: \(bobs) "
                + "because no identity-based policy allows the iam:ListMFADevices action")
        }
        await #expect(throws: IAMError.self) { try await h.registry.users.deleteUser(Self.root, name: "alice") }
        try await h.registry.devices.deactivateDevice(Self.root, userName: "alice", serial: serials[0], info: Self.info)
        try await h.registry.devices.deleteVirtualDevice(Self.root, serial: serials[0], info: Self.info)
    }

    @Test("Hardware tokens: CSV and PSKC, seeds of at least 128 bits, then enabled like AWS")
    func hardwareTokens() async throws {
        let csv = try HardwareTokens.parse("""
            serial,seed,digits,period,algorithm
            GAKT00000001,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,6,30,SHA1
            GAKT00000002,3132333435363738393031323334353637383930
            """)
        #expect(csv.map(\.serial) == ["GAKT00000001", "GAKT00000002"])
        #expect(csv[1].seed == Array("12345678901234567890".utf8))
        #expect(throws: HardwareTokens.ImportError.self) { try HardwareTokens.parse("SHORTSEED01,JBSWY3DPEHPK3PXP") }
        let pskc = try HardwareTokens.parse(String(contentsOfFile: Fixtures.data("tokens/sample-tokens.pskc"), encoding: .utf8))
        #expect(pskc.first?.serial == "PSKC00000001" && pskc.first?.seed == Array("12345678901234567890".utf8))

        let h = try Harness(clock: TestClock(pinnedAt: Self.start))
        try await h.registry.devices.importTokens(csv)
        let p = try TOTPParameters(secret: csv[1].seed)
        let now = p.step(at: Self.start / 1000)
        try await h.registry.devices.enableDevice(Self.root, userName: "root", serial: "GAKT00000002", code1: p.code(step: now),
                                          code2: p.code(step: now + 1), info: Self.info)
        #expect(try await h.registry.devices.listDevices(Self.root, userName: "root", marker: nil, maxItems: 10).items.map(\.serial)
            == ["GAKT00000002"])
    }
}

enum Fixtures {
    static func data(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Data").appendingPathComponent(name).path
    }
}
