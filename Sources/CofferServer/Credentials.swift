import CofferEngine

/// An access key's secret and who it authenticates as.
struct Credential: Sendable {
    var secretKey: String
    var principal: Principal
    /// For temporary credentials: the token the request must carry, and when it expires (Unix s).
    var sessionToken: String?
    var expiration: Int64?
}

/// Where access keys are looked up.
protocol CredentialStore: Sendable {
    func credential(for accessKey: String) async throws -> Credential?
}

/// The account root's keys, and nothing else (IAM users arrive with the MFA registry).
struct RootCredentialStore: CredentialStore {
    let accessKey: String
    let secretKey: String

    func credential(for accessKey: String) async throws -> Credential? {
        guard accessKey == self.accessKey else { return nil }
        return Credential(secretKey: secretKey, principal: Principal(accessKey: accessKey, userName: "root", isRoot: true))
    }
}
