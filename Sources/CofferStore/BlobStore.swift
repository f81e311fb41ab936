import CShims
import Crypto
import CofferCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Object bytes: staged in a temporary file on this node, then committed — as `blobs/XY/NAME`
/// files in the data folder (or a cluster's shared folder), written through `tmp/` (fsync,
/// rename, fsync of the folder) so a crash leaves either no file or a whole one; or, on a cluster
/// with `--blobs rados:POOL`, as RADOS objects (`RadosPool`): `NAME`, then `NAME.1`, `NAME.2`…
/// for the pieces of a blob larger than one piece (64 MiB: RADOS objects stop at 128 MiB).
///
/// Several processes may share a data folder. Each writes its temporary files in its own
/// `tmp/<name>/` folder and holds an exclusive `flock` on the folder's `.lock` for as long as it
/// runs, so a starting process sweeps only the folders of processes that are gone.
public final class BlobStore: Sendable {
    /// Where committed blob files are; with RADOS, the folder that holds the temporary folders.
    public let blobsFolder: URL
    /// This process's temporary folder.
    public let temporaryFolder: URL
    let temporaryRoot: URL
    private let lockDescriptor: Int32
    /// The pool that holds committed blobs instead of `blobsFolder`.
    public let rados: RadosPool?
    /// The size of a blob's pieces in RADOS.
    let pieceSize: Int

