import Synchronization

/// Receives an upload's bytes: small bodies stay in memory (and are stored inline in their row,
/// one fsync for the whole PUT); once a body outgrows `inlineLimit` it spills to a temporary file
/// — except with blobs in RADOS, where a body of up to `memoryLimit` stays in memory while the
/// process's memory budget for them lasts, and goes from there to the pool: a staging file would
/// cost a local write and a read back for every upload.
public final class BlobStager: @unchecked Sendable {
    public enum Staged: Sendable {
        case inline([UInt8])
        case temporary(TemporaryBlob)
        /// A body past the inline limit held in memory, bound for RADOS.
        case memory(StagedBytes)
    }

    private let blobs: BlobStore
    private let inlineLimit: Int
    private let memoryLimit: Int
    private var buffer: [UInt8] = []
    /// The part of the memory budget `buffer` holds (0 while it is within the inline limit).
    private var reserved = 0
    private var file: TemporaryBlob?
    public private(set) var size: Int64 = 0

    /// A body held in memory at most this large (with RADOS).
    public static let memoryLimit = 8 << 20
    /// All bodies held in memory at once, at most this many bytes; the rest are staged in files.
    static let memoryBudget = 128 << 20
    static let memoryInUse = Atomic<Int>(0)

    /// `memoryLimit` (tests): bodies held in memory up to that size whatever holds the blobs.
    public init(blobs: BlobStore, inlineLimit: Int = 64 * 1024, memoryLimit: Int? = nil) {
        self.blobs = blobs
        self.inlineLimit = inlineLimit
        self.memoryLimit = max(inlineLimit, memoryLimit ?? (blobs.rados == nil ? inlineLimit : Self.memoryLimit))
    }

    deinit { release() }

    /// Takes `count` more bytes of the memory budget; false (nothing taken) when it has not that much.
    static func reserve(_ count: Int) -> Bool {
        var current = memoryInUse.load(ordering: .relaxed)
        while true {
            guard current <= memoryBudget - count else { return false }
            let (exchanged, original) = memoryInUse.compareExchange(expected: current, desired: current + count,
                                                                  ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    private func release() {
        if reserved > 0 { Self.memoryInUse.subtract(reserved, ordering: .relaxed) }
        reserved = 0
    }

    /// Refuses (`BlobError.noSpace`) bytes that would eat into the space kept for the database
    /// (`BlobStore.hasRoom`): checked as a body begins and for every write to a file.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        try append(bytes, adopting: nil)
    }

    /// `append`, taking the array itself as the staged bytes when they are the first and stay in
    /// memory (no copy).
    public func append(taking bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0, adopting: bytes) }
    }

    /// Whether `count` more bytes would stay in memory, so that appending them does no file I/O
    /// (then it need not leave the caller's thread). Never for the first bytes of a body on a
    /// folder: they check the disk's reserve (`statvfs`, which a network mount can hold up).
    public func staysInMemory(adding count: Int) -> Bool {
        guard file == nil, blobs.rados != nil || size > 0 else { return false }
        let total = buffer.count + count
        return total <= inlineLimit
            || (total <= memoryLimit && Self.memoryInUse.load(ordering: .relaxed) <= Self.memoryBudget - (total - reserved))
    }

    private func append(_ bytes: UnsafeRawBufferPointer, adopting owned: [UInt8]?) throws {
        // The local disk's reserve guards what goes onto it: on a folder every body (small ones go
        // into the database there), with RADOS only staging files.
        let toRADOS = blobs.rados != nil
        if !toRADOS, size == 0 || file != nil || buffer.count + bytes.count > inlineLimit {
            guard blobs.hasRoom(adding: bytes.count) else { throw BlobError.noSpace }
        }
        size += Int64(bytes.count)
        if let file {
            if toRADOS { guard blobs.hasRoom(adding: bytes.count) else { throw BlobError.noSpace } }
            try file.write(bytes)
            return
        }
        let total = buffer.count + bytes.count
        if total <= inlineLimit {
            keep(bytes, adopting: owned)
            return
        }
        if total <= memoryLimit {
            keep(bytes, adopting: owned)
            // The budget counts what the buffer holds, its spare capacity included. Without room
            // in it, the bytes go to a file after all.
            let more = buffer.capacity - reserved
            if more <= 0 || Self.reserve(more) {
                reserved = max(reserved, buffer.capacity)
                return
            }
            return try spill(then: nil)
        }
        try spill(then: bytes)
    }

    /// Moves what is held in memory (then `bytes`) to a temporary file, which takes the rest.
    private func spill(then bytes: UnsafeRawBufferPointer?) throws {
        if blobs.rados != nil {
            guard blobs.hasRoom(adding: buffer.count + (bytes?.count ?? 0)) else { throw BlobError.noSpace }
        }
        let spill = try blobs.makeTemporaryFile()
        file = spill
        try buffer.withUnsafeBytes { try spill.write($0) }
        buffer = []
        release()
        if let bytes { try spill.write(bytes) }
    }

    private func keep(_ bytes: UnsafeRawBufferPointer, adopting owned: [UInt8]?) {
        if buffer.isEmpty, let owned {
            buffer = owned
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public func finish() -> Staged {
        if let file { return .temporary(file) }
        guard buffer.count > inlineLimit else { return .inline(buffer) }
        // The reservation goes with the bytes: released when the last holder drops them.
        let staged = StagedBytes(buffer, reserved: reserved)
        reserved = 0
        buffer = []
        return .memory(staged)
    }

    /// Drops whatever was staged (a failed or refused upload).
    public func discard() {
        file?.discard()
        file = nil
        buffer = []
        release()
    }
}

/// An upload's body held in memory (`BlobStager.Staged.memory`), with the share of the memory
/// budget it holds, given back when it is dropped.
public final class StagedBytes: Sendable {
    public let bytes: [UInt8]
    private let reserved: Int

    init(_ bytes: [UInt8], reserved: Int) {
        self.bytes = bytes
        self.reserved = reserved
    }

    deinit {
        if reserved > 0 { BlobStager.memoryInUse.subtract(reserved, ordering: .relaxed) }
    }
}
