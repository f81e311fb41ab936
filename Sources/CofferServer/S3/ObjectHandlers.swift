import CofferCore
import CofferEngine
import CofferStore
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOPosix
import _NIOFileSystem

/// PutObject, GetObject / HeadObject, DeleteObject.
extension S3Responder {
    /// Headers stored with a version and returned on GET/HEAD.
    static let storedHeaderNames: [HTTPField.Name] = [
        .contentType, .contentEncoding, .contentDisposition, .contentLanguage, .cacheControl, .expires,
    ]
    static let userMetadataLimit = 2048

    func putObject(_ call: S3Call) async throws -> Response {
        let headers = call.request.headers
        if let length = headers[.contentLength].flatMap(Int64.init), length > settings.maxObjectSize {
            throw S3Error(.entityTooLarge, details: [("ProposedSize", "\(length)"),
                                                    ("MaxSizeAllowed", "\(settings.maxObjectSize)")])
        }
        let stored = try Self.storedHeaders(headers)
        let checksums = try ChecksumRequest(headers)
        let condition = try Self.writeCondition(headers)
        // A body that may spill to a blob is not read for a bucket that does not exist; a small one
        // is read whole (it has mostly arrived with the head) and its write finds the bucket
        // missing: on a cluster the check is a round trip to PostgreSQL of its own.
        let length = headers[.contentLength].flatMap(Int64.init)
        if length.map({ $0 > Int64(settings.inlineLimit) }) ?? true { _ = try await engine.bucket(call.bucket) }
        if let condition { try await engine.checkCondition(condition, bucket: call.bucket, key: call.key) }
        let stager = stager()
        let hashed = try await Body.stream(call.request, into: stager, payload: call.authentication.payload,
                                           checksums: checksums, limit: settings.maxObjectSize)
        let upload = ObjectUpload(staged: stager.finish(), size: stager.size, etag: hashed.md5Hex, headers: stored,
                                  checksums: hashed.checksum)
        let outcome = try await Body.discardingOnFailure(stager) {
            try await engine.putObject(bucket: call.bucket, key: call.key, upload, condition: condition)
        }
        var response = HTTPFields()
        response[.eTag] = "\"\(outcome.etag)\""
        if let versionID = outcome.versionID { response[S3Response.versionID] = versionID }
        if let (name, value) = hashed.checksumHeader { response[name] = value }
        return S3Response.empty(.ok, headers: response)
    }

    /// `If-None-Match: *` or `If-Match: ETAG` on a write (PutObject, CompleteMultipartUpload).
    /// If-None-Match takes only `*`, as on AWS.
    static func writeCondition(_ headers: HTTPFields) throws -> WriteCondition? {
        switch (headers[.ifNoneMatch], headers[.ifMatch]) {
        case (nil, nil): return nil
        case (let value?, nil):
            guard value.trimmingCharacters(in: .whitespaces) == "*" else {
                throw S3Error(.notImplemented, "If-None-Match on a write takes only '*'.")
            }
            return .ifNoneMatch
        case (nil, let etag?): return .ifMatch(etag)
        case (_?, _?): throw S3Error(.notImplemented, "If-None-Match and If-Match cannot be combined on a write.")
        }
    }

    /// The headers to store: Content-Type (default binary/octet-stream), the other entity headers,
    /// and `x-amz-meta-*` (names lowercased; at most 2 KB in all).
    static func storedHeaders(_ headers: HTTPFields) throws -> StoredHeaders {
        var fields: [(name: String, value: String)] = []
        for name in storedHeaderNames {
            guard var value = headers[name] else { continue }
            if name == .contentEncoding {
                // aws-chunked describes the upload's framing, not the object: never stored.
                value = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { $0.lowercased() != "aws-chunked" }.joined(separator: ",")
                if value.isEmpty { continue }
            }
            fields.append((name.canonicalName, value))
        }
        if headers[.contentType] == nil { fields.insert(("content-type", "binary/octet-stream"), at: 0) }
        var metadataSize = 0
        for field in headers where field.name.canonicalName.hasPrefix("x-amz-meta-") {
            metadataSize += field.name.canonicalName.utf8.count - "x-amz-meta-".count + field.value.utf8.count
            fields.append((field.name.canonicalName, field.value))
        }
        guard metadataSize <= userMetadataLimit else {
            throw S3Error(.metadataTooLarge, details: [("Size", "\(metadataSize)"), ("MaxSizeAllowed", "\(userMetadataLimit)")])
        }
        return StoredHeaders(fields)
    }

