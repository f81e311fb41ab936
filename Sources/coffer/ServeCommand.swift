import ArgumentParser
import CofferServer
import Foundation
import Hummingbird
import Logging

/// `coffer serve`: the S3 API on one port, on the embedded store in a data folder.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the S3-compatible server on a data folder (SQLite + blob files).",
        discussion: """
            Root keys come from COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY; when those are unset they
            are generated on first start, stored in DATA/root-credentials (mode 0600) and printed once.
            """
    )

    @Option(help: "The data folder (created if missing).")
    var data: String = "data"

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one).")
    var port: Int = 9000

    @Option(help: "The region reported for buckets created without a LocationConstraint.")
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

    func run() async throws {
        guard (0...65_535).contains(port) else { throw UsageError("--port must be 0 to 65535") }
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

        let instance: CofferInstance
        do {
            instance = try CofferInstance(options: options)
        } catch {
            printError("coffer: cannot use data folder '\(data)': \(Self.describe(error))")
            throw ExitCode(1)
        }
        var logger = Logger(label: "coffer")
        logger.logLevel = level
        if instance.generatedRootKeys {
            printLine("""
                New root keys (shown once; stored in \(data)/root-credentials, mode 0600):
                  AWS_ACCESS_KEY_ID=\(instance.rootAccessKey)
                  AWS_SECRET_ACCESS_KEY=\(instance.rootSecretForBanner)
                """)
        }
        if instance.createdMasterKey {
            printLine("New master key in \(masterKeyFile ?? data + "/master.key") (mode 0600): back it up apart from the data; without it no MFA seed or access key secret can be opened.")
        }
        printLine("Account \(instance.accountID), root access key \(instance.rootAccessKey)")
        let host = self.host
        let app = instance.makeApplication(logger: logger) { port in
            printLine("Coffer listening on http://\(host):\(port)")
        }
        do {
            try await app.runService()
        } catch {
            try? instance.store.close()
            printError("coffer: cannot serve on \(host):\(port): \(Self.describe(error))")
            throw ExitCode(1)
        }
        try instance.store.close()
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") { return "the address is already in use" }
        if text.contains("Permission denied") || text.contains("permission") { return "permission denied" }
        return text.split(separator: "\n").first.map(String.init) ?? "unknown error"
    }
}
