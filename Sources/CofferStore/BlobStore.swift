import CShims
import Crypto
import CofferCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Object bytes on disk: `blobs/XY/NAME` files, written through `tmp/` (fsync, rename, fsync of
/// the folder) so a crash leaves either no file or a whole one.
///
/// Several processes may share a data folder. Each writes its temporary files in its own
/// `tmp/<name>/` folder and holds an exclusive `flock` on the folder's `.lock` for as long as it
/// runs, so a starting process sweeps only the folders of processes that are gone.
public final class BlobStore: Sendable {
    public let blobsFolder: URL
    /// This process's temporary folder.
    public let temporaryFolder: URL
    let temporaryRoot: URL
    private let lockDescriptor: Int32

    init(folder: URL) throws {
        blobsFolder = folder.appendingPathComponent("blobs")
        temporaryRoot = folder.appendingPathComponent("tmp")
        temporaryFolder = temporaryRoot.appendingPathComponent("\(getpid())-\(Self.randomName().prefix(8))")
        try FileManager.default.createDirectory(at: blobsFolder, withIntermediateDirectories: true)
        // Made and locked under a name the sweep of a process starting beside us leaves alone,
        // then renamed: no other process ever sees this folder unlocked under its real name.
        let staging = temporaryRoot.appendingPathComponent(".new-" + temporaryFolder.lastPathComponent)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        lockDescriptor = open(staging.appendingPathComponent(".lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0, flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0,
              rename(staging.path, temporaryFolder.path) == 0
        else {
            throw BlobError.io("lock temporary folder", errno)
        }
    }

    deinit {
        close(lockDescriptor)
        try? FileManager.default.removeItem(at: temporaryFolder)
    }

    /// The path of a committed blob.
    /// Whether `bytes` more can be written and still leave the reserve free: the smaller of
    /// 16 MiB and 2 % of the file system, kept for the database. Object bodies stop at the reserve
    /// with `507`, so deletes, delete markers and the journal can still commit on a full disk —
    /// and a client can free space through the API.
    public func hasRoom(adding bytes: Int) -> Bool {
        var stats = statvfs()
        guard statvfs(blobsFolder.path, &stats) == 0 else { return true }
        let block = UInt64(stats.f_frsize)
        let (available, overflowA) = UInt64(stats.f_bavail).multipliedReportingOverflow(by: block)
        let (capacity, overflowC) = UInt64(stats.f_blocks).multipliedReportingOverflow(by: block)
        guard !overflowA, !overflowC else { return true }
        let reserve = min(Self.maxReserve, capacity / 50)
        return available >= reserve && available - reserve >= UInt64(max(0, bytes))
    }

    static let maxReserve: UInt64 = 16 << 20

    /// `DATA/ballast`: 4 MiB allocated while there is room. When something else fills the disk
    /// to its last block, even a delete cannot commit (its journal needs pages); releasing the
    /// ballast lets that delete through, and deletes are what free space (`Store.freeingSpace`).
    var ballastPath: String { blobsFolder.deletingLastPathComponent().appendingPathComponent("ballast").path }
    static let ballastSize = 4 << 20

    /// Allocates the ballast if it is missing and there is room for it beyond the reserve.
    public func placeBallast() {
        guard access(ballastPath, F_OK) != 0, hasRoom(adding: Self.ballastSize) else { return }
        let descriptor = open(ballastPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        if posix_fallocate(descriptor, 0, off_t(Self.ballastSize)) != 0 || fsync(descriptor) != 0 {
            unlink(ballastPath)
        }
    }

    /// Frees the ballast; false when there was none.
    public func releaseBallast() -> Bool { unlink(ballastPath) == 0 }

    public func path(of name: String) -> String {
        blobsFolder.appendingPathComponent(String(name.prefix(2))).appendingPathComponent(name).path
    }

    /// Starts a temporary file for an upload.
    public func makeTemporaryFile() throws -> TemporaryBlob {
        let name = Self.randomName()
        let path = temporaryFolder.appendingPathComponent(name).path
        // Direct I/O where the file system has it: the bytes go from our aligned buffer to the
        // device without being copied into (and later written back from) the page cache, which
        // costs as much CPU as hashing them. Elsewhere (tmpfs), ordinary buffered writes.
        var descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | coffer_o_direct(), 0o600)
        let direct = descriptor >= 0
        if !direct, errno == EINVAL {
            descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        }
        guard descriptor >= 0 else { throw BlobError.io("create", errno) }
        return TemporaryBlob(descriptor: descriptor, path: path, name: name, direct: direct)
    }

    /// Makes a finished temporary file durable under its final name: fsync, rename into
    /// `blobs/`, fsync the folder. Only after this may a row reference it.
    public func commit(_ blob: TemporaryBlob) async throws -> String {
        try await Offload.run { try self.commitNow(blob) }
    }

    func commitNow(_ blob: TemporaryBlob) throws -> String {
        try blob.sync()
        let folder = blobsFolder.appendingPathComponent(String(blob.name.prefix(2)))
        if mkdir(folder.path, 0o700) != 0, errno != EEXIST { throw BlobError.io("mkdir", errno) }
        guard rename(blob.path, path(of: blob.name)) == 0 else { throw BlobError.io("rename", errno) }
        try Self.syncFolder(folder.path)
        return blob.name
    }

    /// Deletes a committed blob (after the row that referenced it is gone).
    public func remove(_ name: String) {
        unlink(path(of: name))
    }

    /// Removes the temporary folders of processes that are gone, and blobs not in `referenced`.
    /// While another process is alive, a blob younger than ten minutes may be one it has just
    /// renamed and not yet committed, so those are left for a later sweep.
    ///
    /// `shared`: the folder is a cluster's, mounted by nodes on other machines, whose liveness a
    /// lock file cannot tell. Then a temporary folder goes only after a day untouched, and an
    /// unreferenced blob only after an hour (a PUT on another node renames its blob in before it
    /// commits the row that references it; `referenced` was read before the listing).
    func sweep(keeping referenced: Set<String>, shared: Bool = false) throws {
        let manager = FileManager.default
        var othersAlive = shared
        func age(_ path: String) -> TimeInterval {
            guard let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return 0 }
            return -modified.timeIntervalSinceNow
        }
        for name in (try? manager.contentsOfDirectory(atPath: temporaryRoot.path)) ?? [] {
            let folder = temporaryRoot.appendingPathComponent(name)
            guard folder.path != temporaryFolder.path else { continue }
            // A process starting beside us makes its folder under ".new-" and locks it before giving
            // it its name: that one is left alone for a minute.
            if name.hasPrefix(".new-"), age(folder.path) < 60 { continue }
            if shared, age(folder.path) < 86_400 { continue }
            let lock = open(folder.appendingPathComponent(".lock").path, O_RDWR | O_CLOEXEC)
            if lock >= 0, flock(lock, LOCK_EX | LOCK_NB) != 0 {
                othersAlive = true  // its owner still runs
                close(lock)
                continue
            }
            if lock >= 0 { close(lock) }
            try? manager.removeItem(at: folder)
        }
        let cutoff = Date().addingTimeInterval(shared ? -3600 : -600)
        for folder in (try? manager.contentsOfDirectory(atPath: blobsFolder.path)) ?? [] {
            let folderPath = blobsFolder.appendingPathComponent(folder).path
            for name in (try? manager.contentsOfDirectory(atPath: folderPath)) ?? [] where !referenced.contains(name) {
                let path = folderPath + "/" + name
                if othersAlive, let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                   modified > cutoff {
                    continue
                }
                unlink(path)
            }
        }
    }

    public static func randomName() -> String { SecureRandom.hex(16) }

    /// fsyncs every folder under `path` (and `path`): the entries written there are durable.
    public static func syncTree(_ path: String) {
        let manager = FileManager.default
        if let enumerator = manager.enumerator(atPath: path) {
            while let item = enumerator.nextObject() as? String {
                var isFolder: ObjCBool = false
                let full = path + "/" + item
                if manager.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue { try? syncFolder(full) }
            }
        }
        try? syncFolder(path)
    }

    static func syncFolder(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobError.io("open folder", errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BlobError.io("fsync folder", errno) }
    }
}

/// A blob being written. Not thread-safe: one upload owns it.
///
/// With direct I/O, bytes gather in a page-aligned buffer and go to the device a megabyte at a
/// time; the tail that does not fill a whole block is written through the page cache at the end
/// (direct I/O needs block-sized writes), and `sync` makes everything durable.
public final class TemporaryBlob: @unchecked Sendable {
    let descriptor: Int32
    let path: String
    let name: String
    private var isClosed = false
    private var direct: Bool
    private var written: Int64 = 0
    private var flushed: Int64 = 0
    /// The aligned buffer of a direct-I/O file and how much of it is filled.
    private var buffer: UnsafeMutableRawPointer?
    private var filled = 0
    static let bufferSize = 1 << 20
    static let alignment = 4096
    /// Buffered files are flushed every this many bytes, so the final fsync has little left to do
    /// (writers run on the I/O thread pool, so the wait overlaps the upload's hashing and reading).
    static let writebackInterval: Int64 = 32 << 20

    init(descriptor: Int32, path: String, name: String, direct: Bool = false) {
        self.descriptor = descriptor
        self.path = path
        self.name = name
        self.direct = direct
    }

    deinit {
        discard()
        buffer?.deallocate()
    }

    /// Appends bytes; a full disk surfaces as `BlobError.noSpace`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard direct else {
            try writeAll(bytes)
            written += Int64(bytes.count)
            if written - flushed >= Self.writebackInterval {
                guard fdatasync(descriptor) == 0 else { throw Self.error("fdatasync") }
                flushed = written
            }
            return
        }
        let buffer = self.buffer ?? {
            let allocated = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: Self.alignment)
            self.buffer = allocated
            return allocated
        }()
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, Self.bufferSize - filled)
            (buffer + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            filled += count
            offset += count
            if filled == Self.bufferSize { try drain(whole: true) }
        }
        written += Int64(bytes.count)
    }

    /// Writes the buffer's whole blocks directly (all of it when `whole`); at the end, the tail
    /// through the page cache.
    private func drain(whole: Bool) throws {
        guard let buffer, filled > 0 else { return }
        let blocks = whole ? filled : filled / Self.alignment * Self.alignment
        if blocks > 0 {
            do {
                try writeAll(UnsafeRawBufferPointer(start: buffer, count: blocks))
            } catch BlobError.io(_, EINVAL) {
                // The file system took O_DIRECT at open but refuses the write: go buffered.
                try stopDirect()
                try writeAll(UnsafeRawBufferPointer(start: buffer, count: blocks))
            }
        }
        if blocks < filled {
            try stopDirect()
            try writeAll(UnsafeRawBufferPointer(start: buffer + blocks, count: filled - blocks))
        }
        filled = 0
    }

    private func stopDirect() throws {
        guard direct else { return }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~coffer_o_direct()) == 0 else { throw Self.error("fcntl") }
        direct = false
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.error("write")
            }
            offset += count
        }
    }

    private static func error(_ call: String) -> BlobError {
        errno == ENOSPC || errno == EDQUOT ? .noSpace : .io(call, errno)
    }

    func sync() throws {
        try drain(whole: false)
        guard fsync(descriptor) == 0 else { throw Self.error("fsync") }
        close(descriptor)
        isClosed = true
    }

    /// Closes and deletes the file if it was never committed.
    public func discard() {
        if !isClosed {
            close(descriptor)
            isClosed = true
            unlink(path)
        }
    }
}

/// A failure of the blob files. Never shown to clients as text.
public enum BlobError: Error, Equatable {
    case noSpace
    case io(String, Int32)
}
