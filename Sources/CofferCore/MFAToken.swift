/// A second factor as presented with a request, parsed where it arrives (the `x-amz-mfa` header,
/// a console form): the engine and its gate take this, never the raw text.
public enum PresentedMFA: Sendable, Equatable {
    case token(MFAToken)
    /// Something that is not `SERIAL CODE` with a serial's shape. The value is not kept: with the
    /// tokens swapped, the "serial" is a code, and a code is never logged.
    case malformed

    /// `x-amz-mfa: SERIAL CODE`: exactly two space-separated tokens, the first shaped like a
    /// serial. (Fuzzed: `coffer-fuzz mfa`.)
    public init(header: String) {
        let tokens = header.split(separator: " ", omittingEmptySubsequences: true)
        guard tokens.count == 2 else {
            self = .malformed
            return
        }
        self.init(serial: String(tokens[0]), code: String(tokens[1]))
    }

    /// A device's serial and a code given apart (the console's form).
    public init(serial: String, code: String) {
        guard MFAToken.isWellFormedSerial(serial), !code.isEmpty, !code.utf8.contains(UInt8(ascii: " ")),
              code.utf8.count <= 64
        else {
            self = .malformed
            return
        }
        self = .token(MFAToken(serial: serial, code: code))
    }
}

/// A device serial and the code it showed.
public struct MFAToken: Sendable, Equatable {
    public var serial: String
    public var code: String

    public init(serial: String, code: String) {
        self.serial = serial
        self.code = code
    }

    /// An ARN or a vendor serial: 9–256 characters of letters, digits and `_+=/:,.@-` (IAM's
    /// SerialNumber pattern). Checked before anything is looked up or logged.
    public static func isWellFormedSerial(_ serial: some StringProtocol) -> Bool {
        (9...256).contains(serial.utf8.count) && serial.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default: "_+=/:,.@-".utf8.contains(byte)
            }
        }
    }
}