    /// Blob files in `folder/blobs`, staged in `folder/tmp`; or, with `rados`, blobs in the pool,
    /// staged in `folder/tmp`.
    init(folder: URL, rados: RadosPool? = nil) throws {
        self.rados = rados
        let configured = ProcessInfo.processInfo.environment["COFFER_RADOS_PIECE_BYTES"].flatMap { Int($0) }
        pieceSize = max(Self.minimumPieceSize, min(configured ?? 64 << 20, 128 << 20))
        blobsFolder = rados == nil ? folder.appendingPathComponent("blobs") : folder
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

    /// A blob no larger than this is one RADOS object whatever the piece size (which is never smaller).
    static let minimumPieceSize = 1 << 20

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
        guard rados == nil, access(ballastPath, F_OK) != 0, hasRoom(adding: Self.ballastSize) else { return }
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

    /// Writes a body held in memory (with RADOS) to the pool as a new blob; returns its name. Only
    /// after this may a row reference it.
    public func commit(_ staged: StagedBytes) async throws -> String {
        guard let rados else { throw BlobError.io("memory staging without RADOS", EINVAL) }
        return try await Offload.run {
            let name = Self.randomName()
            try staged.bytes.withUnsafeBytes { try self.upload($0, as: name, to: rados) }
            return name
        }
    }

    func commitNow(_ blob: TemporaryBlob) throws -> String {
        if let rados {
            defer { blob.removeFile() }
            try blob.finishWriting(sync: false)
            try upload(path: blob.path, as: blob.name, to: rados)
            return blob.name
        }
        try blob.sync()
        let folder = blobsFolder.appendingPathComponent(String(blob.name.prefix(2)))
        if mkdir(folder.path, 0o700) != 0, errno != EEXIST { throw BlobError.io("mkdir", errno) }
        guard rename(blob.path, path(of: blob.name)) == 0 else { throw BlobError.io("rename", errno) }
        try Self.syncFolder(folder.path)
        return blob.name
    }

    /// Deletes a committed blob (after the row that referenced it is gone).
    public func remove(_ name: String) {
        guard let rados else {
            unlink(path(of: name))
            return
        }
        // The pieces after the first, until one is missing, then the first: a failure midway leaves
        // the first piece, which the sweep finds (with whatever pieces remain).
        var piece = 1
        while (try? rados.remove(Self.pieceName(name, piece))) == true { piece += 1 }
        _ = try? rados.remove(name)
    }

    /// The RADOS object that holds piece `index` of blob `name`.
    static func pieceName(_ name: String, _ index: Int) -> String {
        index == 0 ? name : "\(name).\(index)"
    }

    /// The blob a RADOS object holds a piece of (`pieceName` undone).
    static func blobName(ofPiece object: String) -> String {
        String(object.prefix { $0 != "." })
    }

    /// Copies the file at `path` into RADOS as blob `name` (see `upload(size:as:to:next:)`).
    func upload(path: String, as name: String, to rados: RadosPool) throws {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BlobError.io("open", errno) }
        defer { close(input) }
        var stats = stat()
        guard fstat(input, &stats) == 0 else { throw BlobError.io("stat", errno) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.uploadChunk, alignment: 4096)
        defer { buffer.deallocate() }
        try upload(size: Int(stats.st_size), as: name, to: rados) { offset, count in
            var filled = 0
            while filled < count {
                let read = pread(input, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
                if read < 0, errno == EINTR { continue }
                guard read >= 0 else { throw BlobError.io("read", errno) }
                guard read > 0 else { throw BlobError.io("read: the file is shorter than it was", EIO) }
                filled += read
            }
            return UnsafeRawBufferPointer(rebasing: buffer[..<count])
        }
    }

    /// Writes `bytes` (at least one) into RADOS as blob `name` (see `upload(size:as:to:next:)`).
    func upload(_ bytes: UnsafeRawBufferPointer, as name: String, to rados: RadosPool) throws {
        try upload(size: bytes.count, as: name, to: rados) { offset, count in
            UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        }
    }

    static let uploadChunk = 4 << 20

    /// Writes a blob of `size` bytes into RADOS as `name`, piece by piece, at most 4 MiB per write
    /// op and never across a piece's end; `next(offset, count)` gives the bytes of each write. A
    /// full pool (or one over its quota) is `BlobError.noSpace` at once. On a failure the pieces
    /// written so far are removed. An empty blob is one empty object.
    private func upload(size: Int, as name: String, to rados: RadosPool,
                        next: (_ offset: Int, _ count: Int) throws -> UnsafeRawBufferPointer) throws {
        var offset = 0
        do {
            repeat {
                let within = offset % pieceSize
                let count = min(Self.uploadChunk, pieceSize - within, size - offset)
                do {
                    try rados.write(Self.pieceName(name, offset / pieceSize), try next(offset, count),
                                    at: UInt64(within), replace: within == 0)
                } catch RadosError.call(_, let code) {
                    throw (code == -ENOSPC || code == -EDQUOT) ? BlobError.noSpace : BlobError.io("rados write", -code)
                }
                offset += count
            } while offset < size
        } catch {
            remove(name)
            throw error
        }
    }

    /// Copies a blob file from elsewhere (`coffer admin migrate`) in as committed blob `name`.
    public func importFile(_ path: String, as name: String) throws {
        if let rados { return try upload(path: path, as: name, to: rados) }
        let folder = blobsFolder.appendingPathComponent(String(name.prefix(2)))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard try Store.copyFile(from: path, to: self.path(of: name)) != nil else { throw BlobError.io("open", ENOENT) }
    }

    /// Opens committed blob `name` of `size` bytes for reading; nil when it is missing. A file
    /// stays readable through the reader after it is removed.
    public func reader(_ name: String, size: Int64) throws -> BlobReader? {
        if let rados {
            if size > 0, size <= Int64(Self.minimumPieceSize) {
                // One piece, whatever the piece size: a single read brings it whole and says
                // whether it exists, where a stat would cost a round trip of its own.
                var bytes = [UInt8](repeating: 0, count: Int(size))
                do {
                    let count = try bytes.withUnsafeMutableBytes { try rados.read(name, into: $0, at: 0) }
                    bytes.removeLast(bytes.count - count)
                } catch RadosError.call(_, let code) where code == -ENOENT {
                    return nil
                }
                return BlobReader(source: .loaded(bytes), size: size)
            }
            guard let first = try rados.stat(name) else { return nil }
            // The first piece is a whole piece when there are more: its size is the piece size.
            let pieceSize = first.size >= UInt64(max(0, size)) || first.size == 0 ? max(1, size) : Int64(clamping: first.size)
            return BlobReader(source: .rados(rados, name: name, pieceSize: pieceSize), size: size)
        }
        let descriptor = open(path(of: name), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw BlobError.io("open", errno)
        }
        return BlobReader(source: .file(descriptor), size: size)
    }

    /// The size of committed blob `name`, nil when it is missing.
    public func size(of name: String) throws -> Int64? {
        if let rados {
            guard let first = try rados.stat(name) else { return nil }
            var total = Int64(first.size)
            var piece = 1
            while let next = try rados.stat(Self.pieceName(name, piece)) {
                total += Int64(next.size)
                piece += 1
            }
            return total
        }
        var info = stat()
        guard stat(path(of: name), &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Every committed blob's name.
    public func committedNames() throws -> [String] {
        if let rados {
            return Set(try rados.objectNames().map(Self.blobName(ofPiece:))).sorted()
        }
        let manager = FileManager.default
        var names: [String] = []
        for folder in ((try? manager.contentsOfDirectory(atPath: blobsFolder.path)) ?? []).sorted() {
            names += ((try? manager.contentsOfDirectory(atPath: blobsFolder.appendingPathComponent(folder).path)) ?? []).sorted()
        }
        return names
    }

    /// Removes the temporary folders of processes that are gone, and blobs not in `referenced`.
    /// While another process is alive, a blob younger than ten minutes may be one it has just
    /// renamed and not yet committed, so those are left for a later sweep. (A data folder's
    /// processes are all on this machine; a cluster's blobs go through `Store.sweepOrphanBlobs`.)
    func sweep(keeping referenced: Set<String>) throws {
        let othersAlive = sweepTemporaryFolders(shared: false)
        let cutoff = Date().addingTimeInterval(-600)
        for (_, paths) in try orphans(keeping: referenced, olderThan: othersAlive ? cutoff : nil) {
            for path in paths { unlink(path) }
        }
    }

    /// Removes the temporary folders of processes that are gone; whether another process's
    /// folder is in use. `shared`: the folder is a cluster's, mounted by nodes on other machines,
    /// whose liveness a lock file cannot tell; then a folder goes only after a day untouched.
    @discardableResult
    func sweepTemporaryFolders(shared: Bool) -> Bool {
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
        return othersAlive
    }

    /// The committed blobs not in `referenced` (last changed before `cutoff`, when given), each
    /// with what holds its bytes: its file, or its RADOS objects (the first piece last).
    func orphans(keeping referenced: Set<String>, olderThan cutoff: Date?) throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        if let rados {
            var young = Set<String>()
            for object in try rados.objectNames() {
                let name = Self.blobName(ofPiece: object)
                guard !referenced.contains(name), !young.contains(name) else { continue }
                if let cutoff {
                    guard let info = try rados.stat(object) else { continue }
                    if Double(info.modified) >= cutoff.timeIntervalSince1970 {
                        // One piece written lately: the whole blob may be an upload under way.
                        young.insert(name)
                        found[name] = nil
                        continue
                    }
                }
                found[name, default: []].append(object)
            }
            for (name, objects) in found { found[name] = objects.sorted { $0.count > $1.count || ($0.count == $1.count && $0 > $1) } }
            return found
        }
        let manager = FileManager.default
        for folder in (try? manager.contentsOfDirectory(atPath: blobsFolder.path)) ?? [] {
            let folderPath = blobsFolder.appendingPathComponent(folder).path
            for name in (try? manager.contentsOfDirectory(atPath: folderPath)) ?? [] where !referenced.contains(name) {
                let path = folderPath + "/" + name
                if let cutoff, let modified = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                   modified > cutoff {
                    continue
                }
                found[name] = [path]
            }
        }
        return found
    }

    enum RadosPieces {
        /// Every piece last changed before the cutoff: these objects, the first piece last.
        case old([String])
        /// A piece changed since: an upload may still be writing the blob.
        case young
        case gone
    }

    /// The RADOS objects of blob `name` and whether all are older than `cutoff`. Pieces are probed
    /// in order up to the first one missing past `highest` (the highest piece a listing showed),
    /// so a gap left by an interrupted removal is stepped over.
    func radosPieces(_ name: String, before cutoff: Date, highest: Int) throws -> RadosPieces {
        guard let rados else { return .gone }
        var pieces: [String] = []
        var index = 0
        while true {
            let piece = Self.pieceName(name, index)
            if let info = try rados.stat(piece) {
                guard Double(info.modified) < cutoff.timeIntervalSince1970 else { return .young }
                pieces.append(piece)
            } else if index > highest {
                break
            }
            index += 1
        }
        return pieces.isEmpty ? .gone : .old(pieces.reversed())
    }

    /// The piece of its blob a RADOS object is (0 for the first, `NAME`; k for `NAME.k`).
    static func pieceIndex(_ object: String) -> Int {
        guard let dot = object.firstIndex(of: ".") else { return 0 }
        return Int(object[object.index(after: dot)...]) ?? 0
    }

    /// Removes what `orphans` listed for one blob.
    func removeOrphan(_ holders: [String]) {
        for holder in holders {
            if let rados { _ = try? rados.remove(holder) } else { unlink(holder) }
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
        try finishWriting(sync: true)
    }

    /// Writes what is buffered and closes the file, fsync'd when `sync` (not when its bytes go on
    /// to RADOS and the file is then deleted).
    func finishWriting(sync: Bool) throws {
        try drain(whole: false)
        if sync { guard fsync(descriptor) == 0 else { throw Self.error("fsync") } }
        close(descriptor)
        isClosed = true
    }

    /// Closes and deletes the file, whatever became of it (its bytes went on to RADOS, or failed to).
    func removeFile() {
        discard()
        Glibc.unlink(path)
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

/// Reads a committed blob: a file held open, or RADOS pieces. Blocking; one reader per reading task.
public final class BlobReader: @unchecked Sendable {
    enum Source {
        case file(Int32)
        case rados(RadosPool, name: String, pieceSize: Int64)
        /// A one-piece RADOS blob, read whole when the reader was made (shorter than `size` if damaged).
        case loaded([UInt8])
    }

    let source: Source
    public let size: Int64

    init(source: Source, size: Int64) {
        self.source = source
        self.size = size
    }

    deinit {
        if case .file(let descriptor) = source { close(descriptor) }
    }

    /// Up to `count` bytes from `offset`; fewer only at the blob's end. A piece that is missing or
    /// shorter than its place says (the blob removed meanwhile) throws.
    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, offset < size, count > 0 else { return [] }
        let want = Int(min(Int64(count), size - offset))
        return try [UInt8](unsafeUninitializedCapacity: want) { buffer, initialized in
            var filled = 0
            while filled < want {
                let at = offset + Int64(filled)
                let count: Int
                switch source {
                case .file(let descriptor):
                    let result = pread(descriptor, buffer.baseAddress! + filled, want - filled, off_t(at))
                    if result < 0, errno == EINTR { continue }
                    guard result > 0 else { throw BlobError.io("read", result < 0 ? errno : EIO) }
                    count = result
                case .rados(let rados, let name, let pieceSize):
                    let piece = Int(at / pieceSize)
                    let within = at % pieceSize
                    let span = Int(min(Int64(want - filled), pieceSize - within))
                    do {
                        count = try rados.read(BlobStore.pieceName(name, piece),
                                               into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + filled, count: span),
                                               at: UInt64(within))
                    } catch RadosError.call(_, let code) {
                        throw BlobError.io("rados read", -code)
                    }
                    guard count > 0 else { throw BlobError.io("rados read", EIO) }
                case .loaded(let bytes):
                    guard at < Int64(bytes.count) else { throw BlobError.io("short blob", EIO) }
                    count = min(want - filled, bytes.count - Int(at))
                    bytes.withUnsafeBytes { source in
                        (buffer.baseAddress! + filled).update(from: source.baseAddress!.assumingMemoryBound(to: UInt8.self) + Int(at),
                                                              count: count)
                    }
                }
                filled += count
                initialized = filled
            }
        }
    }
}

/// A failure of the blob files. Never shown to clients as text.
public enum BlobError: Error, Equatable {
    case noSpace
    case io(String, Int32)
}