    func getObject(_ call: S3Call, _ object: ObjectRef, _ options: ReadOptions, isHead: Bool) async throws -> Response {
        let read = try await readObject(object, options,
                                        requestHeaders: call.request.headers, isHead: isHead)
        return try await response(for: read, key: call.key, isHead: isHead)
    }

    /// The answer to a read: inline bytes, or the blob files streamed (GetObject, the console's download).
    func response(for read: ObjectRead, key: String, isHead: Bool) async throws -> Response {
        let (status, headers, length, slices) = (read.status, read.headers, read.length, read.slices)
        if isHead || length == 0 {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        if let bytes = read.inlineBody {
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: bytes))
        }
        if engine.store.blobs.rados != nil { return try await streamedFromRADOS(read, key: key) }
        // Open the first file before answering: a version deleted meanwhile stays readable through
        // the open handle. The parts of a multipart object after the first open as the stream
        // reaches them; one removed by then ends the body short, so the client sees the failure.
        var first: ReadFileHandle?
        if case .file(let name, _) = slices.first?.0 {
            do {
                first = try await FileSystem.shared.openFile(forReadingAt: FilePath(engine.store.blobs.path(of: name)))
            } catch {
                throw S3Error.noSuchKey(key)
            }
        }
        let blobs = engine.store.blobs
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { [first] writer in
            var opened = first
            for (segment, part) in slices {
                switch segment {
                case .bytes(let bytes):
                    try await writer.write(ByteBuffer(bytes: bytes[Int(part.lowerBound)..<Int(part.upperBound)]))
                case .file(let name, _):
                    let handle: ReadFileHandle
                    if let ready = opened {
                        handle = ready
                        opened = nil
                    } else {
                        handle = try await FileSystem.shared.openFile(forReadingAt: FilePath(blobs.path(of: name)))
                    }
                    do {
                        for try await chunk in handle.readChunks(in: part, chunkLength: .kibibytes(256)) {
                            try await writer.write(chunk)
                        }
                        try await handle.close()
                    } catch {
                        try? await handle.close()
                        throw error
                    }
                }
            }
            try await writer.finish(nil)
        })
    }

    /// `response(for:)` on a cluster whose bytes are in RADOS: each blob read a megabyte at a time
    /// off the event loops, the next megabyte fetched while the last one is sent. The first blob
    /// is looked up before answering (a version removed meanwhile is `NoSuchKey`); a later one
    /// missing by the time the stream reaches it ends the body short, so the client sees it.
    func streamedFromRADOS(_ read: ObjectRead, key: String) async throws -> Response {
        let blobs = engine.store.blobs
        var first: BlobReader?
        if case .file(let name, let size) = read.slices.first?.0 {
            guard let reader = try await Offload.run({ try blobs.reader(name, size: size) }) else { throw S3Error.noSuchKey(key) }
            first = reader
        }
        let slices = read.slices
        return Response(status: read.status, headers: read.headers,
                        body: ResponseBody(contentLength: Int(read.length)) { [first] writer in
            var opened = first
            for (segment, part) in slices {
                switch segment {
                case .bytes(let bytes):
                    try await writer.write(ByteBuffer(bytes: bytes[Int(part.lowerBound)..<Int(part.upperBound)]))
                case .file(let name, let size):
                    let reader: BlobReader
                    if let ready = opened {
                        reader = ready
                        opened = nil
                    } else {
                        guard let found = try await Offload.run({ try blobs.reader(name, size: size) }) else {
                            throw BlobError.io("missing blob", ENOENT)
                        }
                        reader = found
                    }
                    let chunk = Int64(1 << 20)
                    func fetch(_ offset: Int64) -> Task<[UInt8], any Error> {
                        Task { try await Offload.run { try reader.read(at: offset, count: Int(min(chunk, part.upperBound - offset))) } }
                    }
                    var offset = part.lowerBound
                    var next = fetch(offset)
                    while offset < part.upperBound {
                        let bytes = try await next.value
                        guard !bytes.isEmpty else { throw BlobError.io("short blob", EIO) }
                        offset += Int64(bytes.count)
                        if offset < part.upperBound { next = fetch(offset) }
                        try await writer.write(ByteBuffer(bytes: bytes))
                    }
                }
            }
            try await writer.finish(nil)
        })
    }

    /// What GET or HEAD of an object answers: status, headers, and the pieces of the body. Errors
    /// (no such key or version, a failed condition, a bad range) throw.
    func readObject(_ object: ObjectRef, _ options: ReadOptions, requestHeaders: HTTPFields,
                    isHead: Bool) async throws -> ObjectRead {
        let found = try await engine.lookUp(bucket: object.bucket, key: object.key.text, versionID: object.versionID)
        // A multipart object's parts, read here so the decision below never waits on the database.
        let segments = isHead && options.partNumber == nil ? nil : try await engine.lookUpSegments(of: found.version)
        return try readObject(found, options, requestHeaders: requestHeaders, isHead: isHead, segments: segments)
    }

    /// `readObject` decided without suspending (the in-place path of a data folder's GETs).
    func readObjectNow(_ object: ObjectRef, _ options: ReadOptions, requestHeaders: HTTPFields,
                       isHead: Bool) throws -> ObjectRead {
        let found = try engine.read(bucket: object.bucket, key: object.key.text, versionID: object.versionID)
        return try readObject(found, options, requestHeaders: requestHeaders, isHead: isHead)
    }

    /// `segments`: the version's bytes as `Engine.segments(of:)` gives them, if already read.
    private func readObject(_ found: (bucket: Bucket, version: ObjectVersion), _ options: ReadOptions,
                            requestHeaders: HTTPFields, isHead: Bool, segments known: [BlobSegment]? = nil) throws -> ObjectRead {
        let (bucket, version) = found
        func segmentsOf(_ version: ObjectVersion) throws -> [BlobSegment] { try known ?? engine.segments(of: version) }
        // Appended, not assigned: these names are distinct (stored headers are entity headers and
        // x-amz-meta-*), and assignment would look for an earlier field of the name each time.
        var headers = HTTPFields()
        headers.reserveCapacity(version.headers.fields.count + 12)
        headers.append(HTTPField(name: .eTag, value: "\"\(version.etag)\""))
        headers.append(HTTPField(name: .lastModified, value: HTTPDate.format(milliseconds: version.lastModified)))
        headers.append(HTTPField(name: .acceptRanges, value: "bytes"))
        if bucket.versioning.status != .unversioned {
            headers.append(HTTPField(name: S3Response.versionID, value: version.versionID))
        }
        for (name, value) in version.headers.fields {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        try Self.checkConditions(requestHeaders, version: version, headers: headers)
        for (name, value) in options.overrides { headers[name] = value }

        var range: ClosedRange<Int64>?
        var segments: [BlobSegment]?
        if let number = options.partNumber {
            // One part of a multipart object (206, with its byte range and the parts count); part 1
            // of any other object is the whole object.
            guard requestHeaders[.range] == nil else {
                throw S3Error(.invalidRequest, "Cannot specify both Range header and partNumber query parameter")
            }
            if case .manifest = version.blob {
                let parts = try segmentsOf(version)
                segments = parts
                guard number <= parts.count else { throw S3Error(.invalidPartNumber) }
                let start = parts[..<(number - 1)].reduce(Int64(0)) { $0 + $1.size }
                let size = parts[number - 1].size
                if size > 0 { range = start...(start + size - 1) }
                headers.append(HTTPField(name: Self.partsCount, value: String(parts.count)))
            } else {
                guard number == 1 else { throw S3Error(.invalidPartNumber) }
            }
        } else if let rangeHeader = requestHeaders[.range] {
            range = try Self.parseRange(rangeHeader, size: version.size)
        }
        if range == nil, requestHeaders[Self.checksumMode]?.uppercased() == "ENABLED" {
            for entry in version.checksums.split(separator: " ") {
                let parts = entry.split(separator: ":", maxSplits: 1)
                if parts.count == 2, let name = HTTPField.Name("x-amz-checksum-\(parts[0].lowercased())") {
                    headers[name] = String(parts[1])
                    headers[HTTPField.Name("x-amz-checksum-type")!] = parts[1].contains("-") ? "COMPOSITE" : "FULL_OBJECT"
                }
            }
        }
        let status: HTTPResponse.Status = range == nil ? .ok : .partialContent
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? version.size
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(version.size)" }
        headers.append(HTTPField(name: .contentLength, value: String(length)))
        if isHead || length == 0 { return ObjectRead(status: status, headers: headers, length: length, slices: []) }
        return ObjectRead(status: status, headers: headers, length: length,
                          // An empty object has no byte range at all (`0...-1` would trap): it returned above.
                          slices: BlobSegment.slices(try segments ?? segmentsOf(version),
                                                     range: range ?? 0...(version.size - 1)))
    }

    static let checksumMode = HTTPField.Name("x-amz-checksum-mode")!
    static let partsCount = HTTPField.Name("x-amz-mp-parts-count")!

    /// If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304 (RFC 7232 order,
    /// as S3 applies it).
    static func checkConditions(_ request: HTTPFields, version: ObjectVersion, headers: HTTPFields) throws {
        let etag = version.etag
        let modifiedSeconds = version.lastModified / 1000
        func matches(_ list: String) -> Bool {
            list.split(separator: ",").contains { item in
                let trimmed = item.trimmingCharacters(in: .whitespaces)
                return trimmed == "*" || trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == etag
            }
        }
        var notModified: S3Error {
            S3Error(.notModified, headers: [("ETag", "\"\(etag)\""), ("Last-Modified", headers[.lastModified] ?? "")])
        }
        if let ifMatch = request[.ifMatch] {
            guard matches(ifMatch) else { throw S3Error(.preconditionFailed, details: [("Condition", "If-Match")]) }
        } else if let since = request[.ifUnmodifiedSince].flatMap(HTTPDate.parse), modifiedSeconds > since / 1000 {
            throw S3Error(.preconditionFailed, details: [("Condition", "If-Unmodified-Since")])
        }
        if let ifNoneMatch = request[.ifNoneMatch] {
            if matches(ifNoneMatch) { throw notModified }
        } else if let since = request[.ifModifiedSince].flatMap(HTTPDate.parse), modifiedSeconds <= since / 1000 {
            throw notModified
        }
    }

    /// `response-*` query parameters override the stored headers.
    static let overrides: [String: HTTPField.Name] = [
        "response-content-type": .contentType, "response-content-language": .contentLanguage,
        "response-expires": .expires, "response-cache-control": .cacheControl,
        "response-content-disposition": .contentDisposition, "response-content-encoding": .contentEncoding,
    ]

    /// A single byte range; anything unparseable is ignored (the whole object, as S3 does);
    /// a range starting at or past the end is `416 InvalidRange`.
    static func parseRange(_ header: String, size: Int64) throws -> ClosedRange<Int64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let unsatisfiable = S3Error(.invalidRange, details: [("RangeRequested", header), ("ActualObjectSize", "\(size)")],
                                    headers: [("Content-Range", "bytes */\(size)")])
        if parts[0].isEmpty {
            guard let suffix = Int64(parts[1]) else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int64(parts[0]) else { return nil }
        let end = parts[1].isEmpty ? Int64.max : Int64(parts[1])
        guard let end, end >= start else { return nil }
        guard start < size else { throw unsatisfiable }
        return start...min(end, size - 1)
    }

    func deleteObject(_ call: S3Call, _ object: ObjectRef) async throws -> Response {
        let outcome = try await engine.deleteObject(bucket: object.bucket, key: object.key.text,
                                                    versionID: object.versionID, principal: call.principal,
                                                    mfa: call.mfa, context: call.connection)
        var headers = HTTPFields()
        if let versionID = outcome.versionID { headers[S3Response.versionID] = versionID }
        if outcome.deleteMarker { headers[S3Response.deleteMarker] = "true" }
        return S3Response.empty(.noContent, headers: headers)
    }
}

