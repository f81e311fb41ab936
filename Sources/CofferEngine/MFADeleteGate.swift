import CofferCore
import CofferMFA
import CofferStore

/// S3 MFA Delete as AWS enforces it (spec §1.2–§1.8, §2.2). The engine calls it, inside the
/// transaction of the operation, exactly when the table of protected operations says so.
public struct MFADeleteGate: MFAGate {
    public let verifier: DeviceVerifier
    static let required = "Mfa Authentication must be used for this request"

    public init(verifier: DeviceVerifier) { self.verifier = verifier }

    public func authorize(_ request: MFARequest, in transaction: StoreTransaction) throws {
        guard let header = request.header else { throw S3Error(.accessDenied, Self.required) }
        if let reason = request.context.insecureMFAReason { throw S3Error(.invalidRequest, reason) }
        if request.principal.isSession {
            throw S3Error(.invalidRequest, "DevPay and Mfa are mutually exclusive authorization methods.")
        }
        // Exactly two space-separated tokens; the value itself is never echoed (it holds a code).
        let tokens = header.split(separator: " ", omittingEmptySubsequences: true)
        guard tokens.count == 2 else {
            throw S3Error.invalidArgument(
                "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}",
                name: "x-amz-mfa")
        }
        guard request.principal.isRoot else {
            throw S3Error(.accessDenied, "This operation may only be performed by the bucket owner")
        }
        let context = DeviceVerifier.Context(event: "S3:\(request.operation.rawValue)",
                                             principal: "root", source: request.context.source,
                                             requestID: request.context.requestID)
        try verifier.check(serial: String(tokens[0]), code: String(tokens[1]), user: Registry.rootUser,
                           context: context, in: transaction)
    }
}

extension Engine {
    /// A write the MFA gate may guard: a failed check rolls the whole operation back, is recorded
    /// (audit, throttle) in a transaction of its own, and answers like a missing code.
    func protectedWrite<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        do {
            return try await MFAFailureRecorder.write(store, body)
        } catch is DeviceVerifier.CheckError {
            throw S3Error(.accessDenied, MFADeleteGate.required)
        }
    }
}
