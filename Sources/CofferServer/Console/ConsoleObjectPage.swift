import CofferCore
import CofferEngine
import CofferIAM
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An object's page: what it is (size, ETag, type, metadata, its versions), a preview of text and
/// images, its S3 URI, and a presigned link signed with temporary credentials of the session.
extension ConsoleResponder {
    /// Image types shown in the page — never SVG (it runs script) and never anything sniffed.
    static let previewImages: [String: [UInt8]] = [
        "image/png": [0x89, 0x50, 0x4E, 0x47], "image/jpeg": [0xFF, 0xD8, 0xFF], "image/gif": [0x47, 0x49, 0x46, 0x38],
        "image/webp": [0x52, 0x49, 0x46, 0x46],
    ]
    static let previewImageLimit: Int64 = 5 << 20
    static let previewTextLimit = 16 << 10
    /// Presigned links last at most 12 hours (and never past the session).
    static let presignChoices: [(minutes: Int, words: String)] = [(15, "15 minutes"), (60, "1 hour"), (240, "4 hours"),
                                                                   (720, "12 hours")]

    /// `Text/Plain; charset=utf-8` → `text/plain`.
    static func mediaType(_ contentType: String) -> String {
        contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    static func isTextual(_ contentType: String, key: String) -> Bool {
        let type = Self.mediaType(contentType)
        if type.hasPrefix("text/") || ["application/json", "application/xml", "application/x-yaml", "application/yaml"].contains(type) {
            return true
        }
        let suffix = key.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return (type.isEmpty || type == "binary/octet-stream" || type == "application/octet-stream")
            && ["txt", "md", "json", "csv", "log", "yaml", "yml", "xml", "ini", "conf", "tsv"].contains(suffix)
    }

    func objectPage(_ call: Call, _ name: String, error: String? = nil, status: HTTPResponse.Status = .ok,
                    link: (url: String, until: Int64, accessKey: String)? = nil) async throws -> Response {
        let key = try objectKey(call.query["key"] ?? call.form["key"])
        let versionID = (call.query["versionId"] ?? call.form["versionId"]).flatMap { $0.isEmpty ? nil : $0 }
        let object = ObjectRef(bucket: name, key: key, versionID: versionID)
        let options = ReadOptions(partNumber: nil, overrides: [])
        try await authorize(.headObject(object, options), call)
        let bucket = try await engine.bucket(name)
        let version = try await engine.lookUp(bucket: name, key: key.text, versionID: versionID).version
        let contentType = version.headers.fields.first { $0.name.lowercased() == "content-type" }?.value ?? ""
        let metadata = version.headers.fields.filter { $0.name.lowercased().hasPrefix("x-amz-meta-") }
            .map { ObjectView.Meta(name: String($0.name.dropFirst("x-amz-meta-".count)), value: $0.value) }
        var versions: [ObjectView.Version] = []
        if bucket.versioning.status != .unversioned,
           await mayS3(.listObjectVersions(name, VersionListing(list: S3Responder.ListParameters(prefix: key.text, delimiter: "", maxKeys: 100),
                                                          keyMarker: nil, versionIDMarker: nil)), call) {
            let page = try await engine.listObjectVersions(bucket: name, ListingQuery(prefix: key.text, maxKeys: 100))
            versions = page.entries.filter { $0.key == key.text }.map { entry in
                ObjectView.Version(versionID: entry.versionID, versionQuery: Self.q(entry.versionID), latest: entry.isLatest,
                                   marker: entry.isDeleteMarker, size: entry.isDeleteMarker ? "" : Self.size(entry.size),
                                   modified: Self.date(entry.lastModified), current: entry.versionID == version.versionID)
            }
        }
        let readable = await mayS3(.getObject(object, options), call)
        var view = ObjectView(
            title: key.text, bucket: name, key: key.text, keyQuery: Self.q(key.text),
            versionID: bucket.versioning.status == .unversioned ? "" : version.versionID,
            versionQuery: versionID.map(Self.q) ?? "", size: Self.size(version.size), bytes: Self.number(Int(version.size)),
            etag: version.etag, modified: Self.date(version.lastModified), contentType: contentType.isEmpty ? "—" : contentType,
            metadata: metadata, hasMetadata: !metadata.isEmpty, versions: versions, hasVersions: versions.count > 1,
            uri: "s3://\(name)/\(key.text)", readable: readable,
            folder: Self.q(key.text.lastIndex(of: "/").map { String(key.text[...$0]) } ?? ""),
            presignChoices: Self.presignChoices.map { ObjectView.Choice(minutes: $0.minutes, words: $0.words) },
            mayPresign: readable && s3Port > 0, error: error)
        if readable, version.size > 0 {
            let type = Self.mediaType(contentType)
            if let magic = Self.previewImages[type], version.size <= Self.previewImageLimit {
                let full = try await s3.readObject(object, options, requestHeaders: HTTPFields(), isHead: false)
                if try await s3.firstBytes(full, limit: magic.count) == magic { view.image = true }
            } else if Self.isTextual(contentType, key: key.text) {
                let full = try await s3.readObject(object, options, requestHeaders: HTTPFields(), isHead: false)
                let bytes = try await s3.firstBytes(full, limit: Self.previewTextLimit)
                view.text = String(decoding: bytes, as: UTF8.self)
                view.textCut = version.size > Int64(Self.previewTextLimit)
            }
        }
        if let link { view.link = ObjectView.Link(url: link.url, until: Self.date(link.until), accessKey: link.accessKey) }
        return page(view, call: call, status: status)
    }

    /// The preview's bytes: text as `text/plain`, images only of the four kinds whose first bytes
    /// match; sandboxed and never sniffed, so nothing stored ever runs as the console.
    func preview(_ call: Call, _ name: String) async throws -> Response {
        let key = try objectKey(call.query["key"])
        let object = ObjectRef(bucket: name, key: key, versionID: call.query["versionId"].flatMap { $0.isEmpty ? nil : $0 })
        let options = ReadOptions(partNumber: nil, overrides: [])
        try await authorize(.getObject(object, options), call)
        let read = try await s3.readObject(object, options, requestHeaders: HTTPFields(), isHead: false)
        let contentType = read.headers[.contentType] ?? ""
        let type = Self.mediaType(contentType)
        var served: String
        if let magic = Self.previewImages[type], read.length <= Self.previewImageLimit,
           try await s3.firstBytes(read, limit: magic.count) == magic {
            served = type
        } else if Self.isTextual(contentType, key: key.text) {
            served = "text/plain; charset=utf-8"
        } else {
            throw Problem(status: .unsupportedMediaType, message: "No preview for this kind of object: download it instead.")
        }
        var response = try await s3.response(for: read, key: key.text, isHead: false)
        response.headers[.contentType] = served
        response.headers[.contentDisposition] = "inline"
        response.headers[.contentSecurityPolicy] = "sandbox; default-src 'none'; img-src 'self'"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }

    /// A presigned GET of the object, signed with new temporary credentials of this session:
    /// valid for the minutes chosen, at most 12 hours and never past the session's end.
    func presign(_ call: Call, _ name: String) async throws -> Response {
        do {
            let key = try objectKey(call.form["key"])
            let versionID = call.form["versionId"].flatMap { $0.isEmpty ? nil : $0 }
            let object = ObjectRef(bucket: name, key: key, versionID: versionID)
            try await authorize(.getObject(object, ReadOptions(partNumber: nil, overrides: [])), call)
            guard s3Port > 0, let session = call.session else {
                throw Problem(status: .serviceUnavailable, message: "This console does not know the S3 API's address.")
            }
            let minutes = Int64(call.form["minutes"] ?? "") ?? 60
            guard Self.presignChoices.contains(where: { Int64($0.minutes) == minutes }) else {
                throw Problem(status: .badRequest, message: "Choose how long the link works: 15 minutes to 12 hours.")
            }
            let now = engine.now()
            let until = min(now + minutes * 60_000, session.expires)
            guard until - now >= 60_000 else {
                throw Problem(status: .badRequest, message: "Your console session ends within a minute: sign in again first.")
            }
            let credentials = try await registry.account.consoleSessionCredentials(call.caller, expires: until)
            let hostName = Self.hostName(call.request.head.authority ?? "localhost")
            let host = "\(hostName):\(s3Port)"
            let url = ConsolePresign.url(origin: "\(isTLS ? "https" : "http")://\(host)", host: host, bucket: name, key: key.text,
                                         versionID: versionID, region: s3.settings.region, credentials: credentials, now: now,
                                         expiresIn: (until - now) / 1000)
            return try await objectPage(call, name, link: (url, until, credentials.accessKey))
        } catch {
            return try await objectPage(call, name, error: "No link was made: " + Self.words(error), status: Self.status(of: error))
        }
    }

    /// `host:port` or `[v6]:port` → the host alone (as the browser wrote it).
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") { return String(authority[...end]) }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? Substring(authority))
    }
}
