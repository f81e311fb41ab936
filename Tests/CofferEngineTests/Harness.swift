import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Crypto
import Foundation
import Synchronization

/// A real store in a fresh temporary folder, and helpers to drive the engine.
struct Harness {
    let folder: URL
    let store: Store
    let engine: Engine
    let registry: Registry
    let clock: TestClock
    /// Every code the verifier judged, as `coffer_mfa_checks_total` counts them.
    let checks = CheckCounts()
    static let root = Principal(userName: "root", accessKey: "ROOTKEY")
    static let masterKey = try! MasterKey(bytes: Array(repeating: 7, count: 32))

    init(folder: URL? = nil, clock: TestClock = TestClock()) throws {
        let folder = folder ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("coffer-engine-\(UUID().uuidString)")
        self.folder = folder
        self.clock = clock
        store = try Store.forTesting(folder: folder)
        let checks = checks
        let verifier = DeviceVerifier(masterKey: Self.masterKey, now: { clock.milliseconds() },
                                      observe: { checks.add($0) })
        registry = Registry(store: store, verifier: verifier, accountID: "123456789012")
        engine = Engine(store: store, gate: MFADeleteGate(verifier: verifier))
    }

    func upload(_ bytes: [UInt8], headers: StoredHeaders = StoredHeaders(), inlineLimit: Int = 64 * 1024) throws -> ObjectUpload {
        let stager = BlobStager(blobs: store.blobs, inlineLimit: inlineLimit)
        try bytes.withUnsafeBytes { try stager.append($0) }
        let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return ObjectUpload(staged: stager.finish(), size: Int64(bytes.count), etag: md5, headers: headers)
    }

    @discardableResult
    func put(_ bucket: String, _ key: String, _ text: String, inlineLimit: Int = 64 * 1024) async throws -> PutOutcome {
        try await engine.putObject(bucket: bucket, key: key, upload(Array(text.utf8), inlineLimit: inlineLimit))
    }

    func read(_ bucket: String, _ key: String, versionID: String? = nil) async throws -> String {
        let version = try await engine.objectForRead(bucket: bucket, key: key, versionID: versionID)
        return String(decoding: try bytes(of: version), as: UTF8.self)
    }

    /// A version's bytes, gathered from its segments the way GET streams them.
    func bytes(of version: ObjectVersion) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for segment in try engine.segments(of: version) {
            switch segment {
            case .bytes(let inline): bytes += inline
            case .file(let name, _): bytes += try Data(contentsOf: URL(fileURLWithPath: store.blobs.path(of: name)))
            }
        }
        return bytes
    }

    @discardableResult
    func delete(_ bucket: String, _ key: String, versionID: String? = nil) async throws -> DeleteOutcome {
        try await engine.deleteObject(bucket: bucket, key: key, versionID: versionID, principal: Self.root, mfa: nil)
    }

    func versioning(_ bucket: String, _ status: VersioningConfiguration.Request.Status) async throws {
        try await engine.putVersioning(bucket, .init(status: status), principal: Self.root, mfa: nil)
    }

    /// Every entry of ListObjectVersions, as (key, versionID, isMarker, isLatest).
    func versions(_ bucket: String) async throws -> [(String, String, Bool, Bool)] {
        try await engine.listObjectVersions(bucket: bucket, ListingQuery()).entries
            .map { ($0.key, $0.versionID, $0.isDeleteMarker, $0.isLatest) }
    }

    func s3Error(_ body: () async throws -> Void) async -> S3Error? {
        do {
            try await body()
            return nil
        } catch let error as S3Error {
            return error
        } catch {
            return S3Error(.internalError, "\(error)")
        }
    }
}

/// A clock for MFA tests: wall time by default, or pinned and moved by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var pinned: Int64?

    init(pinnedAt milliseconds: Int64? = nil) { pinned = milliseconds }

    func milliseconds() -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        return pinned ?? Int64(Date().timeIntervalSince1970 * 1000)
    }

    func set(_ milliseconds: Int64) {
        lock.lock()
        pinned = milliseconds
        lock.unlock()
    }

    func advance(seconds: Int64) { set(milliseconds() + seconds * 1000) }
}

/// The verifier's judged codes by outcome.
final class CheckCounts: Sendable {
    private let counts = Mutex<[DeviceVerifier.CheckOutcome: Int]>([:])
    func add(_ outcome: DeviceVerifier.CheckOutcome) { counts.withLock { $0[outcome, default: 0] += 1 } }
    subscript(_ outcome: DeviceVerifier.CheckOutcome) -> Int { counts.withLock { $0[outcome] ?? 0 } }
    var total: Int { counts.withLock { $0.values.reduce(0, +) } }
}
