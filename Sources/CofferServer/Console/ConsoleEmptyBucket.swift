import CofferCore
import CofferEngine
import CofferIAM
import Foundation
import HTTPTypes
import Hummingbird

/// Emptying and deleting a bucket. Emptying is DeleteObjects, 1,000 versions and delete markers a
/// request, exactly as the API would do it: on a bucket with MFA Delete each request needs its own
/// code (a code works once), so the page asks for one code per 1,000 versions and says how many
/// remain; without MFA Delete the batches run one after another in one step.
extension ConsoleResponder {
    /// Versions (and delete markers) one DeleteObjects request may name.
    static let emptyBatch = 1000
    /// Batches one console request runs without MFA Delete (then the page offers to go on).
    static let emptyBatchesPerRequest = 50

    /// The versions and delete markers left, counted up to `limit` (a page says "more than").
    func versionCount(_ name: String, limit: Int = 10_000) async throws -> (count: Int, more: Bool) {
        var count = 0
        var query = ListingQuery(maxKeys: Self.emptyBatch)
        while true {
            let page = try await engine.listObjectVersions(bucket: name, query)
            count += page.entries.count
            guard page.isTruncated, count < limit else { return (count, page.isTruncated) }
            query.afterKey = page.nextKey
            query.afterVersionID = page.nextVersionID
        }
    }

    func emptyPage(_ call: Call, _ name: String, error: String? = nil, status: HTTPResponse.Status = .ok,
                   deleted: Int? = nil, confirmed: Bool = false) async throws -> Response {
        try await authorize(.listObjectVersions(name, VersionListing(list: S3Responder.ListParameters(
            prefix: "", delimiter: "", maxKeys: Self.emptyBatch), keyMarker: nil, versionIDMarker: nil)), call)
        let bucket = try await engine.bucket(name)
        let (count, more) = try await versionCount(name)
        let mfaDeleteOn = bucket.versioning.mfaDelete == .enabled
        let codes = (count + Self.emptyBatch - 1) / Self.emptyBatch
        let devices = try await totpDevicesOfRoot(call).map(DeviceOption.init)
        var view = EmptyBucketView(
            title: "Empty bucket \(name)", bucket: name, count: Self.number(count), more: more, isEmpty: count == 0,
            mfaDeleteOn: mfaDeleteOn, askCode: mfaDeleteOn && call.caller.isRoot, rootOnly: mfaDeleteOn && !call.caller.isRoot,
            rootDevices: devices, has_rootDevices: !devices.isEmpty,
            keysOnly: try await keysOnly(call), confirmWord: Self.confirmPermanent, batch: Self.number(Self.emptyBatch),
            codesNeeded: Self.number(codes) + (codes == 1 && !more ? " code" : " codes"),
            // The words are typed once for an emptying: its next steps (and a retry after a refused
            // code) carry them on.
            confirmed: (confirmed || deleted != nil) && count > 0, error: error)
        if let deleted {
            view.notice = "\(Self.number(deleted)) versions and delete markers were permanently deleted."
                + (count == 0 ? " The bucket is empty." : mfaDeleteOn ? " Enter the next code to go on." : "")
        }
        return page(view, call: call, status: status)
    }

    /// One step of emptying: with MFA Delete, one batch under the code given; else every batch
    /// (up to `emptyBatchesPerRequest`). Each batch is one DeleteObjects through the API's gate.
    func emptyBucket(_ call: Call, _ name: String) async throws -> Response {
        var deleted = 0
        let confirmed = Self.confirmed(call, word: Self.confirmPermanent)
        do {
            guard confirmed else {
                throw Problem(status: .badRequest, message: "To confirm, type \u{201C}\(Self.confirmPermanent)\u{201D} in the box.")
            }
            let bucket = try await engine.bucket(name)
            let mfaDeleteOn = bucket.versioning.mfaDelete == .enabled
            let mfa = try await presentedMFA(call)
            for _ in 0..<(mfaDeleteOn ? 1 : Self.emptyBatchesPerRequest) {
                let page = try await engine.listObjectVersions(bucket: name, ListingQuery(maxKeys: Self.emptyBatch))
                guard !page.entries.isEmpty else { break }
                let entries = page.entries.map { DeleteEntry(key: $0.key, versionID: $0.versionID) }
                for entry in entries {
                    try await authorize(.deleteObject(ObjectRef(bucket: name, key: ObjectKey(entry.key), versionID: entry.versionID)), call)
                }
                let results = try await engine.deleteObjects(bucket: name, entries: entries, principal: call.caller, mfa: mfa,
                                                             context: call.connection)
                let failures = results.compactMap { result -> String? in
                    guard case .failed(let entry, let code, let message) = result else { return nil }
                    return "\(entry.key) (version \(entry.versionID ?? "null")): \(message) (\(code))"
                }
                deleted += results.count - failures.count
                guard failures.isEmpty else { throw Problem(status: .conflict, message: failures.prefix(5).joined(separator: "; ")) }
            }
        } catch {
            let words = try await mfaWords(error, call, name, permanent: true) ?? Self.words(error)
            return try await emptyPage(call, name, error: (deleted == 0 ? "Nothing was deleted: " : "Stopped after \(Self.number(deleted)): ")
                                       + words, status: Self.status(of: error), deleted: deleted == 0 ? nil : deleted,
                                       confirmed: confirmed)
        }
        return try await emptyPage(call, name, deleted: deleted)
    }

    /// DeleteBucket, after the bucket's name is typed; a bucket with versions left says so and
    /// links the empty page.
    func deleteBucket(_ call: Call, _ name: String) async throws -> Response {
        do {
            guard Self.confirmed(call, word: name) else {
                throw Problem(status: .badRequest, message: "To confirm, type the bucket's name, \u{201C}\(name)\u{201D}.")
            }
            try await authorize(.deleteBucket(name), call)
            try await engine.deleteBucket(name)
        } catch let error as S3Error where error.code == .bucketNotEmpty {
            return try await bucket(call, name, error: "The bucket was not deleted: it still holds versions or delete markers. "
                                    + "Empty it first (BucketNotEmpty).", status: .conflict)
        } catch {
            return try await bucket(call, name, error: "The bucket was not deleted: " + Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/buckets?done=bucket-deleted")
    }

    /// 12345 → "12,345".
    static func number(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}
