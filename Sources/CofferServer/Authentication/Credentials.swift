import CofferEngine
import CofferMFA

/// An access key's secret and who it authenticates as.
struct Credential: Sendable, CustomStringConvertible {
    var secretKey: String
    var caller: Caller
    /// The caller's ARN, for the audit log.
    var arn: String
    /// For temporary credentials: SHA-256 of the token the request must carry, and expiry (Unix s).
    var sessionTokenHash: String?
    var expiration: Int64? = nil

    /// Never the secret.
    var description: String { "Credential(\(arn), secret: <redacted>)" }

    /// The engine's view of the caller.
    var principal: Principal {
        Principal(accessKey: caller.accessKey, userName: caller.userName, isRoot: caller.isRoot, isSession: caller.isSession,
                  arn: arn)
    }
}

/// Where access keys are looked up.
protocol CredentialStore: Sendable {
    func credential(for accessKey: String) throws -> Credential?
}

/// The root's keys (from the configuration, held in memory), then IAM users' keys and sessions
/// from the registry.
struct RegistryCredentialStore: CredentialStore {
    let rootAccessKey: String
    let rootSecretKey: String
    let registry: Registry?

    func credential(for accessKey: String) throws -> Credential? {
        if !rootAccessKey.isEmpty, accessKey.utf8.elementsEqual(rootAccessKey.utf8) {  // bytes, not canonical equivalence
            let caller = Caller(userName: Registry.rootUser, accessKey: accessKey)
            return Credential(secretKey: rootSecretKey, caller: caller, arn: registry?.arn(of: caller) ?? caller.userName)
        }
        guard let registry, let found = try registry.credential(for: accessKey) else { return nil }
        return Credential(secretKey: found.secret, caller: found.caller, arn: registry.arn(of: found.caller),
                          sessionTokenHash: found.sessionTokenHash, expiration: found.expiration)
    }
}
