import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Object bytes on disk: `blobs/XY/NAME` files, written through `tmp/` (fsync, rename, fsync of
/// the folder) so a crash leaves either no file or a whole one.
public final class BlobStore: Sendable {
    public let blobsFolder: URL
    public let temporaryFolder: URL

    init(folder: URL) throws {
        blobsFolder = folder.appendingPathComponent("blobs")
        temporaryFolder = folder.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: blobsFolder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: temporaryFolder, withIntermediateDirectories: true)
    }

    /// The path of a committed blob.
    public func path(of name: String) -> String {
        blobsFolder.appendingPathComponent(String(name.prefix(2))).appendingPathComponent(name).path
    }

    /// Starts a temporary file for an upload.
    public func makeTemporaryFile() throws -> TemporaryBlob {
        let name = Self.randomName()
        let path = temporaryFolder.appendingPathComponent(name).path
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlobError.io("create", errno) }
        return TemporaryBlob(descriptor: descriptor, path: path, name: name)
    }

    /// Makes a finished temporary file durable under its final name: fsync, rename into
    /// `blobs/`, fsync the folder. Only after this may a row reference it.
    public func commit(_ blob: TemporaryBlob) throws -> String {
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

    /// Removes every temporary file and every blob not in `referenced`.
    func sweep(keeping referenced: Set<String>) throws {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: temporaryFolder.path)) ?? [] {
            unlink(temporaryFolder.appendingPathComponent(name).path)
        }
        for folder in (try? manager.contentsOfDirectory(atPath: blobsFolder.path)) ?? [] {
            let folderPath = blobsFolder.appendingPathComponent(folder).path
            for name in (try? manager.contentsOfDirectory(atPath: folderPath)) ?? [] where !referenced.contains(name) {
                unlink(folderPath + "/" + name)
            }
        }
    }

    static func randomName() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        for _ in 0..<16 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            bytes.append(hex[Int(byte >> 4)])
            bytes.append(hex[Int(byte & 15)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func syncFolder(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobError.io("open folder", errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BlobError.io("fsync folder", errno) }
    }
}

/// A blob being written. Not thread-safe: one upload owns it.
public final class TemporaryBlob: @unchecked Sendable {
    let descriptor: Int32
    let path: String
    let name: String
    private var isClosed = false

    init(descriptor: Int32, path: String, name: String) {
        self.descriptor = descriptor
        self.path = path
        self.name = name
    }

    deinit { discard() }

    /// Appends bytes; a full disk surfaces as `BlobError.noSpace`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw errno == ENOSPC || errno == EDQUOT ? BlobError.noSpace : BlobError.io("write", errno)
            }
            offset += written
        }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else {
            throw errno == ENOSPC || errno == EDQUOT ? BlobError.noSpace : BlobError.io("fsync", errno)
        }
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
