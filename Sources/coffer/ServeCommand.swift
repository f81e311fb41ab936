import ArgumentParser
import CofferIAM
import CofferServer
import CofferStore
import Foundation
import Hummingbird
import NIOSSL
import ServiceLifecycle
import Logging
import SMSWebhook

/// `coffer serve`: the S3 API on one port, on the embedded store in a data folder.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the S3-compatible server on a data folder (SQLite + blob files).",
        discussion: """
            Root keys come from COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY; when those are unset they \
            are generated on first start, stored in DATA/root-credentials (mode 0600) and printed once. \
            Seeds and secret keys are sealed with the master key (COFFER_MASTER_KEY, or DATA/master.key): \
            back it up apart from the data.

            Several processes may serve one data folder. Each caches object and access-key lookups; \
            DATA/write-generation, moved by every write, keeps the caches of all of them current. \
            Edit the database by hand only with Coffer stopped.
            """
    )

    @Option(help: "The data folder (created if missing).")
    var data: String = "data"

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one).")
    var port: Int = 9000

    @Option(help: "The server's region: the one every signature's scope must name (IAM and STS also accept us-east-1), and the region of buckets created without a LocationConstraint.")
    var region: String = "us-east-1"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "The master key file that seals seeds and secrets (default: DATA/master.key). COFFER_MASTER_KEY (base64 of 32 bytes) wins over it.")
    var masterKeyFile: String?

    @Flag(help: "Accept x-amz-mfa over plain HTTP from any peer (AWS requires HTTPS; by default only loopback clients may use plain HTTP).")
    var allowInsecureMFA = false

    @Option(help: "A proxy address whose X-Forwarded-Proto is trusted (repeatable).")
    var trustedProxy: [String] = []

    @Option(help: "Enable virtual-host addressing: a Host of BUCKET.DOMAIN selects the bucket (path style otherwise).")
    var domain: String?

    @Option(help: "TLS certificate chain (PEM): --port then serves HTTPS.")
    var tlsCert: String?

    @Option(help: "TLS private key (PEM), with --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Serve HTTPS with a self-signed certificate created once in DATA/tls/ for --host, localhost and loopback.")
    var tlsSelfSigned = false

    @Option(parsing: .upToNextOption, help: "Extra host names for the self-signed certificate.")
    var tlsHostname: [String] = []

    @Option(help: "With TLS: also serve plain HTTP on this port.")
    var httpPort: Int?

    @Option(help: "Serve the web console on this port (same --host; HTTPS when --port has TLS). Without it there is no console.")
    var consolePort: Int?

    @Option(help: "A host name the console answers to, besides IP addresses and localhost (repeatable). Any other Host gets 421 (DNS rebinding).")
    var consoleHostName: [String] = []

    @Option(help: "The WebAuthn relying-party id for security keys in the console (a domain name: browsers refuse WebAuthn on IP addresses).")
    var webauthnRpId: String = "localhost"

    @Option(help: "An origin allowed to use security keys (repeatable; default: the console's own http(s)://localhost:CONSOLE-PORT).")
    var webauthnOrigin: [String] = []

    @Option(help: "Seconds a request head (request line and headers) may take to arrive once it has begun.")
    var requestHeadTimeout: Int64 = 30

    @Option(help: "Seconds a connection may wait between requests before it is closed.")
    var idleTimeout: Int64 = 300

    @Option(help: "Connections served at once; more wait in the listen backlog (never reset).")
    var maxConnections: Int = 4096

    @Option(help: "scrypt cost of console passwords as log2(N), 10-20. 17 (128 MiB a hash) is OWASP's minimum: lower it only for test rigs.")
    var passwordLogN: Int = 17

    @Option(help: "Seconds a write waits for another process's lock on the data folder (coffer admin, a second server) before it answers 503 SlowDown, which clients retry.")
    var busyTimeout: Double = 30

    @Option(help: "Send SMS MFA codes by POSTing signed JSON to this http(s) URL (a relay to an SMS provider; see the README). Needs --sms-webhook-secret-file or COFFER_SMS_WEBHOOK_SECRET.")
    var smsWebhook: String?

    @Option(help: "A file holding the secret (at least 16 bytes) that signs every SMS webhook request (X-Coffer-Signature). COFFER_SMS_WEBHOOK_SECRET wins over it.")
    var smsWebhookSecretFile: String?

    @Option(help: "Write SMS MFA codes as files (mode 0600) into this folder instead of sending them: for demos and sites without an SMS provider (`coffer admin sms-outbox` lists them).")
    var smsOutbox: String?

    @Option(help: "SMS messages sent per minute at most, to anyone (besides the per-user and per-number limits).")
    var smsPerMinute: Int = 20

    @Flag(help: "Forbid SMS text-message MFA devices in this account: none can be assigned, and existing ones give no codes.")
    var forbidSmsMfa = false

    @Option(help: "Cluster mode: keep the metadata (buckets, versions, IAM, the used-code ledger) in this PostgreSQL database, shared by every node, instead of DATA/coffer.sqlite: postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]...]/DATABASE. With several hosts a node uses the first that takes writes and moves on when it fails or turns read-only. COFFER_DATABASE works too. Needs --blobs.")
    var database: String?

    @Option(help: "Cluster mode: where every node keeps object bytes. rados:POOL[?conf=CEPH_CONF_FILE&id=CLIENT_ID&namespace=NS] for a Ceph RADOS pool (librados2 must be installed; without conf, CEPH_CONF or /etc/ceph/ceph.conf; a namespace lets several clusters share a pool; uploads are staged in this machine's temporary folder), or a folder every node shares (a shared file system). With --database.")
    var blobs: String?

    /// The SMS settings the flags ask for.
    func smsSettings() throws -> SMSSettings {
        guard (1...10_000).contains(smsPerMinute) else { throw UsageError("--sms-per-minute must be 1 to 10000") }
        var settings = SMSSettings(forbidden: forbidSmsMfa, globalPerMinute: smsPerMinute)
        switch (smsWebhook, smsOutbox) {
        case (.some, .some):
            throw UsageError("give --sms-webhook or --sms-outbox, not both")
        case (.some(let url), nil):
            var secret = ProcessInfo.processInfo.environment["COFFER_SMS_WEBHOOK_SECRET"].map { Array($0.utf8) } ?? []
            if secret.isEmpty, let file = smsWebhookSecretFile {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw UsageError("cannot read --sms-webhook-secret-file \(file)")
                }
                secret = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            }
            guard !secret.isEmpty else {
                throw UsageError("--sms-webhook needs a signing secret: --sms-webhook-secret-file or COFFER_SMS_WEBHOOK_SECRET")
            }
            do {
                settings.delivery = try SMSWebhook(url: url, secret: secret)
            } catch {
                throw UsageError("--sms-webhook: \(error)")
            }
        case (nil, .some(let folder)):
            do {
                settings.delivery = try SMSOutbox(folder: URL(fileURLWithPath: folder, isDirectory: true))
            } catch {
                throw UsageError("cannot use --sms-outbox \(folder): \(Self.describe(error))")
            }
        case (nil, nil):
            break
        }
        return settings
    }

    func run() async throws {
        guard (0...65_535).contains(port) else { throw UsageError("--port must be 0 to 65535") }
        if let consolePort {
            guard (0...65_535).contains(consolePort) else { throw UsageError("--console-port must be 0 to 65535") }
        }
        guard (1...3600).contains(requestHeadTimeout) else { throw UsageError("--request-head-timeout must be 1 to 3600") }
        guard (1...86_400).contains(idleTimeout) else { throw UsageError("--idle-timeout must be 1 to 86400") }
        guard (1...1_000_000).contains(maxConnections) else { throw UsageError("--max-connections must be 1 to 1000000") }
        guard (10...20).contains(passwordLogN) else { throw UsageError("--password-log-n must be 10 to 20") }
        Self.raiseFileLimit()
        guard let level = Logger.Level(rawValue: logLevel) else { throw UsageError("unknown --log-level '\(logLevel)'") }
        var options = ServerOptions(dataFolder: URL(fileURLWithPath: data, isDirectory: true))
        options.host = host
        options.port = port
        options.region = region
        let environment = ProcessInfo.processInfo.environment
        options.rootAccessKey = environment["COFFER_ROOT_ACCESS_KEY"]
        options.rootSecretKey = environment["COFFER_ROOT_SECRET_KEY"]
        options.masterKey = environment["COFFER_MASTER_KEY"]
        options.masterKeyFile = masterKeyFile.map { URL(fileURLWithPath: $0) }
        options.allowInsecureMFA = allowInsecureMFA
        options.trustedProxies = trustedProxy
        options.domain = domain
        options.requestHeadTimeout = requestHeadTimeout
        options.idleTimeout = idleTimeout
        options.passwordLogN = passwordLogN
        options.webauthnRPID = webauthnRpId
        options.webauthnOrigins = webauthnOrigin
        for name in consoleHostName {
            guard let parsed = HostHeader.split(name), parsed.port == nil, !parsed.host.isEmpty else {
                throw UsageError("--console-host-name takes a host name without a port, not '\(name)'")
            }
        }
        options.consoleHostNames = consoleHostName
        options.maxConnections = maxConnections
        options.sms = try smsSettings()
        guard busyTimeout.isFinite, (0.1...3600).contains(busyTimeout) else { throw UsageError("--busy-timeout must be 0.1 to 3600") }
        options.busyTimeout = busyTimeout
        if let url = database ?? environment["COFFER_DATABASE"], !url.isEmpty {
            do {
                options.database = try PostgresTarget(url: url, environment: environment)
            } catch {
                throw UsageError("\(error)")
            }
            guard let blobs else { throw UsageError("--database needs --blobs: where every node keeps object bytes (a shared folder or rados:POOL)") }
            do {
                options.blobs = try ClusterBlobs(blobs)
            } catch {
                throw UsageError("--blobs: \(error)")
            }
        } else if blobs != nil {
            throw UsageError("--blobs goes with --database (cluster mode); a data folder keeps its blobs inside it")
        }
        let reportLogger = Logger(label: "coffer.cluster")
        options.report = { message in reportLogger.warning("\(message)") }

        let instance: CofferInstance
        do {
            instance = try CofferInstance(options: options)
        } catch {
            printError("coffer: cannot use \(options.database.map { "the cluster database \($0)" } ?? "data folder '\(data)'"): \(Self.describe(error))")
            throw ExitCode(1)
        }
        try? await instance.engine.reclaimAbandonedUploads()  // parts of uploads idle for a week
        var logger = Logger(label: "coffer")
        logger.logLevel = level
        if instance.generatedRootKeys {
            printLine("""
                New root keys (shown once; stored in \(options.database == nil ? "\(data)/root-credentials, mode 0600" : "the cluster database, the secret sealed under the master key")):
                  AWS_ACCESS_KEY_ID=\(instance.rootAccessKey)
                  AWS_SECRET_ACCESS_KEY=\(instance.rootSecretForBanner)
                """)
        }
        // The root's console password: from COFFER_ROOT_PASSWORD, or made for a new data folder and
        // shown once; an older folder without one is told how to set it. Only its hash is stored.
        do {
            if try await !instance.registry.passwords.rootPasswordIsSet() {
                if let given = ProcessInfo.processInfo.environment["COFFER_ROOT_PASSWORD"], !given.isEmpty {
                    try await instance.registry.passwords.setRootPassword(given)
                    printLine("Root console password set from COFFER_ROOT_PASSWORD.")
                } else if instance.createdAccount {
                    let password = Passwords.generatePassword()
                    try await instance.registry.passwords.setRootPassword(password)
                    printLine("New root console password (shown once; only its hash is stored): \(password)")
                } else {
                    printLine("The root has no console password: set one with `coffer admin root-password "
                        + (options.database == nil ? "--data \(data)`." : "--database … --blobs …` (or COFFER_ROOT_PASSWORD on the first node)."))
                }
            }
        } catch {
            printError("coffer: cannot set the root's console password: \(Self.describe(error))")
            throw ExitCode(1)
        }
        if instance.createdMasterKey {
            printLine("New master key in \(masterKeyFile ?? data + "/master.key") (mode 0600): back it up apart from the data; without it no MFA seed or access key secret can be opened.")
        }
        printLine("Account \(instance.accountID), root access key \(instance.rootAccessKey)")
        let host = self.host
        var tls: TLSConfiguration?
        do {
            if tlsSelfSigned {
                let made = try TLSMaterial.selfSigned(in: options.dataFolder, hostNames: [host] + tlsHostname)
                tls = try TLSMaterial.configuration(certificate: made.certificate, key: made.key)
                printLine("TLS with the self-signed certificate \(made.certificate.path)\(made.created ? " (new)" : ""): "
                    + "pass it to --ca-bundle / AWS_CA_BUNDLE")
            } else if let tlsCert, let tlsKey {
                tls = try TLSMaterial.configuration(certificate: URL(fileURLWithPath: tlsCert),
                                                    key: URL(fileURLWithPath: tlsKey))
            } else if tlsCert != nil || tlsKey != nil {
                throw UsageError("give both --tls-cert and --tls-key")
            }
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError("cannot set up TLS: \(Self.describe(error))")
        }
        if httpPort != nil, tls == nil { throw UsageError("--http-port needs TLS on --port") }
        var services: [any Service] = []
        let scheme = tls == nil ? "http" : "https"
        services.append(try instance.makeApplication(logger: logger, tls: tls) { port in
            printLine("Coffer listening on \(scheme)://\(host):\(port)")
        })
        if let consolePort {
            let account = instance.accountID
            services.append(try instance.makeConsole(logger: logger, port: consolePort, tls: tls) { port in
                printLine("Coffer console on \(scheme)://\(host):\(port)/ — sign in as the root user with the root "
                    + "console password, or as an IAM user with account \(account)")
            })
        }
        if let httpPort {
            services.append(try instance.makeApplication(logger: logger, port: httpPort) { port in
                printLine("Coffer also listening on http://\(host):\(port)")
            })
        }
        if instance.store.isCluster { services.append(OrphanSweeper(store: instance.store, logger: logger)) }
        do {
            let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            try? instance.store.close()
            printError("coffer: cannot serve on \(host):\(port): \(Self.describe(error))")
            throw ExitCode(1)
        }
        try instance.store.close()
    }

    /// Every connection is a descriptor: the soft limit (often 1,024) is raised to the hard one.
    static func raiseFileLimit() {
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") { return "the address is already in use" }
        if text.contains("Permission denied") || text.contains("permission") { return "permission denied" }
        return text.split(separator: "\n").first.map(String.init) ?? "unknown error"
    }
}

/// On a cluster node: sweeps blobs no version references (a node killed mid-upload leaves its
/// bytes behind) every `COFFER_BLOB_SWEEP_SECONDS` (ten minutes unless set). One node sweeps at a
/// time, and only what has been unreferenced for the grace period (`Store.sweepOrphanBlobs`).
struct OrphanSweeper: Service {
    let store: Store
    let logger: Logger

    func run() async throws {
        let seconds = max(1, ProcessInfo.processInfo.environment["COFFER_BLOB_SWEEP_SECONDS"].flatMap { Double($0) } ?? 600)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(seconds))
                if Task.isCancelled { return }
                do {
                    try await Offload.run { try store.sweepOrphanBlobs() }
                } catch {
                    logger.warning("orphan blob sweep failed: \(error)")
                }
            }
        }
    }
}
