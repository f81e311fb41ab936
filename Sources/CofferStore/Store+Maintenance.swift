import CofferCore
import Crypto
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// `coffer admin backup` and `coffer admin verify`: a consistent online copy of a data folder,
/// and a check that every version's bytes are there.
extension Store {
    /// What a backup copied.
    public struct BackupReport: Sendable {
        public var blobFiles = 0
        public var bytes: Int64 = 0
        /// Copies started: a blob removed between the database snapshot and its copy (a delete
        /// committed meanwhile) makes the copy start again.
        public var attempts = 0
    }

    public enum MaintenanceError: Error, CustomStringConvertible {
        case destinationNotEmpty(String)
        case unstable(Int)
        case io(String)
        case cluster

        public var description: String {
            switch self {
            case .destinationNotEmpty(let path): "the backup destination \(path) exists and is not empty"
            case .unstable(let attempts):
                "blobs kept disappearing while they were copied (\(attempts) attempts): deletes are too frequent; try again"
            case .io(let what): what
            case .cluster: "a cluster's metadata is PostgreSQL's to back up (pg_basebackup, or pg_dump): coffer admin backup copies a data folder"
            }
        }
    }

    /// Copies the database (SQLite's online backup: one consistent snapshot, writers never wait)
    /// and then every blob file that snapshot references into `destination`, which must be absent
    /// or empty. Blob files never change once written, so the pair is consistent unless a blob was
    /// removed after the snapshot; then the copy starts over (at most five times).
    public func backup(to destination: URL) throws -> BackupReport {
        guard let pool = sqlite else { throw MaintenanceError.cluster }
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: destination.path), !existing.isEmpty {
            throw MaintenanceError.destinationNotEmpty(destination.path)
        }
        try manager.createDirectory(at: destination, withIntermediateDirectories: true)
        var report = BackupReport()
        for attempt in 1...5 {
            report = BackupReport(attempts: attempt)
            let database = destination.appendingPathComponent("coffer.sqlite")
            let blobsCopy = destination.appendingPathComponent("blobs")
            for stale in ["coffer.sqlite", "coffer.sqlite-wal", "coffer.sqlite-shm", "blobs"] {
                try? manager.removeItem(at: destination.appendingPathComponent(stale))
            }
            let copy = try DatabaseQueue(path: database.path)
            try pool.backup(to: copy)
            let files = try copy.read { db in try StoreTransaction(db: db).referencedFiles() }
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
            var complete = true
            for name in files.sorted() {
                let source = blobs.path(of: name)
                let folder = blobsCopy.appendingPathComponent(String(name.prefix(2)))
                try manager.createDirectory(at: folder, withIntermediateDirectories: true)
                let target = folder.appendingPathComponent(name)
                guard let size = try Self.copyFile(from: source, to: target.path) else {
                    complete = false  // removed since the snapshot
                    break
                }
                report.blobFiles += 1
                report.bytes += size
            }
            if complete {
                BlobStore.syncTree(destination.path)
                return report
            }
        }
        throw MaintenanceError.unstable(report.attempts)
    }

    /// Copies a file and fsyncs the copy; nil when the source does not exist.
    public static func copyFile(from source: String, to target: String) throws -> Int64? {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT { return nil }
            throw MaintenanceError.io("cannot open \(source): errno \(errno)")
        }
        defer { Glibc.close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw MaintenanceError.io("cannot create \(target): errno \(errno)") }
        defer { Glibc.close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw MaintenanceError.io("cannot read \(source): errno \(errno)") }
            if count == 0 { break }
            let written = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress, count) }
            guard written == count else { throw MaintenanceError.io("cannot write \(target): errno \(errno)") }
            total += Int64(count)
        }
        guard fsync(output) == 0 else { throw MaintenanceError.io("cannot sync \(target): errno \(errno)") }
        return total
    }

    // MARK: Verify

    /// What `verify` found. Damage is anything that loses bytes; orphans only waste space.
    public struct VerifyReport: Sendable {
        public var versions = 0
        public var manifests = 0
        public var pendingParts = 0
        /// `bucket/key versionId: what is wrong`, one line each.
        public var damage: [String] = []
        /// Blob files nothing references (the start-up sweep removes them).
        public var orphans: [String] = []
        /// IAM names that differ only by case (made before Coffer refused them, as IAM does): they
        /// keep working, each under its own exact name; new ones cannot be made.
        public var lookalikes: [String] = []
        public var isDamaged: Bool { !damage.isEmpty }
    }

    /// Checks every version: inline bytes of the right length; blob files present with the right
    /// size; manifests complete, their parts adding up to the version's size. With `deep`, also
    /// the bytes' MD5 against the ETag (a multipart ETag from its parts' MD5s). Then every pending
    /// part's file, and lists blob files nothing references.
    public func verify(deep: Bool) throws -> VerifyReport {
        var report = VerifyReport()
        try readNow { transaction in
            let db = transaction.db
            try db.each(sql: """
                SELECT b.name AS bucket, v.key, v.version_id, v.size, v.etag, v.blob_file, v.blob_inline
                FROM versions v JOIN buckets b ON b.id = v.bucket_id WHERE v.is_marker = 0 ORDER BY v.id
                """) { row in
                report.versions += 1
                let name = "\(row["bucket"] as String)/\(row["key"] as String) \(row["version_id"] as String)"
                let size: Int64 = row["size"]
                let etag: String = row["etag"]
                if let file: String = row["blob_file"] {
                    if Manifest.isManifest(file) {
                        report.manifests += 1
                        if let problem = try checkManifest(file, size: size, etag: etag, deep: deep, in: transaction) {
                            report.damage.append("\(name): \(problem)")
                        }
                    } else if let problem = checkFile(file, size: size, etag: deep ? etag : nil) {
                        report.damage.append("\(name): \(problem)")
                    }
                } else {
                    let bytes = Array((row["blob_inline"] as Data?) ?? Data())
                    if Int64(bytes.count) != size {
                        report.damage.append("\(name): inline body has \(bytes.count) bytes, not \(size)")
                    } else if deep, !etag.contains("-"), hexString(Insecure.MD5.hash(data: bytes)) != etag {
                        report.damage.append("\(name): inline body's MD5 is not its ETag")
                    }
                }
            }
            try db.each(sql: "SELECT upload_id, part_number, size, blob_file FROM parts WHERE blob_file IS NOT NULL") { row in
                report.pendingParts += 1
                if let problem = checkFile(row["blob_file"], size: row["size"], etag: nil) {
                    report.damage.append("upload \(row["upload_id"] as String) part \(row["part_number"] as Int): \(problem)")
                }
            }
            for (kind, table) in [("users", "iam_users"), ("groups", "iam_groups"), ("policies", "managed_policies")] {
                let names = try db.all(String.self, sql: "SELECT name FROM \(table) ORDER BY name")
                let lookalikes = Dictionary(grouping: names, by: { $0.lowercased() }).filter { $0.value.count > 1 }
                report.lookalikes += lookalikes.keys.sorted().map { "\(kind): \(lookalikes[$0]!.joined(separator: ", "))" }
            }
            let referenced = try transaction.referencedFiles()
            report.orphans += try blobs.committedNames().filter { !referenced.contains($0) }
        }
        return report
    }

    private func checkManifest(_ manifest: String, size: Int64, etag: String, deep: Bool,
                               in transaction: StoreTransaction) throws -> String? {
        let segments = try transaction.manifest(manifest)
        guard !segments.isEmpty || size == 0 else { return "manifest \(manifest) is missing" }
        let total = segments.reduce(Int64(0)) { $0 + $1.size }
        guard total == size else { return "manifest parts add up to \(total) bytes, not \(size)" }
        var md5s: [UInt8] = []
        for segment in segments {
            switch segment {
            case .bytes(let bytes): md5s += Insecure.MD5.hash(data: bytes)
            case .file(let file, let partSize):
                if let problem = checkFile(file, size: partSize, etag: nil) { return "part \(problem)" }
                if deep {
                    guard let digest = md5(of: file, size: partSize) else { return "part \(file) is unreadable" }
                    md5s += digest
                }
            }
        }
        if deep, etag.contains("-") {
            let composite = hexString(Insecure.MD5.hash(data: md5s)) + "-\(segments.count)"
            if composite != etag { return "parts' MD5s do not give the ETag \(etag)" }
        }
        return nil
    }

    /// Nil when `file` exists with `size` bytes (and, given `etag` without '-', that MD5).
    private func checkFile(_ file: String, size: Int64, etag: String?) -> String? {
        guard let found = try? blobs.size(of: file) else { return "blob \(file) is missing" }
        guard found == size else { return "blob \(file) has \(found) bytes, not \(size)" }
        if let etag, !etag.contains("-") {
            guard let digest = md5(of: file, size: size) else { return "blob \(file) is unreadable" }
            if hexString(digest) != etag { return "blob \(file)'s MD5 is not its ETag" }
        }
        return nil
    }

    private func md5(of file: String, size: Int64) -> [UInt8]? {
        guard let reader = try? blobs.reader(file, size: size) else { return nil }
        var hasher = Insecure.MD5()
        var offset: Int64 = 0
        while offset < size {
            guard let chunk = try? reader.read(at: offset, count: 1 << 20), !chunk.isEmpty else { return nil }
            hasher.update(data: chunk)
            offset += Int64(chunk.count)
        }
        return Array(hasher.finalize())
    }
}

extension StoreTransaction {
    /// Every blob file the database references: versions' files, manifests' and pending parts'.
    func referencedFiles() throws -> Set<String> {
        Set(try db.all(String.self, sql: """
            SELECT blob_file FROM versions WHERE blob_file IS NOT NULL AND substr(blob_file, 1, \(Manifest.prefix.count)) <> '\(Manifest.prefix)'
            UNION SELECT blob_file FROM manifest_parts WHERE blob_file IS NOT NULL
            UNION SELECT blob_file FROM parts WHERE blob_file IS NOT NULL
            """))
    }
}

extension Store {
    /// Every blob file this store's database references.
    public func referencedBlobNames() throws -> Set<String> {
        try readNow { try $0.referencedFiles() }
    }
}
