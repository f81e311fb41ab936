import CofferCore
import CofferStore
import CofferEngine
import CofferIAM

/// Where access keys are looked up.
protocol CredentialStore: Sendable {
    func credential(for accessKey: String) throws -> Credential?
    /// A request signed with `credential` was verified (for GetAccessKeyLastUsed).
    func noteUse(_ credential: Credential, service: String, region: String)
}

extension CredentialStore {
    func noteUse(_ credential: Credential, service: String, region: String) {}
}

/// The root's keys (from the configuration, held in memory), then IAM users' keys and sessions
/// from the registry.
///
/// Each thread holds its own copy of the root's credential (`PerThread`), strings included: every
/// signed request reads it, and a copy shared by the event loops would have both retain the same
/// string storage on every request.
struct RegistryCredentialStore: CredentialStore {
    let registry: Registry?
    private let root: PerThread<Root>

    private final class Root {
        let credential: Credential?
        init(_ credential: Credential?) { self.credential = credential }
    }

    init(rootAccessKey: String, rootSecretKey: String, registry: Registry?) {
        self.registry = registry
        root = PerThread {
            guard !rootAccessKey.isEmpty else { return Root(nil) }
            let key = Self.copy(rootAccessKey)
            return Root(Credential(secretKey: Self.copy(rootSecretKey),
                                   principal: registry?.rootPrincipal(accessKey: key)
                                       ?? Principal(userName: Registry.rootUser, accessKey: key)))
        }
    }

    /// A string with storage of its own.
    private static func copy(_ text: String) -> String { String(decoding: Array(text.utf8), as: UTF8.self) }

    func credential(for accessKey: String) throws -> Credential? {
        if let root = root.value.credential, sameBytes(accessKey, root.principal.accessKey) {
            return root  // bytes, not canonical equivalence
        }
        return try registry?.users.credential(for: accessKey)
    }

    /// IAM users' long-term keys only: the root's key is the configuration's, sessions expire.
    func noteUse(_ credential: Credential, service: String, region: String) {
        let principal = credential.principal
        guard !principal.isRoot, !principal.isSession, let registry else { return }
        registry.users.noteKeyUse(principal.accessKey, service: service, region: region)
    }
}
