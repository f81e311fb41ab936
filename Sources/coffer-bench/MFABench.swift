import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Foundation
import Synchronization
import TOTP

/// `coffer-bench mfa`: the cost of the MFA check on DeleteObject-with-versionId, in process (a
/// code is single-use per 30-second step, so a fresh code per request needs a clock that moves a
/// step per request), next to the same delete on a bucket without MFA Delete; and DeleteObjects
/// of 1,000 versions with one code.
enum MFABench {
    final class SteppingClock: Sendable {
        let milliseconds = Mutex<Int64>(1_800_000_000_000)
        func now() -> Int64 { milliseconds.withLock { $0 } }
        func nextStep() { milliseconds.withLock { $0 += 30_000 } }
    }

    static func run(count: Int) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-mfa-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Store(folder: folder)
        let clock = SteppingClock()
        let verifier = DeviceVerifier(masterKey: try MasterKey(bytes: Array(repeating: 1, count: 32)), now: { clock.now() })
        let registry = Registry(store: store, verifier: verifier, accountID: "123456789012")
        let engine = Engine(store: store, gate: MFADeleteGate(verifier: verifier), now: { clock.now() })
        let root = Principal(userName: "root")
        let info = Registry.RequestInfo(source: "bench", requestID: nil)
        let device = try await registry.devices.createVirtualDevice(root, name: "bench", path: nil, tags: [], info: info)
        let parameters = try TOTPParameters(secret: Base32.decode(device.base32Seed))
        func step() -> Int64 { parameters.step(at: clock.now() / 1000) }
        try await registry.devices.enableDevice(root, userName: "root", serial: device.serial, code1: parameters.code(step: step() - 1),
                                        code2: parameters.code(step: step()), info: info)
        let principal = Principal(userName: "root", accessKey: "ROOT")
        _ = try await engine.createBucket("plain", region: "us-east-1")
        _ = try await engine.createBucket("guarded", region: "us-east-1")
        try await engine.putVersioning("plain", .init(status: .enabled), principal: principal, mfa: nil)
        clock.nextStep()
        try await engine.putVersioning("guarded", .init(status: .enabled, mfaDelete: true), principal: principal,
                                       mfa: PresentedMFA(header: "\(device.serial) \(parameters.code(step: step()))"))

        func upload() -> ObjectUpload {
            ObjectUpload(staged: .inline(Array("x".utf8)), size: 1, etag: "9dd4e461268c8034f5c8564e155c67a6",
                         headers: StoredHeaders())
        }
        var plainVersions: [String] = [], guardedVersions: [String] = []
        for index in 0..<count {
            plainVersions.append(try await engine.putObject(bucket: "plain", key: "k\(index)", upload()).versionID!)
            guardedVersions.append(try await engine.putObject(bucket: "guarded", key: "k\(index)", upload()).versionID!)
        }
        let clockNow = ContinuousClock()
        var plainTimes: [Double] = [], guardedTimes: [Double] = []
        for index in 0..<count {
            let start = clockNow.now
            _ = try await engine.deleteObject(bucket: "plain", key: "k\(index)", versionID: plainVersions[index],
                                              principal: principal, mfa: nil)
            plainTimes.append(milliseconds(clockNow.now - start))

            clock.nextStep()
            let header = "\(device.serial) \(parameters.code(step: step()))"  // the authenticator's work, not timed
            let guardedStart = clockNow.now
            _ = try await engine.deleteObject(bucket: "guarded", key: "k\(index)", versionID: guardedVersions[index],
                                              principal: principal, mfa: PresentedMFA(header: header))
            guardedTimes.append(milliseconds(clockNow.now - guardedStart))
        }
        report("delete_version_plain_bucket", plainTimes)
        report("delete_version_mfa_bucket", guardedTimes)
        let added = percentile(guardedTimes, 0.5) - percentile(plainTimes, 0.5)
        print(String(format: "mfa_check_added_p50_ms %.3f (target < 1 ms)", added))

        // DeleteObjects: 1,000 versions of one key, one code.
        var batch: [DeleteEntry] = []
        for _ in 0..<1000 {
            let id = try await engine.putObject(bucket: "guarded", key: "many", upload()).versionID!
            batch.append(DeleteEntry(key: "many", versionID: id))
        }
        clock.nextStep()
        let header = "\(device.serial) \(parameters.code(step: step()))"
        let start = clockNow.now
        let results = try await engine.deleteObjects(bucket: "guarded", entries: batch, principal: principal, mfa: PresentedMFA(header: header))
        let elapsed = milliseconds(clockNow.now - start)
        print(String(format: "delete_objects_1000_versions_one_code_ms %.1f (%d deleted)", elapsed, results.count))
        try store.close()
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func report(_ name: String, _ values: [Double]) {
        print(String(format: "%@ p50_ms %.3f p99_ms %.3f n %d", name, percentile(values, 0.5), percentile(values, 0.99),
                     values.count))
    }
}
