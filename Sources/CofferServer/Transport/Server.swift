import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import NIOPosix
import WebAuthn

/// Everything `coffer serve` needs to know.
public struct ServerOptions: Sendable {
    public var dataFolder: URL
    public var host = "127.0.0.1"
    public var port = 9000
    public var region = "us-east-1"
    /// Root keys from the environment; generated and stored in the data folder when nil.
    public var rootAccessKey: String?
    public var rootSecretKey: String?
    public var inlineLimit = 64 * 1024
    public var maxObjectSize: Int64 = 5 * 1024 * 1024 * 1024
    /// `COFFER_MASTER_KEY` (base64 of 32 bytes), else the key file (default DATA/master.key).
    public var masterKey: String?
    public var masterKeyFile: URL?
    /// Accept `x-amz-mfa` over plain HTTP from any peer (test rigs only).
    public var allowInsecureMFA = false
    /// Proxies whose `X-Forwarded-Proto` is believed.
    public var trustedProxies: [String] = []
    /// Virtual-host addressing: `bucket.DOMAIN` selects the bucket; path style otherwise.
    public var domain: String?
    /// Answer small-object GET and HEAD in the channel pipeline (`InPlaceReads`); off
    /// only to compare against the general path.
    public var inPlaceReads = true
    /// Whether this process may create the master key and the root keys when the folder has
    /// none: `serve` only (and the master key only while nothing sealed exists); `coffer admin`
    /// never does.
    public var createKeys = true
    /// How long a request head (request line and headers) may take to arrive, in seconds.
    public var requestHeadTimeout: Int64 = 30
    /// How long a connection may wait between requests before it is closed, in seconds.
    public var idleTimeout: Int64 = 300
    /// Connections served at once; more wait in the listen backlog.
    public var maxConnections = 4096
    /// scrypt's cost for console passwords, as log2(N): 17 is OWASP's minimum; lower only for test rigs.
    public var passwordLogN = 17
    /// Seconds a write waits for another process's lock on the data folder before `503 SlowDown`.
    public var busyTimeout: Double = 30
    /// WebAuthn's relying-party id (a domain; browsers refuse WebAuthn on IP-address origins).
    public var webauthnRPID = "localhost"
    /// The origins allowed to use security keys; empty: the console's own `http(s)://localhost:PORT`.
    public var webauthnOrigins: [String] = []
    /// Host names the console answers to besides IP literals and `localhost` (DNS rebinding).
    public var consoleHostNames: [String] = []
    /// Where SMS codes go (webhook or outbox), whether SMS devices are allowed, the global cap.
    public var sms = SMSSettings()
    /// Cluster mode: the metadata in this PostgreSQL database (shared by every node) instead of
    /// the data folder's SQLite, and the bytes in `blobs` (a RADOS pool or a folder every node shares).
    public var database: PostgresTarget?
    public var blobs: ClusterBlobs?
    /// Told why a cluster node's writes pause and when they resume (its log).
    public var report: @Sendable (String) -> Void = { _ in }

    public init(dataFolder: URL) { self.dataFolder = dataFolder }
}

/// A data folder opened for serving: the store, the account, the root keys.
public final class CofferInstance: Sendable {
    /// The registry's clock (MFA codes, SMS codes and limits, console sessions): the system's.
    /// Debug builds only — test rigs, never a release — add the milliseconds written in the file
    /// that `COFFER_TEST_CLOCK_OFFSET_FILE` names, so that end-to-end tests can move time (an SMS
    /// code's expiry, an hour of send limits) without waiting.
    static func registryClock() -> @Sendable () -> Int64 {
        #if DEBUG
        if let file = ProcessInfo.processInfo.environment["COFFER_TEST_CLOCK_OFFSET_FILE"], !file.isEmpty {
            return {
                let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                let offset = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                return Engine.systemMilliseconds() &+ offset
            }
        }
        #endif
        return Engine.systemMilliseconds
    }

    /// The SMS settings with their sends counted in `/metrics`.
    static func observed(_ settings: SMSSettings, by metrics: CofferMetrics) -> SMSSettings {
        var settings = settings
        settings.observe = { metrics.smsSend($0) }
        return settings
    }

