import Crypto

/// The HMAC hash a one-time password is computed with (RFC 6238 §1.2).
public enum OTPAlgorithm: String, Sendable, CaseIterable, Hashable {
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha512 = "SHA512"

    /// Parses `SHA1`, `sha-256`, `Sha512` and the like.
    public init?(name: String) {
        let folded = name.uppercased().filter { $0 != "-" }
        guard let algorithm = OTPAlgorithm(rawValue: folded) else { return nil }
        self = algorithm
    }

    /// The seed length RFC 6238's reference implementation uses with this hash (the erratum).
    public var recommendedSeedLength: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
    }
}
