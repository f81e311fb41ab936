import CofferCore
import CofferStore

extension Engine {
    public func listBuckets() async throws -> [Bucket] {
        try await store.asyncRead { try $0.buckets() }
    }

    /// CreateBucket: a valid, new name; `BucketAlreadyOwnedByYou` when it exists (one account owns all).
    public func createBucket(_ name: String, region: String) async throws -> Bucket {
        try BucketName.validate(name)
        let created = now()
        return try await store.write { transaction in
            if let existing = try transaction.bucket(named: name) {
                // AWS's legacy us-east-1 rule: creating a bucket you already own there is a 200.
                if existing.region == "us-east-1", region == "us-east-1" { return existing }
                throw S3Error(.bucketAlreadyOwnedByYou, details: [("BucketName", name)])
            }
            return try transaction.insertBucket(name: name, region: region, created: created)
        }
    }

    /// DeleteBucket: only when no version and no delete marker remains.
    /// DeleteBucket: `BucketNotEmpty` while any version or delete marker remains. Unfinished
    /// multipart uploads go with the bucket (as on AWS): their parts are removed in the same
    /// transaction and their files after it, so nothing is left unreachable on disk.
    public func deleteBucket(_ name: String) async throws {
        let files = try await store.write { transaction -> [String] in
            let bucket = try Self.requireBucket(transaction, name)
            guard try transaction.bucketIsEmpty(id: bucket.id) else {
                throw S3Error(.bucketNotEmpty, details: [("BucketName", name)])
            }
            var files: [String] = []
            for uploadID in try transaction.uploadIDs(bucketID: bucket.id) {
                files += try transaction.deleteUpload(uploadID).flatMap { try Self.unreferencedFiles(.file($0), in: transaction) }
            }
            try transaction.deleteBucket(id: bucket.id)
            return files
        }
        await removeBlobs(files)
    }

    /// PutBucketVersioning: applies the state machine; a protected change goes through the MFA gate
    /// in the same transaction as the change itself.
    public func putVersioning(_ name: String, _ request: VersioningConfiguration.Request, principal: Principal,
                              mfa: PresentedMFA?, context: ConnectionInfo = ConnectionInfo()) async throws {
        try await protectedWrite { [gate] transaction in
            let bucket = try Self.requireBucket(transaction, name)
            let transition = bucket.versioning.applying(request)
            let facts = MFAFacts(bucketHasMFADelete: bucket.versioning.mfaDelete == .enabled,
                                 versioningChangeIsProtected: transition.isProtected)
            if S3Operation.putBucketVersioning.mfaRule.requiresCode(facts) {
                try gate.authorize(MFARequest(principal: principal, mfa: mfa, bucket: name,
                                              operation: .putBucketVersioning, context: context), in: transaction)
            }
            try transaction.setVersioning(bucketID: bucket.id, transition.configuration)
        }
    }
}
