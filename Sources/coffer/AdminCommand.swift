import ArgumentParser
import CofferCore
import CofferPolicy
import CofferIAM
import CofferServer
import CofferStore
import Foundation

/// `coffer admin`: what AWS does through support, on the host, on a stopped or running data folder.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Host-side administration of a data folder (works while the server runs).",
        subcommands: [Users.self, Devices.self, DeactivateMFA.self, ImportTokens.self, Audit.self, Backup.self, Verify.self,
                      RootPassword.self, SMSOutboxList.self, Migrate.self]
    )

    struct Folder: ParsableArguments {
        @Option(help: "The data folder.")
        var data: String = "data"

        @Option(help: "The master key file (default: DATA/master.key); COFFER_MASTER_KEY wins over it.")
        var masterKeyFile: String?

        @Option(help: "A cluster's PostgreSQL database (as given to coffer serve --database; COFFER_DATABASE works too) instead of the data folder.")
        var database: String?

        @Option(help: "With --database: where the cluster keeps object bytes, as given to coffer serve --blobs (rados:POOL… or a shared folder).")
        var blobs: String?

        /// The cluster database the options (or COFFER_DATABASE) name, if any.
        func cluster() throws -> PostgresTarget? {
            let environment = ProcessInfo.processInfo.environment
            guard let url = database ?? environment["COFFER_DATABASE"], !url.isEmpty else { return nil }
            do {
                return try PostgresTarget(url: url, environment: environment)
            } catch {
                throw UsageError("\(error)")
            }
        }

        /// Where a cluster's blobs are.
        var clusterBlobs: ClusterBlobs {
            get throws {
                guard let blobs else { throw UsageError("--database needs --blobs: where the cluster keeps object bytes") }
                do {
                    return try ClusterBlobs(blobs)
                } catch {
                    throw UsageError("--blobs: \(error)")
                }
            }
        }

        /// The store alone (no keys needed): what backup and verify read. It is opened without
        /// the start-up sweep, so nothing in the folder changes.
        func openStore() throws -> Store {
            if let target = try cluster() {
                do {
                    return try Store(database: target, blobs: try clusterBlobs, sweep: false)
                } catch {
                    throw UsageError("cannot open the cluster database \(target): \(error)")
                }
            }
            guard FileManager.default.fileExists(atPath: data + "/coffer.sqlite") else {
                throw UsageError("no Coffer data folder at '\(data)'")
            }
            do {
                return try Store(folder: URL(fileURLWithPath: data, isDirectory: true), sweep: false)
            } catch {
                throw UsageError("cannot open '\(data)': \(error)")
            }
        }

        func open() throws -> CofferInstance {
            let target = try cluster()
            if target == nil {
                guard FileManager.default.fileExists(atPath: data + "/coffer.sqlite") else {
                    throw UsageError("no Coffer data folder at '\(data)'")
                }
            }
            var options = ServerOptions(dataFolder: URL(fileURLWithPath: data, isDirectory: true))
            let environment = ProcessInfo.processInfo.environment
            options.masterKey = environment["COFFER_MASTER_KEY"]
            options.masterKeyFile = masterKeyFile.map { URL(fileURLWithPath: $0) }
            options.rootAccessKey = environment["COFFER_ROOT_ACCESS_KEY"]
            options.rootSecretKey = environment["COFFER_ROOT_SECRET_KEY"]
            options.createKeys = false  // only `serve` on an empty folder makes keys
            options.database = target
            options.blobs = target == nil ? nil : try clusterBlobs
            do {
                return try CofferInstance(options: options)
            } catch {
                throw UsageError("cannot open \(target.map { "the cluster database \($0)" } ?? "'\(data)'"): \(error)")
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a data folder into a cluster: every row of its database into an empty PostgreSQL database "
                + "(--database), every blob file it references into the cluster's bytes (--blobs: rados:POOL… or a shared folder), its root keys into "
                + "the database (sealed under the master key, which every node must then be given). The folder is only read; "
                + "stop the server on it first. Check the result with coffer admin verify --database … --blobs ….")

        @OptionGroup var folder: Folder

        func run() async throws {
            guard let target = try folder.cluster() else { throw UsageError("migrate needs --database (or COFFER_DATABASE)") }
            let (data, masterKeyFile) = (folder.data, folder.masterKeyFile)
            let blobs = try folder.clusterBlobs
            guard FileManager.default.fileExists(atPath: data + "/coffer.sqlite") else {
                throw UsageError("no Coffer data folder at '\(data)'")
            }
            let environment = ProcessInfo.processInfo.environment
            let masterKey: MasterKey
            do {
                if let text = environment["COFFER_MASTER_KEY"], !text.isEmpty {
                    masterKey = try MasterKey(base64: text)
                } else if let loaded = try MasterKey.load(file: URL(fileURLWithPath: masterKeyFile ?? data + "/master.key")) {
                    masterKey = loaded
                } else {
                    throw UsageError("no master key (COFFER_MASTER_KEY, --master-key-file or \(data)/master.key): the folder's sealed seeds need it")
                }
            }
            let source = try Store(folder: URL(fileURLWithPath: data, isDirectory: true), sweep: false)
            defer { try? source.close() }
            let cluster: Store
            do {
                cluster = try Store(database: target, blobs: blobs, sweep: false)
            } catch {
                throw UsageError("cannot open the cluster database \(target): \(error)")
            }
            defer { try? cluster.close() }
            let report: Store.MigrationReport
            do {
                report = try source.migrate(into: cluster)
            } catch {
                throw UsageError("migration failed: \(error)")
            }
            var files = 0
            var bytes: Int64 = 0
            for name in try source.referencedBlobNames().sorted() {
                let path = source.blobs.path(of: name)
                var info = stat()
                guard stat(path, &info) == 0 else {
                    throw UsageError("blob \(name) is missing from \(data): run coffer admin verify --data \(data)")
                }
                do {
                    try cluster.blobs.importFile(path, as: name)
                } catch {
                    throw UsageError("cannot copy blob \(name) into \(blobs): \(error)")
                }
                let size = Int64(info.st_size)
                files += 1
                bytes += size
            }
            try CofferInstance.checkClusterKey(masterKey, in: cluster)
            if let keys = CofferInstance.folderRootKeys(in: URL(fileURLWithPath: data, isDirectory: true)) {
                try CofferInstance.storeClusterRootKeys(access: keys.access, secret: keys.secret, masterKey: masterKey, in: cluster)
            }
            let rows = report.rows.values.reduce(0, +)
            print("Migrated \(data) into \(target): \(rows) row(s) in \(report.rows.filter { $0.value > 0 }.count) table(s), "
                + "\(files) blob file(s) (\(bytes) bytes). Give every node the same master key; check with "
                + "coffer admin verify --database … --blobs \(blobs).")
        }
    }

    struct Devices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every MFA device with its user, state, drift and throttle state (never a seed).")

        @OptionGroup var folder: Folder

        func run() async throws {
            let instance = try folder.open()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let devices = try await instance.registry.devices.allDevices()
            print("SERIAL\tKIND\tUSER\tSTATE\tDRIFT\tLAST_STEP\tFAILURES\tTHROTTLE")
            for device in devices {
                let state = device.userName == nil ? "unassigned" : "enabled"
                let throttle = device.throttledUntil > now ? "until \(Date(timeIntervalSince1970: Double(device.throttledUntil) / 1000))" : "none"
                print("\(device.serial)\t\(device.kind)\t\(device.userName ?? "-")\t\(state)\t\(device.drift)\t"
                    + "\(device.lastStep.map(String.init) ?? "-")\t\(device.failures)\t\(throttle)")
            }
            try instance.store.close()
        }
    }

    struct SMSOutboxList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sms-outbox",
            abstract: "List the latest SMS messages in an outbox folder (coffer serve --sms-outbox), newest first: "
                + "when, to whom (masked), what for, and the text with its code, to pass on by hand.")

        @Option(help: "The outbox folder (the one given to coffer serve --sms-outbox).")
        var outbox: String

        @Option(help: "How many messages to list.")
        var count: Int = 10

        func run() async throws {
            let folder = URL(fileURLWithPath: outbox, isDirectory: true)
            guard FileManager.default.fileExists(atPath: folder.path) else { throw UsageError("no outbox folder at '\(outbox)'") }
            guard (1...10_000).contains(count) else { throw UsageError("--count must be 1 to 10000") }
            print("TIME\tTO\tPURPOSE\tTEXT")
            for message in try SMSOutbox.latest(in: folder, count: count) {
                print("\(HTTPDate.iso8601(milliseconds: message.created))\t\(PhoneNumber.mask(message.to))\t"
                    + "\(message.purpose)\t\(message.body)")
            }
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the IAM users: path, creation, console password, MFA device kinds, access keys (never a secret).")

        @OptionGroup var folder: Folder

        func run() async throws {
            let instance = try folder.open()
            print("USER\tPATH\tCREATED\tPASSWORD\tMFA\tACCESS_KEYS")
            var marker: String?
            repeat {
                let page = try await instance.registry.users.listUsers(instance.registry.rootPrincipal(accessKey: ""), marker: marker,
                                                                 maxItems: 1000)
                for summary in try await instance.registry.account.summaries(of: page.items) {
                    let kinds = summary.deviceKinds.map(\.rawValue).joined(separator: ",")
                    print("\(summary.user.name)\t\(summary.user.path)\t\(HTTPDate.iso8601(milliseconds: summary.user.created))\t"
                        + "\(summary.hasPassword ? "yes" : "no")\t\(kinds.isEmpty ? "-" : kinds)\t\(summary.accessKeys)")
                }
                marker = page.marker
            } while marker != nil
            try instance.store.close()
        }
    }

    struct RootPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "root-password",
            abstract: "Set or change the root's console password, read from the first line of standard input (only its hash is stored).")

        @OptionGroup var folder: Folder

        func run() async throws {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw UsageError("give the new password on standard input")
            }
            let instance = try folder.open()
            do {
                try await instance.registry.passwords.setRootPassword(line)
            } catch let error as IAMError {
                try instance.store.close()
                throw UsageError(error.message)
            }
            try instance.store.close()
            print("The root's console password is set.")
        }
    }

    struct DeactivateMFA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deactivate-mfa",
            abstract: "Deactivate an enabled device (the root's lost device: AWS's \"contact support\" path). Audited.")

        @OptionGroup var folder: Folder

        @Option(help: "The device's serial number.")
        var serial: String

        func run() async throws {
            let instance = try folder.open()
            let operatorName = ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            do {
                let user = try await instance.registry.devices.adminDeactivate(serial: serial, operator: operatorName)
                print("Deactivated \(serial) (was enabled for \(user)).")
            } catch let error as IAMError {
                try? instance.store.close()
                throw UsageError(error.message)
            }
            try instance.store.close()
        }
    }

    struct ImportTokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-tokens",
            abstract: "Register hardware TOTP tokens from CSV (serial,seed,digits,period,algorithm) or RFC 6030 PSKC.")

        @OptionGroup var folder: Folder

        @Argument(help: "The CSV or PSKC file.")
        var file: String

        func run() async throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw UsageError("cannot read \(file)")
            }
            let tokens: [HardwareTokens.Token]
            do { tokens = try HardwareTokens.parse(text) } catch { throw UsageError("\(file): \(error)") }
            let instance = try folder.open()
            do {
                try await instance.registry.devices.importTokens(tokens)
            } catch let error as IAMError {
                try? instance.store.close()
                throw UsageError(error.message)
            }
            try instance.store.close()
            print("Imported \(tokens.count) hardware token(s): \(tokens.map(\.serial).joined(separator: ", "))")
        }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the audit log: MFA events and refused requests (never a code or seed).")

        @OptionGroup var folder: Folder

        @Flag(help: "JSON lines instead of a table.")
        var json = false

        @Option(help: "Only entries with this outcome: done, passed, failed, refused (before any code was checked) or denied (by the access policies).")
        var outcome: String?

        static func printable(_ text: String) -> String {
            guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
            var output = ""
            for scalar in text.unicodeScalars {
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    output += String(format: "\\x%02X", scalar.value)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
            return output
        }

        func validate() throws {
            if let outcome, AuditOutcome(rawValue: outcome) == nil {
                throw ValidationError("--outcome must be one of done, passed, failed, refused, denied")
            }
        }

        func run() async throws {
            let instance = try folder.open()
            var after: Int64 = 0
            if !json { print("TIME\tEVENT\tOUTCOME\tPRINCIPAL\tSERIAL\tSOURCE\tREQUEST_ID\tDETAIL") }
            while true {
                let entries = try instance.store.readNow { try $0.audit(after: after, limit: 1000) }
                for entry in entries where outcome == nil || entry.outcome.rawValue == outcome {
                    let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(entry.time) / 1000))
                    if json {
                        let object: [String: String?] = [
                            "time": time, "event": entry.event, "outcome": entry.outcome.rawValue, "principal": entry.principal,
                            "serial": entry.serial, "source": entry.source, "request_id": entry.requestID,
                            "detail": entry.detail,
                        ]
                        let data = try JSONSerialization.data(withJSONObject: object.compactMapValues { $0 },
                                                              options: [.sortedKeys, .withoutEscapingSlashes])
                        print(String(decoding: data, as: UTF8.self))
                    } else {
                        // Control characters (a key with %0A in it) are escaped: one entry, one line.
                        print([time, entry.event, entry.outcome.rawValue, entry.principal, entry.serial ?? "-", entry.source ?? "-",
                               entry.requestID ?? "-", entry.detail ?? ""].map(Self.printable).joined(separator: "\t"))
                    }
                }
                guard entries.count == 1000, let last = entries.last else { break }
                after = last.id
            }
            try instance.store.close()
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a data folder, online and consistent: the database (SQLite's backup API) and every blob it "
                + "references. The master key (and root-credentials) only with --include-master-key.")

        @OptionGroup var folder: Folder

        @Flag(help: "Also copy the master key and root-credentials (they open every sealed seed and secret).")
        var includeMasterKey = false

        @Argument(help: "The destination folder (absent or empty).")
        var destination: String

        func run() async throws {
            let store = try folder.openStore()
            defer { try? store.close() }
            let target = URL(fileURLWithPath: destination, isDirectory: true)
            let report: Store.BackupReport
            do { report = try store.backup(to: target) } catch { throw UsageError("backup failed: \(error)") }
            if includeMasterKey {
                let keyTarget = target.appendingPathComponent("master.key").path
                if let key = ProcessInfo.processInfo.environment["COFFER_MASTER_KEY"], !key.isEmpty {
                    guard FileManager.default.createFile(atPath: keyTarget, contents: Data((key + "\n").utf8),
                                                         attributes: [.posixPermissions: 0o600])
                    else { throw UsageError("cannot write \(keyTarget)") }
                } else {
                    let keyFile = folder.masterKeyFile ?? folder.data + "/master.key"
                    guard (try? Store.copyFile(from: keyFile, to: keyTarget)) != nil else {
                        throw UsageError("no master key at \(keyFile) (set COFFER_MASTER_KEY or --master-key-file)")
                    }
                }
                _ = try? Store.copyFile(from: folder.data + "/root-credentials",
                                        to: target.appendingPathComponent("root-credentials").path)
            }
            print("Backed up \(folder.data) to \(destination): the database and \(report.blobFiles) blob file(s), "
                + "\(report.bytes) bytes\(report.attempts > 1 ? " (\(report.attempts) attempts)" : "")"
                + (includeMasterKey ? ", with the master key." : "; the master key is not included."))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every version's bytes are present with the right size (--deep: and MD5), that manifests "
                + "are complete, and list orphan blob files, IAM names that differ only by case, and stored policies "
                + "that no longer parse. Exits 1 on damage.")

        @OptionGroup var folder: Folder

        @Flag(help: "Also read every byte and check it against the ETag.")
        var deep = false

        func run() async throws {
            let store = try folder.openStore()
            defer { try? store.close() }
            let report = try store.verify(deep: deep)
            for line in report.damage { print("DAMAGED\t\(line)") }
            for orphan in report.orphans { print("ORPHAN\t\(orphan)") }
            // Policies stored before today's stricter reading (RFC 8259 JSON, NotPrincipal only in a
            // Deny) fail closed when evaluated: say which, so that they can be replaced.
            let documents = try store.readNow { try $0.allPolicyDocuments() }
            var unparsable = 0
            for stored in documents {
                do {
                    _ = try PolicyDocument(json: Array(stored.document.utf8), kind: stored.isResource ? .resource : .identity,
                                           maxSize: .max)
                } catch {
                    unparsable += 1
                    print("UNPARSABLE\t\(stored.name): \(error.message) — requests it would decide fail closed until it is replaced")
                }
            }
            for names in report.lookalikes {
                print("LOOKALIKE\t\(names) — IAM names are not distinguished by case: each keeps working under its "
                    + "exact name, but no new name may differ from an existing one only by case")
            }
            print("Checked \(report.versions) version(s), \(report.manifests) multipart manifest(s), "
                + "\(report.pendingParts) pending part(s)\(deep ? " with MD5" : ""): \(report.damage.count) damaged, "
                + "\(report.orphans.count) orphan file(s); \(documents.count) policy document(s), \(unparsable) unparsable.")
            if report.isDamaged { throw ExitCode(1) }
        }
    }
}
