import CofferCore
import Foundation

/// What an access key authenticates as: its secret and the principal behind it (the root's
/// configured keys, an IAM user's active key, or a live session).
public struct Credential: Sendable, CustomStringConvertible {
    public var secretKey: String
    public var principal: Principal
    /// For temporary credentials: SHA-256 of the token the request must carry, and expiry (Unix s).
    public var sessionTokenHash: String?
    public var expiration: Int64?

    public init(secretKey: String, principal: Principal, sessionTokenHash: String? = nil, expiration: Int64? = nil) {
        self.secretKey = secretKey
        self.principal = principal
        self.sessionTokenHash = sessionTokenHash
        self.expiration = expiration
    }

    /// Never the secret: a log line that prints a credential shows whose it is, nothing more.
    public var description: String { "Credential(\(principal.accessKey), \(principal.arn), secret: <redacted>)" }
}

/// Identifier shapes and the checks the IAM model's patterns demand.
public enum Names {
    static func validateUserName(_ name: String, parameter: String = "userName") throws {
        guard (1...64).contains(name.count), name.allSatisfy(isWordPlus) else {
            throw IAMError.validation(parameter, "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and length 1-64")
        }
    }

    static func validateDeviceName(_ name: String) throws {
        guard (1...226).contains(name.count), name.allSatisfy(isWordPlus) else {
            throw IAMError.validation("virtualMFADeviceName", "Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        }
    }

    static func validatePath(_ path: String) throws {
        let ok = path == "/" || (path.count <= 512 && path.count >= 2 && path.hasPrefix("/") && path.hasSuffix("/")
            && path.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) })
        guard ok else {
            throw IAMError.validation("path", "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)")
        }
    }

    /// Whether `serial` has the shape IAM gives serial numbers: 9–256 ASCII characters of
    /// `[\w+=/:,.@-]`. Checked before a serial is looked up or written to the audit log — a code
    /// typed in its place (six digits) never is.
    public static func isWellFormedSerial(_ serial: some StringProtocol) -> Bool { MFAToken.isWellFormedSerial(serial) }

    static func validateSerial(_ serial: String) throws {
        guard isWellFormedSerial(serial) else {
            throw IAMError.validation("serialNumber", "Member must satisfy regular expression pattern: [\\w+=/:,.@-]+ and length 9-256")
        }
    }

    /// Authentication codes are exactly six ASCII digits.
    static func validateCode(_ code: String, parameter: String) throws {
        guard code.utf8.count == 6, code.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw IAMError.validation(parameter, "Member must have length 6 and satisfy regular expression pattern: [\\d]+")
        }
    }

    private static func isWordPlus(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "_+=,.@-".contains(character))
    }

    static func random(_ alphabet: String, count: Int) -> String { SecureRandom.string(alphabet, count: count) }

    static let upperAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    static let secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    /// Cookie tokens and CSRF tokens: 43 of these are 256 bits.
    static let urlSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
}
