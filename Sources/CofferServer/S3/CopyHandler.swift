import CofferCore
import CofferEngine
import Hummingbird
import HTTPTypes

/// CopyObject: `x-amz-copy-source: [/]bucket/key[?versionId=V]` (URL-encoded).
extension S3Responder {
    static let copySourceVersionID = HTTPField.Name("x-amz-copy-source-version-id")!
    static let metadataDirective = HTTPField.Name("x-amz-metadata-directive")!

    func copyObject(_ call: S3Call, from source: CopySource) async throws -> Response {
        let (bucket, key, versionID) = (source.bucket, source.key.text, source.versionID)
        let replacing: StoredHeaders?
        switch call.request.headers[Self.metadataDirective]?.uppercased() ?? "COPY" {
        case "COPY": replacing = nil
        case "REPLACE": replacing = try Self.storedHeaders(call.request.headers)
        default:
            throw S3Error.invalidArgument("Unknown metadata directive.", name: "x-amz-metadata-directive")
        }
        _ = try await Body.collect(call.request, limit: 0, payload: call.authentication.payload)
        let (outcome, sourceVersion) = try await engine.copyObject(from: (bucket, key, versionID),
                                                                   to: (call.bucket, call.key), replacing: replacing)
        var headers = HTTPFields()
        if let versionID = outcome.versionID { headers[S3Response.versionID] = versionID }
        if let sourceVersion { headers[Self.copySourceVersionID] = sourceVersion }
        var writer = XMLWriter()
        writer.document("CopyObjectResult") { xml in
            xml.element("LastModified", HTTPDate.iso8601(milliseconds: outcome.version.lastModified))
            xml.element("ETag", "\"\(outcome.etag)\"")
        }
        return S3Response.xml(writer, headers: headers)
    }

    /// `bucket/key?versionId=V`, percent-decoded, a leading `/` allowed.
    static func parseCopySource(_ header: String) throws -> (String, String, String?) {
        var text = Substring(header)
        if text.hasPrefix("/") { text = text.dropFirst() }
        var versionID: String?
        if let question = text.firstIndex(of: "?") {
            let query = text[text.index(after: question)...]
            text = text[..<question]
            for item in query.split(separator: "&") where item.hasPrefix("versionId=") {
                versionID = Percent.decode(item.dropFirst("versionId=".count))
            }
        }
        guard let slash = text.firstIndex(of: "/"), let bucket = Percent.decode(text[..<slash]),
              let key = Percent.decode(text[text.index(after: slash)...]), !bucket.isEmpty, !key.isEmpty,
              !RequestTarget.hasNUL(key), !RequestTarget.hasNUL(bucket), !(versionID.map(RequestTarget.hasNUL) ?? false)
        else {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                                          name: "x-amz-copy-source")
        }
        return (bucket, key, versionID)
    }
}
