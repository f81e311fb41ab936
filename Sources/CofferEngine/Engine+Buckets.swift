import CofferCore
import CofferStore

extension Engine {
    public func listBuckets() async throws -> [Bucket] {
        try store.read { try $0.buckets() }
    }

    /// CreateBucket: a valid, new name; `BucketAlreadyOwnedByYou` when it exists (one account owns all).
    public func createBucket(_ name: String, region: String) async throws -> Bucket {
        try BucketName.validate(name)
        let created = now()
        return try await store.write { transaction in
            if try transaction.bucket(named: name) != nil {
                throw S3Error(.bucketAlreadyOwnedByYou, details: [("BucketName", name)])
            }
            return try transaction.insertBucket(name: name, region: region, created: created)
        }
    }

    /// DeleteBucket: only when no version and no delete marker remains.
    public func deleteBucket(_ name: String) async throws {
        try await store.write { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            guard try transaction.bucketIsEmpty(id: bucket.id) else {
                throw S3Error(.bucketNotEmpty, details: [("BucketName", name)])
            }
            try transaction.deleteBucket(id: bucket.id)
        }
    }

    /// PutBucketVersioning: applies the state machine; a protected change goes through the MFA gate
    /// in the same transaction as the change itself.
    public func putVersioning(_ name: String, _ request: VersioningConfiguration.Request, principal: Principal,
                              mfaHeader: String?, context: ConnectionInfo = ConnectionInfo()) async throws {
        try await protectedWrite { [gate] transaction in
            let bucket = try Self.requireBucket(transaction, name)
            let transition = bucket.versioning.applying(request)
            if transition.isProtected {
                try gate.authorize(MFARequest(principal: principal, header: mfaHeader, bucket: name,
                                              operation: .putBucketVersioning, context: context), in: transaction)
            }
            try transaction.setVersioning(bucketID: bucket.id, transition.configuration)
        }
    }
}
