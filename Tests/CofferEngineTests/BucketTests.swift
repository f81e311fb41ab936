import CofferCore
import CofferEngine
import Testing

@Suite("Buckets and the versioning state machine")
struct BucketTests {
    @Test("Create, duplicate, list, delete; BucketNotEmpty while any version or marker remains")
    func lifecycle() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("alpha", region: "us-east-1")
        _ = try await h.engine.createBucket("beta.1", region: "eu-west-1")
        // AWS's us-east-1 rule: creating a bucket you already own there answers 200; elsewhere 409.
        #expect(try await h.engine.createBucket("alpha", region: "us-east-1").name == "alpha")
        #expect(await h.s3Error { _ = try await h.engine.createBucket("beta.1", region: "eu-west-1") }?.code
            == .bucketAlreadyOwnedByYou)
        #expect(await h.s3Error { _ = try await h.engine.createBucket("a.-b", region: "us-east-1") }?.code
            == .invalidBucketName)
        #expect(try await h.engine.listBuckets().map(\.name) == ["alpha", "beta.1"])
        #expect(try await h.engine.bucket("beta.1").region == "eu-west-1")

        try await h.versioning("alpha", .enabled)
        try await h.put("alpha", "k", "v1")
        try await h.delete("alpha", "k")  // a marker on top
        let entries = try await h.versions("alpha")
        #expect(entries.count == 2)
        // Remove the object version: only the marker is left — still not empty.
        try await h.delete("alpha", "k", versionID: entries[1].1)
        #expect(await h.s3Error { try await h.engine.deleteBucket("alpha") }?.code == .bucketNotEmpty)
        try await h.delete("alpha", "k", versionID: entries[0].1)
        try await h.engine.deleteBucket("alpha")
        #expect(await h.s3Error { try await h.engine.deleteBucket("alpha") }?.code == .noSuchBucket)
        #expect(try await h.engine.listBuckets().map(\.name) == ["beta.1"])
    }

    @Test("Bucket names follow S3's rules", arguments: [
        "ab", String(repeating: "a", count: 64), "Upper", "under_score", "-start", "end-", "a..b", "192.168.1.1",
        "xn--abc", "sthree-x", "bucket-s3alias", "bucket--ol-s3", "spa ce", "ünï",
    ])
    func invalidNames(name: String) async throws {
        let h = try Harness()
        #expect(await h.s3Error { _ = try await h.engine.createBucket(name, region: "us-east-1") }?.code
            == .invalidBucketName)
    }

    @Test("Valid names", arguments: ["abc", "a.b-c", "0123", String(repeating: "z", count: 63), "my.bucket.2026"])
    func validNames(name: String) throws {
        try BucketName.validate(name)
    }

    typealias Request = VersioningConfiguration.Request

    @Test("PutBucketVersioning transitions, and which of them MFA Delete protects")
    func transitions() {
        let fresh = VersioningConfiguration()
        let cases: [(VersioningConfiguration, Request, VersioningConfiguration, Bool)] = [
            // Never configured → Enabled or straight to Suspended; MfaDelete=Disabled resent is no change.
            (fresh, Request(status: .enabled), .init(status: .enabled), false),
            (fresh, Request(status: .suspended), .init(status: .suspended), false),
            (fresh, Request(status: .enabled, mfaDelete: false), .init(status: .enabled, mfaDelete: .disabled), false),
            // The first enable of MFA Delete is protected.
            (fresh, Request(status: .enabled, mfaDelete: true), .init(status: .enabled, mfaDelete: .enabled), true),
            // Any combination is a valid target.
            (fresh, Request(status: .suspended, mfaDelete: true), .init(status: .suspended, mfaDelete: .enabled), true),
            // With MFA Delete on: a status change is protected, a resend of the same status is not.
            (.init(status: .enabled, mfaDelete: .enabled), Request(status: .suspended),
             .init(status: .suspended, mfaDelete: .enabled), true),
            (.init(status: .enabled, mfaDelete: .enabled), Request(status: .enabled),
             .init(status: .enabled, mfaDelete: .enabled), false),
            (.init(status: .enabled, mfaDelete: .enabled), Request(status: .enabled, mfaDelete: true),
             .init(status: .enabled, mfaDelete: .enabled), false),
            (.init(status: .enabled, mfaDelete: .enabled), Request(status: .enabled, mfaDelete: false),
             .init(status: .enabled, mfaDelete: .disabled), true),
            // With MFA Delete off (once configured): status changes are free.
            (.init(status: .enabled, mfaDelete: .disabled), Request(status: .suspended),
             .init(status: .suspended, mfaDelete: .disabled), false),
            (.init(status: .suspended, mfaDelete: .disabled), Request(status: .enabled, mfaDelete: true),
             .init(status: .enabled, mfaDelete: .enabled), true),
        ]
        for (from, request, to, protected) in cases {
            let transition = from.applying(request)
            #expect(transition.configuration == to, "\(from) + \(request)")
            #expect(transition.isProtected == protected, "\(from) + \(request)")
        }
    }

    @Test("Versioning is stored; there is no way back to unversioned; MfaDelete is kept once configured")
    func stored() async throws {
        let h = try Harness()
        _ = try await h.engine.createBucket("vvv", region: "us-east-1")
        #expect(try await h.engine.bucket("vvv").versioning == VersioningConfiguration())
        try await h.engine.putVersioning("vvv", .init(status: .enabled, mfaDelete: false), principal: Harness.root,
                                         mfa: nil)
        #expect(try await h.engine.bucket("vvv").versioning == .init(status: .enabled, mfaDelete: .disabled))
        try await h.versioning("vvv", .suspended)
        #expect(try await h.engine.bucket("vvv").versioning == .init(status: .suspended, mfaDelete: .disabled))
    }

    @Test("The MFA gate rules decide from the request's facts")
    func gateRules() {
        let off = MFAFacts(bucketHasMFADelete: false, namesVersionID: true, carriesMFAHeader: true)
        let on = MFAFacts(bucketHasMFADelete: true, namesVersionID: true)
        #expect(!MFARule.whenVersionIDGiven.requiresCode(off) && MFARule.whenVersionIDGiven.requiresCode(on))
        #expect(!MFARule.whenVersionIDGiven.requiresCode(MFAFacts(bucketHasMFADelete: true)))
        #expect(MFARule.whenAnyEntryNamesVersionID.requiresCode(MFAFacts(bucketHasMFADelete: true, carriesMFAHeader: true)))
        #expect(!MFARule.whenAnyEntryNamesVersionID.requiresCode(MFAFacts(bucketHasMFADelete: true)))
        #expect(MFARule.whenVersioningChangeIsProtected.requiresCode(
            MFAFacts(bucketHasMFADelete: false, versioningChangeIsProtected: true)))
        #expect(!MFARule.never.requiresCode(on))
        // Which operation has which rule is held by Tests/e2e/test_mfa_gate_all_operations.py,
        // which sends every operation to an MFA Delete bucket without a code.
    }
}

@Suite("Group commit")
struct GroupCommitTests {
    @Test("Concurrent writes share commits; one that fails rolls back alone")
    func isolation() async throws {
        let h = try Harness()
        // 30 concurrent creations of 10 names: exactly one success per name, the rest refused,
        // none of them disturbing the others that share their transaction.
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<30 {
                group.addTask {
                    do {
                        _ = try await h.engine.createBucket("bucket-\(index % 10)", region: "eu-west-1")
                        return true
                    } catch let error as S3Error {
                        #expect(error.code == .bucketAlreadyOwnedByYou)
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 10)
        #expect(try await h.engine.listBuckets().count == 10)
        // Every write was durable when its caller resumed: a fresh store on the same files sees them.
        try h.store.close()
        let reopened = try Harness(folder: h.folder)
        #expect(try await reopened.engine.listBuckets().count == 10)
    }
}
