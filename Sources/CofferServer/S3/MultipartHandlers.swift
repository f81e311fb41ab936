import CofferCore
import CofferEngine
import CofferStore
import Foundation
import Hummingbird
import HTTPTypes

/// Multipart uploads: create, upload (or copy) parts, complete, abort, list parts and uploads.
extension S3Responder {
    static let checksumAlgorithm = HTTPField.Name("x-amz-checksum-algorithm")!
    static let copySourceRange = HTTPField.Name("x-amz-copy-source-range")!

    /// `x-amz-copy-source-range`: exactly `bytes=first-last`, within the source. Unlike a GET's
    /// Range, nothing is clamped: a part must be exactly the bytes asked for.
    static func parseCopySourceRange(_ text: String, size: Int64) throws -> ClosedRange<Int64> {
        let parts = text.hasPrefix("bytes=") ? text.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false) : []
        guard parts.count == 2, let first = Int64(parts[0]), let last = Int64(parts[1]), first <= last else {
            throw S3Error.invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last",
                                          name: "x-amz-copy-source-range", value: text)
        }
        guard last < size else {
            throw S3Error.invalidArgument("Range specified is not valid for source object of size: \(size)",
                                          name: "x-amz-copy-source-range", value: text)
        }
        return first...last
    }

    func createMultipartUpload(_ call: S3Call) async throws -> Response {
        var algorithm = call.request.headers[Self.checksumAlgorithm]?.uppercased()
        if let name = algorithm {
            guard ChecksumRequest.Algorithm(rawValue: name) != nil else {
                throw S3Error.invalidArgument("Checksum algorithm provided is unsupported.", name: "x-amz-checksum-algorithm",
                                              value: name)
            }
        }
        if algorithm?.isEmpty == true { algorithm = nil }
        let uploadID = try await engine.createUpload(bucket: call.bucket, key: call.key,
                                                     headers: try Self.storedHeaders(call.request.headers),
                                                     checksumAlgorithm: algorithm)
        var headers = HTTPFields()
        if let algorithm { headers[Self.checksumAlgorithm] = algorithm }
        var writer = XMLWriter()
        writer.document("InitiateMultipartUploadResult") { xml in
            xml.element("Bucket", call.bucket)
            xml.element("Key", call.key)
            xml.element("UploadId", uploadID)
        }
        return S3Response.xml(writer, headers: headers)
    }

    func uploadPart(_ call: S3Call, _ target: UploadRef, part number: Int, copying source: CopySource?) async throws -> Response {
        let uploadID = target.uploadID
        let stager = stager()
        var headers = HTTPFields()
        let upload: ObjectUpload
        var copyResult: (String?, Int64)?
        if let source {
            let (bucket, key, versionID) = (source.bucket, source.key.text, source.versionID)
            let (sourceBucket, source) = try await engine.lookUp(bucket: bucket, key: key, versionID: versionID)
            // An empty source has no byte range at all.
            var range: ClosedRange<Int64>? = source.size > 0 ? 0...(source.size - 1) : nil
            if let text = call.request.headers[Self.copySourceRange] {
                range = try Self.parseCopySourceRange(text, size: source.size)
            }
            let hashed = try await Body.discardingOnFailure(stager) {
                try await copyBytes(of: source, range: range, into: stager)
            }
            _ = try await Body.collect(call.request, limit: 0, payload: call.authentication.payload)
            upload = ObjectUpload(staged: stager.finish(), size: stager.size, etag: hashed.md5Hex,
                                  headers: StoredHeaders(), checksums: "")
            copyResult = (sourceBucket.versioning.status == .unversioned ? nil : source.versionID, source.lastModified)
        } else {
            let hashed = try await Body.stream(call.request, into: stager, payload: call.authentication.payload,
                                               checksums: try ChecksumRequest(call.request.headers),
                                               limit: settings.maxObjectSize)
            upload = ObjectUpload(staged: stager.finish(), size: stager.size, etag: hashed.md5Hex, headers: StoredHeaders(),
                                  checksums: hashed.checksum)
            if let (name, value) = hashed.checksumHeader { headers[name] = value }
        }
        try await Body.discardingOnFailure(stager) {
            try await engine.uploadPart(bucket: call.bucket, key: call.key, uploadID: uploadID, number: number, upload)
        }
        guard let (sourceVersion, modified) = copyResult else {
            headers[.eTag] = "\"\(upload.etag)\""
            return S3Response.empty(.ok, headers: headers)
        }
        if let sourceVersion { headers[Self.copySourceVersionID] = sourceVersion }
        var writer = XMLWriter()
        writer.document("CopyPartResult") { xml in
            xml.element("LastModified", HTTPDate.iso8601(milliseconds: modified))
            xml.element("ETag", "\"\(upload.etag)\"")
        }
        return S3Response.xml(writer, headers: headers)
    }

    /// Copies a byte range of a stored version into a stager, on the blocking-I/O threads; returns
    /// the copy's hashes.
    private func copyBytes(of version: ObjectVersion, range: ClosedRange<Int64>?,
                           into stager: BlobStager) async throws -> Hasher.Result {
        let all = try await engine.lookUpSegments(of: version)
        let slices = range.map { BlobSegment.slices(all, range: $0) } ?? []
        let blobs = engine.store.blobs
        return try await Offload.run {
            var hasher = Hasher(checksums: ChecksumRequest())
            for (segment, part) in slices {
                switch segment {
                case .bytes(let bytes):
                    try bytes[Int(part.lowerBound)..<Int(part.upperBound)].withUnsafeBytes { raw in
                        hasher.update(raw)
                        try stager.append(raw)
                    }
                case .file(let name, let size):
                    guard let reader = try blobs.reader(name, size: size) else { throw S3Error.noSuchKey(version.key) }
                    var offset = part.lowerBound
                    while offset < part.upperBound {
                        let chunk = try reader.read(at: offset, count: Int(min(part.upperBound - offset, 1 << 20)))
                        guard !chunk.isEmpty else { throw BlobError.io("short blob", EIO) }
                        try chunk.withUnsafeBytes { raw in
                            hasher.update(raw)
                            try stager.append(raw)
                        }
                        offset += Int64(chunk.count)
                    }
                }
            }
            return hasher.result()
        }
    }

    /// The parts a `CompleteMultipartUpload` document names (fuzzed: `coffer-fuzz complete`).
    static func completedParts(_ body: [UInt8]) throws -> [CompletedPart] {
        guard let document = try? XMLParser.parse(body), document.name == "CompleteMultipartUpload" else {
            throw S3Error.malformedXML
        }
        var parts: [CompletedPart] = []
        for part in document.all("Part") {
            guard let number = part.child("PartNumber").flatMap({ Int($0.text) }), let etag = part.child("ETag")?.text else {
                throw S3Error.malformedXML
            }
            parts.append(CompletedPart(number: number, etag: etag))
        }
        return parts
    }

    func completeMultipartUpload(_ call: S3Call, _ upload: UploadRef) async throws -> Response {
        let uploadID = upload.uploadID
        let body = try await Body.collect(call.request, limit: 1024 * 1024, payload: call.authentication.payload)
        let parts = try Self.completedParts(body)
        let condition = try Self.writeCondition(call.request.headers)
        if let condition { try await engine.checkCondition(condition, bucket: call.bucket, key: call.key) }
        let outcome = try await engine.completeUpload(bucket: call.bucket, key: call.key, uploadID: uploadID,
                                                      parts: parts, condition: condition, composite: Self.compositeChecksum)
        var headers = HTTPFields()
        if let versionID = outcome.versionID { headers[S3Response.versionID] = versionID }
        var writer = XMLWriter()
        writer.document("CompleteMultipartUploadResult") { xml in
            xml.element("Location", "/\(call.bucket)/\(Percent.encode(call.key, keepSlash: true))")
            xml.element("Bucket", call.bucket)
            xml.element("Key", call.key)
            xml.element("ETag", "\"\(outcome.etag)\"")
            let checksum = outcome.version.checksums.split(separator: ":", maxSplits: 1)
            if checksum.count == 2 {
                let name = ChecksumRequest.Algorithm(rawValue: String(checksum[0]))?.rawValue ?? String(checksum[0])
                xml.element("Checksum\(name)", String(checksum[1]))
                xml.element("ChecksumType", "COMPOSITE")
            }
        }
        return S3Response.xml(writer, headers: headers)
    }

    /// The composite checksum of a multipart object: the algorithm over the parts' binary
    /// checksums, base64, then `-N`. Empty when the parts carry none (or disagree).
    static func compositeChecksum(_ parts: [PartRecord]) throws -> String {
        var algorithm: ChecksumRequest.Algorithm?
        var joined: [UInt8] = []
        for part in parts {
            let pieces = part.checksum.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2, let named = ChecksumRequest.Algorithm(rawValue: String(pieces[0])),
                  algorithm == nil || algorithm == named, let bytes = Data(base64Encoded: String(pieces[1]))
            else { return "" }
            algorithm = named
            joined += bytes
        }
        guard let algorithm else { return "" }
        let digest = Hasher.digest(algorithm, of: joined)
        return "\(algorithm.rawValue):\(Data(digest).base64EncodedString())-\(parts.count)"
    }

    func abortMultipartUpload(_ call: S3Call, _ upload: UploadRef) async throws -> Response {
        try await engine.abortUpload(bucket: call.bucket, key: call.key, uploadID: upload.uploadID)
        return S3Response.empty(.noContent)
    }

    func listParts(_ call: S3Call, _ listing: PartsListing) async throws -> Response {
        let uploadID = listing.upload.uploadID
        let marker = listing.marker
        let maxParts = listing.maxParts
        let (upload, parts) = try await engine.parts(bucket: call.bucket, key: call.key, uploadID: uploadID, after: marker,
                                               limit: maxParts + 1)
        let page = Array(parts.prefix(maxParts))
        var writer = XMLWriter()
        writer.document("ListPartsResult") { xml in
            xml.element("Bucket", call.bucket)
            xml.element("Key", call.key)
            xml.element("UploadId", uploadID)
            xml.element("PartNumberMarker", marker)
            if parts.count > maxParts, let last = page.last { xml.element("NextPartNumberMarker", last.number) }
            xml.element("MaxParts", maxParts)
            xml.element("IsTruncated", parts.count > maxParts)
            if let algorithm = upload.checksumAlgorithm { xml.element("ChecksumAlgorithm", algorithm) }
            xml.element("Initiator") { xml in
                xml.element("ID", settings.ownerID)
                xml.element("DisplayName", settings.ownerName)
            }
            owner(&xml)
            xml.element("StorageClass", "STANDARD")
            for part in page {
                xml.element("Part") { xml in
                    xml.element("PartNumber", part.number)
                    xml.element("LastModified", HTTPDate.iso8601(milliseconds: part.modified))
                    xml.element("ETag", "\"\(part.etag)\"")
                    xml.element("Size", part.size)
                    let checksum = part.checksum.split(separator: ":", maxSplits: 1)
                    if checksum.count == 2 { xml.element("Checksum\(checksum[0])", String(checksum[1])) }
                }
            }
        }
        return S3Response.xml(writer)
    }

    func listMultipartUploads(_ call: S3Call, _ listing: UploadsListing) async throws -> Response {
        let parameters = listing.list
        let keyMarker = listing.keyMarker
        let uploadMarker = listing.uploadIDMarker
        let maxUploads = listing.maxUploads
        let uploads = try await engine.uploads(bucket: call.bucket, prefix: parameters.prefix, afterKey: keyMarker,
                                         afterUploadID: uploadMarker, limit: maxUploads + 1)
        let page = Array(uploads.prefix(maxUploads))
        var writer = XMLWriter()
        writer.document("ListMultipartUploadsResult") { xml in
            xml.element("Bucket", call.bucket)
            xml.element("KeyMarker", parameters.wire(keyMarker))
            xml.element("UploadIdMarker", uploadMarker)
            if uploads.count > maxUploads, let last = page.last {
                xml.element("NextKeyMarker", parameters.wire(last.key))
                xml.element("NextUploadIdMarker", last.uploadID)
            }
            xml.element("Prefix", parameters.wire(parameters.prefix))
            if parameters.encode { xml.element("EncodingType", "url") }
            xml.element("MaxUploads", maxUploads)
            xml.element("IsTruncated", uploads.count > maxUploads)
            for upload in page {
                xml.element("Upload") { xml in
                    xml.element("Key", parameters.wire(upload.key))
                    xml.element("UploadId", upload.uploadID)
                    xml.element("Initiator") { xml in
                        xml.element("ID", settings.ownerID)
                        xml.element("DisplayName", settings.ownerName)
                    }
                    owner(&xml)
                    xml.element("StorageClass", "STANDARD")
                    xml.element("Initiated", HTTPDate.iso8601(milliseconds: upload.created))
                    if let algorithm = upload.checksumAlgorithm { xml.element("ChecksumAlgorithm", algorithm) }
                }
            }
        }
        return S3Response.xml(writer)
    }
}
