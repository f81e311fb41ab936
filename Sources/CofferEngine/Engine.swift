import CofferCore
import CofferStore
import Foundation

/// S3 semantics over the store: buckets, the versioning state machine, version stacks, deletes,
/// listings. Knows nothing of HTTP. Every change is one store transaction.
public final class Engine: Sendable {
    public let store: Store
    public let gate: any MFAGate
    /// Milliseconds since 1970.
    let now: @Sendable () -> Int64

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
        guard let bucket = try store.read({ try $0.bucket(named: name) }) else { throw S3Error.noSuchBucket(name) }
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
    /// The raw `x-amz-mfa` value, if any (never logged).
    public var header: String?
    public var bucket: String
    public var operation: S3Operation
    public var context: ConnectionInfo

    public init(principal: Principal, header: String?, bucket: String, operation: S3Operation,
                context: ConnectionInfo = ConnectionInfo()) {
        self.principal = principal
        self.header = header
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

    public init(insecureMFAReason: String? = nil, source: String? = nil, requestID: String? = nil) {
        self.insecureMFAReason = insecureMFAReason
        self.source = source
        self.requestID = requestID
    }
}

/// Who a request is authenticated as.
public struct Principal: Sendable, Equatable {
    public var accessKey: String
    public var userName: String
    public var isRoot: Bool
    public var isSession: Bool
    /// How the audit log names the caller (`arn:aws:iam::ACCOUNT:root`, `…:user/PATH/NAME`).
    public var arn: String

    public init(accessKey: String, userName: String, isRoot: Bool, isSession: Bool = false, arn: String? = nil) {
        self.accessKey = accessKey
        self.userName = userName
        self.isRoot = isRoot
        self.isSession = isSession
        self.arn = arn ?? userName
    }
}
