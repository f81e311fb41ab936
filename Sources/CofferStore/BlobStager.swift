/// Receives an upload's bytes: small bodies stay in memory (and are stored inline in their row,
/// one fsync for the whole PUT); once a body outgrows `inlineLimit` it spills to a temporary file.
public final class BlobStager: @unchecked Sendable {
    public enum Staged: Sendable {
        case inline([UInt8])
        case temporary(TemporaryBlob)
    }

    private let blobs: BlobStore
    private let inlineLimit: Int
    private var buffer: [UInt8] = []
    private var file: TemporaryBlob?
    public private(set) var size: Int64 = 0

    public init(blobs: BlobStore, inlineLimit: Int = 64 * 1024) {
        self.blobs = blobs
        self.inlineLimit = inlineLimit
    }

    /// Refuses (`BlobError.noSpace`) bytes that would eat into the space kept for the database
    /// (`BlobStore.hasRoom`): checked as a body begins and for every write to a file.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        if size == 0 || file != nil || buffer.count + bytes.count > inlineLimit {
            guard blobs.hasRoom(adding: bytes.count) else { throw BlobError.noSpace }
        }
        size += Int64(bytes.count)
        if let file {
            try file.write(bytes)
            return
        }
        if buffer.count + bytes.count <= inlineLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        let spill = try blobs.makeTemporaryFile()
        file = spill
        try buffer.withUnsafeBytes { try spill.write($0) }
        buffer = []
        try spill.write(bytes)
    }

    public func finish() -> Staged {
        if let file { return .temporary(file) }
        return .inline(buffer)
    }

    /// Drops whatever was staged (a failed or refused upload).
    public func discard() {
        file?.discard()
        file = nil
        buffer = []
    }
}
