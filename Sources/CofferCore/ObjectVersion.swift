/// Where a version's bytes are: inline in the metadata row (small objects), in a blob file, or —
/// for a completed multipart upload — in its parts' blobs, in order, listed by a manifest.
public enum BlobLocation: Sendable, Equatable {
    case inline([UInt8])
    case file(String)
    /// The name of a manifest (see `Manifest`): copies of the object share it.
    case manifest(String)
    case none
}

/// A manifest's names never collide with blob file names (32 lowercase hex digits).
public enum Manifest {
    public static let prefix = "m-"

    public static func isManifest(_ name: String) -> Bool { name.hasPrefix(prefix) }
}

/// One stretch of an object's bytes: inline, or a whole blob file of `size` bytes.
public enum BlobSegment: Sendable, Equatable {
    case bytes([UInt8])
    case file(String, size: Int64)

    public var size: Int64 {
        switch self {
        case .bytes(let bytes): Int64(bytes.count)
        case .file(_, let size): size
        }
    }

    /// The pieces of `segments` that hold bytes `range` of their concatenation, each with the
    /// range within that segment.
    public static func slices(_ segments: [BlobSegment], range: ClosedRange<Int64>) -> [(BlobSegment, Range<Int64>)] {
        var result: [(BlobSegment, Range<Int64>)] = []
        var start: Int64 = 0
        for segment in segments {
            let end = start + segment.size
            let lower = max(range.lowerBound, start), upper = min(range.upperBound + 1, end)
            if lower < upper { result.append((segment, (lower - start)..<(upper - start))) }
            if end > range.upperBound { break }
            start = end
        }
        return result
    }
}

/// One entry in a key's version stack: an object version or a delete marker.
public struct ObjectVersion: Sendable, Equatable {
    public var key: String
    /// `null` for the null version.
    public var versionID: String
    public var isDeleteMarker: Bool
    /// Per-bucket, increasing: newest-first order within a key.
    public var sequence: Int64
    public var isLatest: Bool
    /// Milliseconds since 1970.
    public var lastModified: Int64
    public var size: Int64
    /// Hex MD5 (or the multipart form), without quotes. Empty for delete markers.
    public var etag: String
    /// Stored response headers (Content-Type, Cache-Control, x-amz-meta-*, …).
    public var headers: StoredHeaders
    /// Flexible checksums, `ALGORITHM:base64` separated by spaces.
    public var checksums: String
    public var blob: BlobLocation

    public init(key: String, versionID: String, isDeleteMarker: Bool, sequence: Int64 = 0, isLatest: Bool = true,
                lastModified: Int64, size: Int64 = 0, etag: String = "", headers: StoredHeaders = StoredHeaders(),
                checksums: String = "", blob: BlobLocation = .none) {
        self.key = key
        self.versionID = versionID
        self.isDeleteMarker = isDeleteMarker
        self.sequence = sequence
        self.isLatest = isLatest
        self.lastModified = lastModified
        self.size = size
        self.etag = etag
        self.headers = headers
        self.checksums = checksums
        self.blob = blob
    }

    public static func deleteMarker(key: String, versionID: String, at lastModified: Int64) -> ObjectVersion {
        ObjectVersion(key: key, versionID: versionID, isDeleteMarker: true, lastModified: lastModified)
    }
}

/// Response headers stored with a version, kept as `name:value` lines (HTTP forbids newlines in
/// values, so the form is unambiguous and cheap to parse on the GET path).
public struct StoredHeaders: Sendable, Equatable {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    public init(encoded: String) {
        // Byte-level: both separators are ASCII, so UTF-8 indices are valid String indices.
        fields = encoded.utf8.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            return (String(Substring(line[..<colon])), String(Substring(line[line.index(after: colon)...])))
        }
    }

    public var encoded: String { fields.map { "\($0.name):\($0.value)\n" }.joined() }

    public subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    public static func == (lhs: StoredHeaders, rhs: StoredHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields, by: ==)
    }
}

/// A bucket as the engine sees it.
public struct Bucket: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var region: String
    public var created: Int64
    public var versioning: VersioningConfiguration

    public init(id: Int64, name: String, region: String, created: Int64, versioning: VersioningConfiguration) {
        self.id = id
        self.name = name
        self.region = region
        self.created = created
        self.versioning = versioning
    }
}