/// The answer to GET or HEAD of an object, before any byte of a file is read.
extension S3Responder {
    /// The first `limit` bytes of what `read` would send (the console's previews).
    func firstBytes(_ read: ObjectRead, limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        for (segment, part) in read.slices where out.count < limit {
            let want = min(Int64(limit - out.count), part.upperBound - part.lowerBound)
            switch segment {
            case .bytes(let bytes):
                out += bytes[Int(part.lowerBound)..<Int(part.lowerBound + want)]
            case .file(let name, let size):
                let blobs = engine.store.blobs
                out += try await Offload.run {
                    guard let reader = try blobs.reader(name, size: size) else { throw BlobError.io("missing blob", ENOENT) }
                    return try reader.read(at: part.lowerBound, count: Int(want))
                }
            }
        }
        return out
    }

    /// Staging for an object's bytes on their way in (inline when small, else a temporary file).
    func stager() -> BlobStager { BlobStager(blobs: engine.store.blobs, inlineLimit: settings.inlineLimit) }
}

struct ObjectRead {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var length: Int64
    /// The body's pieces: empty for HEAD and for an empty body.
    var slices: [(BlobSegment, Range<Int64>)]

    /// The body when it is all in the database row (a small object): no file to open.
    var inlineBody: ByteBuffer? { inlineBytes.map { ByteBuffer(bytes: $0) } }

    /// `inlineBody`'s bytes, uncopied.
    var inlineBytes: ArraySlice<UInt8>? {
        guard slices.count == 1, case .bytes(let bytes) = slices[0].0 else { return nil }
        let part = slices[0].1
        return bytes[Int(part.lowerBound)..<Int(part.upperBound)]
    }
}
