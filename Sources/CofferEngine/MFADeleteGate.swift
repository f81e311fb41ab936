import CofferCore
import CofferIAM
import CofferStore

/// S3 MFA Delete as AWS enforces it (spec §1.2–§1.8, §2.2). The engine calls it, inside the
/// transaction of the operation, exactly when the table of protected operations says so.
public struct MFADeleteGate: MFAGate {
    public let verifier: DeviceVerifier
    static let required = "Mfa Authentication must be used for this request"

    public init(verifier: DeviceVerifier) { self.verifier = verifier }

    public func authorize(_ request: MFARequest, in transaction: StoreTransaction) throws {
        func refuse(_ error: S3Error, _ reason: String) -> GateRefusal {
            GateRefusal(error: error, audit: AuditRecord(
                time: verifier.now(), event: "S3:\(request.operation.rawValue)", outcome: .refused,
                principal: request.principal.arn, serial: nil, source: request.context.source,
                requestID: request.context.requestID, detail: "\(reason) (bucket \(request.bucket))"))
        }
        guard let presented = request.mfa else {
            throw refuse(S3Error(.accessDenied, Self.required), "no x-amz-mfa")
        }
        if let reason = request.context.insecureMFAReason {
            throw refuse(S3Error(.invalidRequest, reason), "x-amz-mfa over an insecure connection")
        }
        if request.principal.isSession, !request.principal.isConsole {
            throw refuse(S3Error(.invalidRequest, "DevPay and Mfa are mutually exclusive authorization methods."),
                         "x-amz-mfa with session credentials")
        }
        // Parsed where it arrived; the value itself is never echoed (it holds a code).
        guard case .token(let token) = presented else {
            throw refuse(S3Error.invalidArgument(
                "Mfa header is invalid -- the header should be formatted as {serialNumber}(space){tokenCode}",
                name: "x-amz-mfa"), "malformed x-amz-mfa")
        }
        guard request.principal.isRoot else {
            throw refuse(S3Error(.accessDenied, "This operation may only be performed by the bucket owner"),
                         "caller is not the bucket owner")
        }
        let context = DeviceVerifier.Context(event: "S3:\(request.operation.rawValue)",
                                             principal: request.principal.arn, source: request.context.source,
                                             requestID: request.context.requestID)
        try verifier.check(serial: token.serial, code: token.code, user: Registry.rootUser, context: context, in: transaction)
    }
}

/// A protected request refused before any code was checked, with its audit entry.
struct GateRefusal: Error {
    let error: S3Error
    let audit: AuditRecord
}

extension Engine {
    /// A write the MFA gate may guard: a refused or failed check rolls the whole operation back
    /// and is recorded (audit, throttle) in a transaction of its own; a failed code answers like
    /// a missing one.
    func protectedWrite<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        do {
            return try await MFAFailureRecorder.write(store, body) { error, transaction in
                if let refusal = error as? GateRefusal { try transaction.appendAudit(refusal.audit) }
            }
        } catch let error as DeviceVerifier.CheckError where error.failure == .securityKey {
            // As on AWS, security keys cannot answer x-amz-mfa: say so.
            throw S3Error(.accessDenied, MFADeleteGate.required + ": the device is a security key, which cannot be used "
                + "for MFA Delete; use a virtual or hardware TOTP device")
        } catch let error as DeviceVerifier.CheckError where error.failure == .smsDevice {
            // An SMS code is sent on request for a console sign-in: it cannot sign an API call, and
            // MFA Delete needs the root's device (which is never an SMS device).
            throw S3Error(.accessDenied, MFADeleteGate.required + ": the device is an SMS device, whose codes serve console "
                + "sign-in only; use a virtual or hardware TOTP device")
        } catch is DeviceVerifier.CheckError {
            throw S3Error(.accessDenied, MFADeleteGate.required)
        } catch let refusal as GateRefusal {
            throw refusal.error
        }
    }
}