    public let options: ServerOptions
    public let store: Store
    public let engine: Engine
    public let registry: Registry
    public let metrics = CofferMetrics()
    public let accountID: String
    /// True when the master key file was created by this start.
    public let createdMasterKey: Bool
    public let rootAccessKey: String
    let rootSecretKey: String
    /// True when the root keys were generated by this start (so they are shown once).
    public let generatedRootKeys: Bool
    /// True when this start made the account (a new data folder).
    public let createdAccount: Bool

    public init(options: ServerOptions) throws {
        self.options = options
        if let database = options.database {
            try FileManager.default.createDirectory(at: options.dataFolder, withIntermediateDirectories: true)
            store = try Store(database: database, blobs: options.blobs ?? .folder(options.dataFolder), report: options.report)
        } else {
            store = try Store(folder: options.dataFolder, busyTimeout: options.busyTimeout)
        }
        (accountID, createdAccount) = try store.writeNow { transaction in
            if let existing = try transaction.setting("account_id") { return (existing, false) }
            var generator = SystemRandomNumberGenerator()
            let id = String(UInt64.random(in: 100_000_000_000...999_999_999_999, using: &generator))
            try transaction.setSetting("account_id", id)
            try transaction.setSetting("account_created_ms", String(Engine.systemMilliseconds()))
            return (id, true)
        }
        let masterKey: MasterKey
        let keyFile = options.masterKeyFile ?? options.dataFolder.appendingPathComponent("master.key")
        if let text = options.masterKey, !text.isEmpty {
            masterKey = try MasterKey(base64: text)
            createdMasterKey = false
        } else if let loaded = try MasterKey.load(file: keyFile) {
            masterKey = loaded
            createdMasterKey = false
        } else {
            // A new key over sealed data would make every seed and secret unreadable for good.
            guard options.createKeys, try !store.readNow({ try $0.hasSealedData() }) else {
                throw InstanceError.missingMasterKey(keyFile.path)
            }
            masterKey = try MasterKey.create(file: keyFile)
            createdMasterKey = true
        }
        if store.isCluster { try Self.checkClusterKey(masterKey, in: store) }
        let metrics = self.metrics
        let verifier = DeviceVerifier(masterKey: masterKey, now: Self.registryClock(),
                                      observe: { metrics.mfaCheck($0) })
        registry = Registry(store: store, verifier: verifier, accountID: accountID,
                            passwords: PasswordHasher(cost: .init(logN: options.passwordLogN, blockSize: 8, parallelism: 1)),
                            sms: Self.observed(options.sms, by: metrics))
        engine = Engine(store: store, gate: MFADeleteGate(verifier: verifier))
        if let access = options.rootAccessKey, let secret = options.rootSecretKey, !access.isEmpty, !secret.isEmpty {
            rootAccessKey = access
            rootSecretKey = secret
            generatedRootKeys = false
        } else if store.isCluster {
            (rootAccessKey, rootSecretKey, generatedRootKeys) = try Self.clusterRootKeys(masterKey, in: store,
                                                                                          create: options.createKeys)
        } else {
            (rootAccessKey, rootSecretKey, generatedRootKeys) = try RootKeyFile.loadOrCreate(
                in: options.dataFolder, create: options.createKeys)
        }
    }

    /// Every node of a cluster must hold the same master key (each node has it as a file or in
    /// COFFER_MASTER_KEY; it is never in the database). The first node to start records a MAC of
    /// it under the key itself; a node whose key does not give the same MAC refuses to start
    /// rather than seal with a key the others cannot open.
    public static func checkClusterKey(_ masterKey: MasterKey, in store: Store) throws {
        let check = hexString(masterKey.mac(Array("coffer cluster master key".utf8), purpose: "cluster-key-check"))
        let recorded = try store.writeNow { transaction -> String in
            if let existing = try transaction.setting("master_key_check") { return existing }
            try transaction.setSetting("master_key_check", check)
            return check
        }
        guard recorded == check else { throw InstanceError.clusterKeyMismatch }
    }

