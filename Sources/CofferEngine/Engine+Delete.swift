import CofferCore
import CofferStore

/// What a delete did, as DeleteObject's headers say it.
public struct DeleteOutcome: Sendable, Equatable {
    /// `x-amz-version-id`: the version removed or the marker created.
    public var versionID: String?
    /// `x-amz-delete-marker: true`: a marker was created, or the version removed was a marker.
    public var deleteMarker: Bool
    /// Whether `versionID` names a version that was permanently removed (vs a marker created).
    public var removedByVersionID: Bool

    public init(versionID: String?, deleteMarker: Bool, removedByVersionID: Bool) {
        self.versionID = versionID
        self.deleteMarker = deleteMarker
        self.removedByVersionID = removedByVersionID
    }
}

/// One entry of a DeleteObjects request and its result.
public struct DeleteEntry: Sendable, Equatable {
    public var key: String
    public var versionID: String?
    public init(key: String, versionID: String? = nil) {
        self.key = key
        self.versionID = versionID
    }
}

public enum DeleteEntryResult: Sendable, Equatable {
    case deleted(DeleteEntry, DeleteOutcome)
    case failed(DeleteEntry, code: String, message: String)
}

extension Engine {
    /// DeleteObject in all three bucket states (spec §3.5).
    public func deleteObject(bucket name: String, key: String, versionID: String?, principal: Principal,
                             mfa: PresentedMFA?, context: ConnectionInfo = ConnectionInfo()) async throws -> DeleteOutcome {
        let modified = now()
        let (outcome, orphans) = try await store.freeingSpace { try await protectedWrite { [gate] transaction -> (DeleteOutcome, [String]) in
            let bucket = try Self.requireBucket(transaction, name)
            if let versionID { try Self.validateVersionID(versionID, in: bucket) }
            let facts = MFAFacts(bucketHasMFADelete: bucket.versioning.mfaDelete == .enabled,
                                 namesVersionID: versionID != nil, carriesMFAHeader: mfa != nil)
            if S3Operation.deleteObject.mfaRule.requiresCode(facts) {
                try gate.authorize(MFARequest(principal: principal, mfa: mfa, bucket: name,
                                              operation: .deleteObject, context: context), in: transaction)
            }
            return try Self.delete(DeleteEntry(key: key, versionID: versionID), in: bucket, at: modified,
                                   transaction: transaction)
        } }
        await removeBlobs(orphans)
        return outcome
    }

    /// DeleteObjects: every entry in one transaction. On a bucket with MFA Delete enabled, a request
    /// that names any VersionId (or carries an `x-amz-mfa` at all) passes the gate first, so it
    /// fails whole before anything is deleted.
    public func deleteObjects(bucket name: String, entries: [DeleteEntry], principal: Principal,
                              mfa: PresentedMFA?, context: ConnectionInfo = ConnectionInfo()) async throws -> [DeleteEntryResult] {
        let modified = now()
        let (results, orphans) = try await store.freeingSpace { try await protectedWrite { [gate] transaction -> ([DeleteEntryResult], [String]) in
            let bucket = try Self.requireBucket(transaction, name)
            let facts = MFAFacts(bucketHasMFADelete: bucket.versioning.mfaDelete == .enabled,
                                 namesVersionID: entries.contains { $0.versionID != nil },
                                 carriesMFAHeader: mfa != nil)
            if S3Operation.deleteObjects.mfaRule.requiresCode(facts) {
                try gate.authorize(MFARequest(principal: principal, mfa: mfa, bucket: name,
                                              operation: .deleteObjects, context: context), in: transaction)
            }
            var results: [DeleteEntryResult] = []
            var orphans: [String] = []
            results.reserveCapacity(entries.count)
            for entry in entries {
                do {
                    if let versionID = entry.versionID { try Self.validateVersionID(versionID, in: bucket) }
                    try Self.validateKey(entry.key)
                    let (outcome, removed) = try Self.delete(entry, in: bucket, at: modified, transaction: transaction)
                    orphans += removed
                    results.append(.deleted(entry, outcome))
                } catch let error as S3Error {
                    let code = error.code == .invalidArgument ? S3ErrorCode.noSuchVersion : error.code
                    results.append(.failed(entry, code: code.rawValue, message: code.defaultMessage))
                }
            }
            return (results, orphans)
        } }
        await removeBlobs(orphans)
        return results
    }

    /// The delete rules for one entry, inside the caller's transaction.
    static func delete(_ entry: DeleteEntry, in bucket: Bucket, at modified: Int64,
                       transaction: StoreTransaction) throws -> (DeleteOutcome, [String]) {
        let key = entry.key
        if let versionID = entry.versionID {
            // Permanent removal of one version or marker; an absent one is already gone (idempotent).
            guard let version = try transaction.version(bucketID: bucket.id, key: key, versionID: versionID) else {
                return (DeleteOutcome(versionID: versionID, deleteMarker: false, removedByVersionID: true), [])
            }
            let orphans = try remove(version, bucketID: bucket.id, in: transaction)
            return (DeleteOutcome(versionID: versionID, deleteMarker: version.isDeleteMarker, removedByVersionID: true),
                    orphans)
        }
        switch bucket.versioning.status {
        case .unversioned:
            var orphans: [String] = []
            if let existing = try transaction.latestVersion(bucketID: bucket.id, key: key) {
                orphans = try remove(existing, bucketID: bucket.id, in: transaction)
            }
            return (DeleteOutcome(versionID: nil, deleteMarker: false, removedByVersionID: false), orphans)
        case .enabled:
            let marker = try transaction.insertVersion(bucketID: bucket.id, .deleteMarker(
                key: key, versionID: VersionID.make(nowMicros: UInt64(modified) * 1000), at: modified))
            return (DeleteOutcome(versionID: marker.versionID, deleteMarker: true, removedByVersionID: false), [])
        case .suspended:
            // A null marker, written as a PUT of the null version is: it takes the place of the
            // key's null version (in place when that is the latest entry).
            let (_, orphans) = try write(.deleteMarker(key: key, versionID: VersionID.null, at: modified), to: bucket,
                                         in: transaction)
            return (DeleteOutcome(versionID: VersionID.null, deleteMarker: true, removedByVersionID: false), orphans)
        }
    }
}
