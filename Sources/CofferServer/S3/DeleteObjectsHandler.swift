import CofferCore
import CofferEngine
import CofferIAM
import Hummingbird

/// DeleteObjects (`POST /bucket?delete`): up to 1,000 entries, Quiet mode, per-entry results.
extension S3Responder {
    static let maxDeleteEntries = 1000

    /// A `Delete` document: Quiet and 1–1,000 entries (fuzzed: `coffer-fuzz delete`).
    static func deleteRequest(_ body: [UInt8]) throws -> (quiet: Bool, entries: [DeleteEntry]) {
        guard let document = try? XMLParser.parse(body), document.name == "Delete" else { throw S3Error.malformedXML }
        let quiet = document.child("Quiet")?.text == "true"
        var entries: [DeleteEntry] = []
        for object in document.all("Object") {
            guard let key = object.child("Key")?.text, !key.isEmpty else { throw S3Error.malformedXML }
            entries.append(DeleteEntry(key: key, versionID: object.child("VersionId")?.text))
        }
        guard (1...Self.maxDeleteEntries).contains(entries.count) else { throw S3Error.malformedXML }
        return (quiet, entries)
    }

    func deleteObjects(_ call: S3Call) async throws -> Response {
        let body = try await Body.collect(call.request, limit: 2 * 1024 * 1024, payload: call.authentication.payload)
        // The operation requires an integrity header: Content-MD5 or any x-amz-checksum-* satisfies it.
        guard try Body.verifyIntegrityHeaders(call.request.headers, body: body) else {
            throw S3Error(.invalidRequest, "Missing required header for this request: Content-MD5 or x-amz-checksum-*")
        }
        let (quiet, entries) = try Self.deleteRequest(body)

        // Each entry is authorized on its own, as the DeleteObject it stands for (AWS): a refused
        // one is an AccessDenied result, the others proceed.
        var allowed: [DeleteEntry] = []
        var refused: [Int: DeleteEntryResult] = [:]
        var invalid: [Int: DeleteEntryResult] = [:]
        var firstRefused: S3Permission?
        for (index, entry) in entries.enumerated() {
            guard entry.key.utf8.count <= S3Request.maxKeyLength else {  // never matched against a policy
                invalid[index] = .failed(entry, code: S3ErrorCode.keyTooLong.rawValue, message: S3ErrorCode.keyTooLong.defaultMessage)
                continue
            }
            let single = S3Request.deleteObject(ObjectRef(bucket: call.bucket, key: ObjectKey(entry.key),
                                                          versionID: entry.versionID))
            if try await authorizer.permits(single, principal: call.principal, connection: call.connection) {
                allowed.append(entry)
            } else {
                refused[index] = .failed(entry, code: S3ErrorCode.accessDenied.rawValue,
                                         message: S3ErrorCode.accessDenied.defaultMessage)
                if firstRefused == nil { firstRefused = single.access.permission }
            }
        }
        if let firstRefused {
            try authorizer.requireBucket(call.bucket)
            await authorizer.refusals.record(
                Denial(message: "Access Denied", reason: "\(refused.count) of \(entries.count) entries not allowed",
                       action: firstRefused.action, resource: firstRefused.resource),
                event: "S3:DeleteObjects", principal: call.principal, connection: call.connection)
        }
        var done = allowed.isEmpty ? [] : try await engine.deleteObjects(
            bucket: call.bucket, entries: allowed, principal: call.principal, mfa: call.mfa,
            context: call.connection)[...]
        var results: [DeleteEntryResult] = []
        for index in entries.indices {
            if let refusal = refused[index] ?? invalid[index] { results.append(refusal) } else { results.append(done.removeFirst()) }
        }
        var writer = XMLWriter()
        writer.document("DeleteResult") { xml in
            for result in results {
                switch result {
                case .deleted(let entry, let outcome):
                    guard !quiet else { continue }
                    xml.element("Deleted") { xml in
                        xml.element("Key", entry.key)
                        if outcome.removedByVersionID {
                            xml.optional("VersionId", entry.versionID)
                            if outcome.deleteMarker {
                                xml.element("DeleteMarker", true)
                                xml.optional("DeleteMarkerVersionId", outcome.versionID)
                            }
                        } else if outcome.deleteMarker {
                            xml.element("DeleteMarker", true)
                            xml.optional("DeleteMarkerVersionId", outcome.versionID)
                        }
                    }
                case .failed(let entry, let code, let message):
                    xml.element("Error") { xml in
                        xml.element("Key", entry.key)
                        xml.optional("VersionId", entry.versionID)
                        xml.element("Code", code)
                        xml.element("Message", message)
                    }
                }
            }
        }
        return S3Response.xml(writer)
    }
}