    /// Records root keys in a cluster's database (`coffer admin migrate` carries a data folder's over).
    public static func storeClusterRootKeys(access: String, secret: String, masterKey: MasterKey, in store: Store) throws {
        let sealed = Data(try masterKey.seal(Array(secret.utf8), context: "root-secret")).base64EncodedString()
        try store.writeNow { transaction in
            try transaction.setSetting("root_access_key", access)
            try transaction.setSetting("root_secret_sealed", sealed)
        }
    }

    /// The root keys a data folder keeps in `root-credentials`, if it has them.
    public static func folderRootKeys(in folder: URL) -> (access: String, secret: String)? {
        guard let (access, secret, _) = try? RootKeyFile.loadOrCreate(in: folder, create: false), !access.isEmpty else { return nil }
        return (access, secret)
    }

    /// A cluster's root keys, in the database with the secret sealed under the master key: made
    /// by the first node that starts, read by the others.
    static func clusterRootKeys(_ masterKey: MasterKey, in store: Store, create: Bool) throws -> (String, String, Bool) {
        let context = "root-secret"
        func read(_ transaction: StoreTransaction) throws -> (String, String)? {
            guard let access = try transaction.setting("root_access_key"),
                  let sealed = try transaction.setting("root_secret_sealed"),
                  let bytes = Data(base64Encoded: sealed)
            else { return nil }
            return (access, String(decoding: try masterKey.open(Array(bytes), context: context), as: UTF8.self))
        }
        if let existing = try store.readNow(read) { return (existing.0, existing.1, false) }
        guard create else { return ("", "", false) }
        let access = "AKIA" + SecureRandom.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", count: 16)
        let secret = SecureRandom.string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", count: 40)
        let sealed = Data(try masterKey.seal(Array(secret.utf8), context: context)).base64EncodedString()
        return try store.writeNow { transaction in
            // Two nodes starting at once: the first to commit wins, the other reads its keys.
            if let existing = try read(transaction) { return (existing.0, existing.1, false) }
            try transaction.setSetting("root_access_key", access)
            try transaction.setSetting("root_secret_sealed", sealed)
            return (access, secret, true)
        }
    }

    /// The secret of the root keys, for the one-time banner. Never logged.
    public var rootSecretForBanner: String { rootSecretKey }

