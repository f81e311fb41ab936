import CofferCore
import CofferEngine
import CofferMFA

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
            return Credential(secretKey: rootSecretKey,
                              principal: registry?.rootPrincipal(accessKey: accessKey)
                                  ?? Principal(userName: Registry.rootUser, accessKey: accessKey))
        }
        return try registry?.credential(for: accessKey)
    }
}
