import CofferCore
import CofferStore
import Foundation

/// S3 semantics over the store: buckets, the versioning state machine, version stacks, deletes,
/// listings. Knows nothing of HTTP. Every change is one store transaction.
public final class Engine: Sendable {
    public let store: Store
    public let gate: any MFAGate
    /// Milliseconds since 1970.
    public let now: @Sendable () -> Int64

    public init(store: Store, gate: any MFAGate, now: @escaping @Sendable () -> Int64 = Engine.systemMilliseconds) {
        self.store = store
        self.gate = gate
        self.now = now
    }

    public static let systemMilliseconds: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The bucket or `NoSuchBucket`.
    public func bucket(_ name: String) async throws -> Bucket {
        guard let bucket = try await store.asyncReadStatement({ try $0.bucket(named: name) }) else { throw S3Error.noSuchBucket(name) }
        return bucket
    }

    static func requireBucket(_ transaction: StoreTransaction, _ name: String) throws -> Bucket {
        guard let bucket = try transaction.bucket(named: name) else { throw S3Error.noSuchBucket(name) }
        return bucket
    }

    /// Removes blob files whose rows are gone (after the commit that removed them).
    func removeBlobs(_ names: [String]) async {
        guard !names.isEmpty else { return }
        let blobs = store.blobs
        _ = try? await Offload.run { for name in names { blobs.remove(name) } }
    }
}

/// Decides whether a request that MFA Delete protects may proceed. Called inside the transaction
/// of the operation it authorizes, so a consumed code and its operation commit together.
public protocol MFAGate: Sendable {
    func authorize(_ request: MFARequest, in transaction: StoreTransaction) throws
}

/// What the gate is asked: who is calling, what they presented, and for which bucket.
public struct MFARequest: Sendable {
    public var principal: Principal
    /// The second factor presented (`x-amz-mfa`), if any (never logged).
    public var mfa: PresentedMFA?
    public var bucket: String
    public var operation: S3Operation
    public var context: ConnectionInfo

    public init(principal: Principal, mfa: PresentedMFA?, bucket: String, operation: S3Operation,
                context: ConnectionInfo = ConnectionInfo()) {
        self.principal = principal
        self.mfa = mfa
        self.bucket = bucket
        self.operation = operation
        self.context = context
    }
}

/// Facts about the connection a request came on, for the MFA gate and the audit log.
public struct ConnectionInfo: Sendable {
    /// Why `x-amz-mfa` may not be used on this connection (plain HTTP from a non-loopback peer), or nil.
    public var insecureMFAReason: String?
    public var source: String?
    public var requestID: String?
    /// The request arrived over TLS (directly, or from a trusted proxy that says so): `aws:SecureTransport`.
    public var secureTransport: Bool
    /// The client's address (a trusted proxy's X-Forwarded-For, else the peer): `aws:SourceIp`.
    public var sourceIP: String?
    public var userAgent: String?

    public init(insecureMFAReason: String? = nil, source: String? = nil, requestID: String? = nil,
                secureTransport: Bool = false, sourceIP: String? = nil, userAgent: String? = nil) {
        self.insecureMFAReason = insecureMFAReason
        self.source = source
        self.requestID = requestID
        self.secureTransport = secureTransport
        self.sourceIP = sourceIP
        self.userAgent = userAgent
    }
}