    /// The web console on its own listener (same host; HTTPS with `tls`), over the same engine,
    /// registry and authorization point as the API.
    public func makeConsole(logger: Logger, port: Int, tls: TLSConfiguration? = nil,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        throws -> some ApplicationProtocol {
        let origins = options.webauthnOrigins.isEmpty ? ["\(tls == nil ? "http" : "https")://localhost:\(port)"] : options.webauthnOrigins
        let responder = ConsoleResponder(s3: makeResponder(isTLS: tls != nil), registry: registry, isTLS: tls != nil,
                                         hostNames: Set(options.consoleHostNames.map { $0.lowercased() }),
                                         relyingParty: RelyingParty(id: options.webauthnRPID, origins: Set(origins)),
                                         rootAccessKey: rootAccessKey, assets: try ConsoleAssets.checked(), s3Port: options.port)
        let http: HTTPServerBuilder = .http1OnEventLoop(configuration: .init(additionalChannelHandlers: [ConnectionGuard()]),
                                                        inPlace: nil, headTimeout: .seconds(options.requestHeadTimeout),
                                                        idleTimeout: .seconds(options.idleTimeout))
        return Application(
            responder: responder.router().buildResponder(),
            server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
            configuration: .init(address: .hostname(options.host, port: port), serverName: nil, backlog: 1024,
                                 availableConnectionsDelegate: MaximumAvailableConnections(1024)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The S3 (and IAM/STS) responder: one per listener.
    func makeResponder(isTLS: Bool) -> S3Responder {
        let ownerID = hexString(SHA256.hash(data: Array("coffer-account:\(accountID)".utf8)))
        let settings = ServerSettings(region: options.region, accountID: accountID, ownerID: ownerID,
                                      ownerName: "coffer-\(accountID)", inlineLimit: options.inlineLimit,
                                      maxObjectSize: options.maxObjectSize, domain: options.domain)
        let verifier = SigV4Verifier(credentials: RegistryCredentialStore(rootAccessKey: rootAccessKey,
                                                                          rootSecretKey: rootSecretKey, registry: registry),
                                     region: options.region, now: { Int64(Date().timeIntervalSince1970) })
        let transport = TransportPolicy(isTLS: isTLS, allowInsecureMFA: options.allowInsecureMFA,
                                        trustedProxies: Set(options.trustedProxies))
        let refusals = RefusalAudit(store: engine.store, now: engine.now)
        return S3Responder(engine: engine, verifier: verifier, settings: settings,
                           queryAPI: QueryAPI(registry: registry, verifier: verifier, refusals: refusals),
                           transport: transport, metrics: metrics,
                           authorizer: S3Authorizer(access: registry.access, refusals: refusals, now: engine.now),
                           prepared: PreparedAnswers.cache(for: engine.store))
    }

    /// The Hummingbird application serving S3 on the configured address — or, with `tls`, over
    /// HTTPS; `port` overrides the configured one (the plain listener beside an HTTPS one).
    public func makeApplication(logger: Logger, tls: TLSConfiguration? = nil, port: Int? = nil,
                                onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        throws -> some ApplicationProtocol {
        let responder = makeResponder(isTLS: tls != nil)
        let http: HTTPServerBuilder = .http1OnEventLoop(configuration: .init(additionalChannelHandlers: [ConnectionGuard()]),
                                                        // A cluster node's reads go to PostgreSQL: never on an event loop.
                                                        inPlace: options.inPlaceReads && !store.isCluster ? responder.respondInPlace : nil,
                                                        headTimeout: .seconds(options.requestHeadTimeout),
                                                        idleTimeout: .seconds(options.idleTimeout))
        return Application(
            responder: responder,
            server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
            // Past maxConnections, new connections wait in the (long) listen backlog until one
            // closes, rather than being reset.
            configuration: .init(address: .hostname(options.host, port: port ?? options.port), serverName: nil,
                                 backlog: 4096,
                                 availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            // One loop per core on a cluster too: nothing a request does there holds its loop —
            // object reads and writes suspend while PostgreSQL answers, and a credential or
            // policy that a decision misses in its cache is read the same way (`Store.resolving`).
            eventLoopGroupProvider: .singleton,
            logger: logger
        )
    }

}

/// The generated root keys, kept in `root-credentials` (mode 0600) in the data folder.
enum RootKeyFile {
    /// Without `create` (`coffer admin`), a folder without the file gets empty keys that match
    /// no request: admin commands never authenticate anyone, and never write this file.
    static func loadOrCreate(in folder: URL, create: Bool) throws -> (String, String, Bool) {
        let path = folder.appendingPathComponent("root-credentials").path
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            var values: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            if let access = values["access_key"], let secret = values["secret_key"] { return (access, secret, false) }
        }
        guard create else { return ("", "", false) }
        let access = "AKIA" + SecureRandom.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", count: 16)
        let secret = SecureRandom.string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", count: 40)
        let contents = "access_key=\(access)\nsecret_key=\(secret)\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8),
                                             attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteNoPermission) }
        return (access, secret, true)
    }
}

/// Why a data folder cannot be opened.
public enum InstanceError: Error, CustomStringConvertible {
    case missingMasterKey(String)
    case clusterKeyMismatch

    public var description: String {
        switch self {
        case .missingMasterKey(let path):
            "no master key at \(path), and this data folder holds sealed MFA seeds and secret keys that only the "
                + "key it was created with can open. Set COFFER_MASTER_KEY (or --master-key-file) to the key the "
                + "server uses; Coffer never makes a new one over sealed data."
        case .clusterKeyMismatch:
            "this node's master key is not the one the cluster's first node recorded: give every node the same key "
                + "(--master-key-file or COFFER_MASTER_KEY); without it this node could neither open nor seal what the others do"
        }
    }
}
