import CofferCore
import CofferEngine
import CofferIAM

/// One API's authorization point. `check` decides, throwing a `Denial`; what follows from a
/// decision — `permits` (the answer alone) and `authorize` (a refusal audited and answered) — is
/// written once here for the S3 API and the Query API (IAM, STS) alike.
protocol AuthorizationPoint: Sendable {
    associatedtype Subject
    var refusals: RefusalAudit { get }
    /// The decision alone: throws `Denial` (or an error of the request's own, such as a resource
    /// that cannot be named). Its reads suspend rather than block (`AccessControl.resolving`).
    func check(_ request: Subject, principal: Principal, connection: ConnectionInfo) async throws
    /// The event a refusal is audited under.
    func event(of request: Subject) -> String
    /// What a refusal answers. It may throw another answer first (S3: `NoSuchBucket`, which is
    /// then not audited as a refusal).
    func answer(to denial: Denial, for request: Subject) async throws -> any Error
}

extension AuthorizationPoint {
    /// Whether `principal` may make `request` — decided as `authorize` decides, with no answer and
    /// no audit entry (DeleteObjects' entries, what the console offers, the 404-or-403 choice).
    func permits(_ request: Subject, principal: Principal, connection: ConnectionInfo) async throws -> Bool {
        do {
            try await check(request, principal: principal, connection: connection)
            return true
        } catch is Denial {
            return false
        }
    }

    /// Throws the refusal's answer (and audits it) unless `principal` may make `request`.
    func authorize(_ request: Subject, principal: Principal, connection: ConnectionInfo) async throws {
        do {
            try await check(request, principal: principal, connection: connection)
        } catch let denial as Denial {
            let answer = try await answer(to: denial, for: request)
            await refusals.record(denial, event: event(of: request), principal: principal, connection: connection)
            throw answer
        }
    }
}
