import CofferCore
import CofferEngine
import Foundation
import Hummingbird

/// ListObjects (v1), ListObjectsV2 and ListObjectVersions, honouring `encoding-type=url` the way
/// botocore decodes it (exactly the key-like fields, only when `<EncodingType>url` is echoed).
extension S3Responder {
    struct ListParameters: Sendable {
        var prefix: String
        var delimiter: String
        var maxKeys: Int
        var encode: Bool
        /// The parameters as the request gave them (nil: absent), for the s3: condition keys.
        var given: (prefix: String?, delimiter: String?, maxKeys: String?)

        init(_ target: RequestTarget) throws {
            given = (target["prefix"], target["delimiter"], target["max-keys"])
            prefix = target["prefix"] ?? ""
            delimiter = target["delimiter"] ?? ""
            if let text = target["max-keys"] {
                guard let value = Int(text), value >= 0 else {
                    throw S3Error.invalidArgument("Provided max-keys not an integer or within integer range",
                                                  name: "max-keys", value: text)
                }
                maxKeys = min(value, 1000)
            } else {
                maxKeys = 1000
            }
            switch target["encoding-type"] {
            case nil: encode = false
            case "url"?: encode = true
            case let other?:
                throw S3Error.invalidArgument("Invalid Encoding Method specified in Request", name: "encoding-type",
                                              value: other)
            }
        }

        /// Parameters of the console's own listings (not from a request's query).
        init(prefix: String, delimiter: String, maxKeys: Int) {
            self.prefix = prefix
            self.delimiter = delimiter
            self.maxKeys = maxKeys
            encode = false
            given = (prefix, delimiter, String(maxKeys))
        }

        /// A key-like value as it goes on the wire.
        func wire(_ value: String) -> String { encode ? Percent.encode(value, keepSlash: true) : value }
    }

    func listObjects(_ call: S3Call, _ listing: ObjectListing, version: Int) async throws -> Response {
        let parameters = listing.list
        let marker = listing.marker
        let continuation = listing.continuationToken
        let page = try await engine.listObjects(bucket: call.bucket, ListingQuery(
            prefix: parameters.prefix, delimiter: parameters.delimiter, maxKeys: parameters.maxKeys, afterKey: marker))
        let fetchOwner = listing.fetchOwner

        var writer = XMLWriter()
        writer.document("ListBucketResult") { xml in
            xml.element("Name", call.bucket)
            xml.element("Prefix", parameters.wire(parameters.prefix))
            if version == 1 {
                xml.element("Marker", parameters.wire(marker ?? ""))
                if page.isTruncated, let next = page.nextKey { xml.element("NextMarker", parameters.wire(next)) }
            } else {
                if let continuation { xml.element("ContinuationToken", continuation) }
                if let startAfter = listing.startAfter { xml.element("StartAfter", parameters.wire(startAfter)) }
                if page.isTruncated, let next = page.nextKey { xml.element("NextContinuationToken", Self.encodeToken(next)) }
                xml.element("KeyCount", page.entries.count + page.commonPrefixes.count)
            }
            xml.element("MaxKeys", parameters.maxKeys)
            if !parameters.delimiter.isEmpty { xml.element("Delimiter", parameters.wire(parameters.delimiter)) }
            if parameters.encode { xml.element("EncodingType", "url") }
            xml.element("IsTruncated", page.isTruncated)
            for entry in page.entries {
                xml.element("Contents") { xml in
                    xml.element("Key", parameters.wire(entry.key))
                    xml.element("LastModified", HTTPDate.iso8601(milliseconds: entry.lastModified))
                    xml.element("ETag", "\"\(entry.etag)\"")
                    xml.element("Size", entry.size)
                    if fetchOwner { owner(&xml) }
                    xml.element("StorageClass", "STANDARD")
                }
            }
            commonPrefixes(page, parameters, &xml)
        }
        return S3Response.xml(writer)
    }

    func listObjectVersions(_ call: S3Call, _ listing: VersionListing) async throws -> Response {
        let parameters = listing.list
        let keyMarker = listing.keyMarker
        let versionMarker = listing.versionIDMarker
        let page = try await engine.listObjectVersions(bucket: call.bucket, ListingQuery(
            prefix: parameters.prefix, delimiter: parameters.delimiter, maxKeys: parameters.maxKeys,
            afterKey: keyMarker, afterVersionID: versionMarker))

        var writer = XMLWriter()
        writer.document("ListVersionsResult") { xml in
            xml.element("Name", call.bucket)
            xml.element("Prefix", parameters.wire(parameters.prefix))
            xml.element("KeyMarker", parameters.wire(keyMarker ?? ""))
            xml.element("VersionIdMarker", versionMarker ?? "")
            if page.isTruncated {
                if let next = page.nextKey { xml.element("NextKeyMarker", parameters.wire(next)) }
                if let next = page.nextVersionID { xml.element("NextVersionIdMarker", next) }
            }
            xml.element("MaxKeys", parameters.maxKeys)
            if !parameters.delimiter.isEmpty { xml.element("Delimiter", parameters.wire(parameters.delimiter)) }
            if parameters.encode { xml.element("EncodingType", "url") }
            xml.element("IsTruncated", page.isTruncated)
            for entry in page.entries {
                xml.element(entry.isDeleteMarker ? "DeleteMarker" : "Version") { xml in
                    xml.element("Key", parameters.wire(entry.key))
                    xml.element("VersionId", entry.versionID)
                    xml.element("IsLatest", entry.isLatest)
                    xml.element("LastModified", HTTPDate.iso8601(milliseconds: entry.lastModified))
                    if !entry.isDeleteMarker {
                        xml.element("ETag", "\"\(entry.etag)\"")
                        xml.element("Size", entry.size)
                        xml.element("StorageClass", "STANDARD")
                    }
                    owner(&xml)
                }
            }
            commonPrefixes(page, parameters, &xml)
        }
        return S3Response.xml(writer)
    }

    private func commonPrefixes(_ page: ListingPage, _ parameters: ListParameters, _ xml: inout XMLWriter) {
        for prefix in page.commonPrefixes {
            xml.element("CommonPrefixes") { xml in xml.element("Prefix", parameters.wire(prefix)) }
        }
    }

    /// Continuation tokens are opaque to clients: base64 of the last key returned.
    static func encodeToken(_ key: String) -> String { Data(("k:" + key).utf8).base64EncodedString() }

    static func decodeToken(_ token: String) -> String? {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("k:")
        else { return nil }
        return String(text.dropFirst(2))
    }
}
