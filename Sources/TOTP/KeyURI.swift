/// An `otpauth://` key URI (Google Authenticator Key Uri Format), what a QR code for an
/// authenticator app holds: `otpauth://totp/Issuer:account?secret=…&issuer=Issuer`.
public struct KeyURI: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case totp, hotp
    }

    public var kind: Kind
    /// The issuer (label prefix and `issuer` parameter), if any.
    public var issuer: String?
    /// The account name (label after the issuer).
    public var account: String
    public var secret: [UInt8]
    public var algorithm: OTPAlgorithm
    public var digits: Int
    /// TOTP step length in seconds.
    public var period: Int64
    /// HOTP initial counter (required for `hotp`).
    public var counter: UInt64?

    public init(kind: Kind = .totp, issuer: String?, account: String, secret: [UInt8],
                algorithm: OTPAlgorithm = .sha1, digits: Int = 6, period: Int64 = 30, counter: UInt64? = nil) {
        self.kind = kind
        self.issuer = issuer
        self.account = account
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.counter = counter
    }

    /// The URI text. Label and issuer are percent-encoded; parameters equal to the defaults
    /// (SHA1, 6 digits, 30 s) are left out, as Google Authenticator ignores them anyway.
    public var uri: String {
        var label = PercentEncoding.encode(account)
        if let issuer, !issuer.isEmpty { label = PercentEncoding.encode(issuer) + ":" + label }
        var query = "secret=" + Base32.encode(secret, padding: false)
        if let issuer, !issuer.isEmpty { query += "&issuer=" + PercentEncoding.encode(issuer) }
        if algorithm != .sha1 { query += "&algorithm=" + algorithm.rawValue }
        if digits != 6 { query += "&digits=\(digits)" }
        if kind == .totp, period != 30 { query += "&period=\(period)" }
        if kind == .hotp { query += "&counter=\(counter ?? 0)" }
        return "otpauth://\(kind.rawValue)/\(label)?\(query)"
    }

    /// The generator parameters this URI describes.
    public func parameters() throws(OTPError) -> TOTPParameters {
        try TOTPParameters(secret: secret, algorithm: algorithm, digits: digits, period: period)
    }

    /// Parses a key URI; anything malformed throws a `KeyURIError` saying what.
    public init(parsing text: String) throws(KeyURIError) {
        let schemePrefix = "otpauth://"
        guard text.count > schemePrefix.count,
              text.prefix(schemePrefix.count).lowercased() == schemePrefix
        else { throw .notOTPAuth }
        let rest = text.dropFirst(schemePrefix.count)
        guard let slash = rest.firstIndex(of: "/") else { throw .missingLabel }
        guard let kind = Kind(rawValue: rest[..<slash].lowercased()) else {
            throw .unknownType(String(rest[..<slash]))
        }
        let afterType = rest[rest.index(after: slash)...]
        let rawLabel: Substring
        let rawQuery: Substring
        if let question = afterType.firstIndex(of: "?") {
            rawLabel = afterType[..<question]
            rawQuery = afterType[afterType.index(after: question)...]
        } else {
            rawLabel = afterType
            rawQuery = ""
        }
        guard let label = PercentEncoding.decode(rawLabel) else { throw .badEncoding("label") }
        guard !label.isEmpty else { throw .missingLabel }

        var labelIssuer: String?
        var account = label
        if let colon = label.firstIndex(of: ":") {
            labelIssuer = String(label[..<colon])
            account = String(label[label.index(after: colon)...].drop(while: { $0 == " " }))
            guard !account.contains(":") else { throw .badLabel }
        }
        guard !account.isEmpty else { throw .missingLabel }

        var parameters: [String: String] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decode(parts[0]),
                  let value = PercentEncoding.decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else { throw .badEncoding(String(parts[0])) }
            guard parameters[name.lowercased()] == nil else { throw .duplicateParameter(name) }
            parameters[name.lowercased()] = value
        }

        guard let secretText = parameters["secret"], !secretText.isEmpty else { throw .missingSecret }
        let secret: [UInt8]
        do { secret = try Base32.decode(secretText) } catch { throw .badSecret(error) }

        let issuer = parameters["issuer"] ?? labelIssuer
        if let labelIssuer, let parameterIssuer = parameters["issuer"], labelIssuer != parameterIssuer {
            throw .issuerMismatch
        }

        var algorithm = OTPAlgorithm.sha1
        if let name = parameters["algorithm"] {
            guard let parsed = OTPAlgorithm(name: name) else { throw .unknownAlgorithm(name) }
            algorithm = parsed
        }
        var digits = 6
        if let text = parameters["digits"] {
            guard let value = Int(text), HOTP.digitRange.contains(value) else { throw .badNumber("digits") }
            digits = value
        }
        var period: Int64 = 30
        if let text = parameters["period"] {
            guard let value = Int64(text), (1...86_400).contains(value) else { throw .badNumber("period") }
            period = value
        }
        var counter: UInt64?
        if let text = parameters["counter"] {
            guard let value = UInt64(text) else { throw .badNumber("counter") }
            counter = value
        }
        if kind == .hotp, counter == nil { throw .missingCounter }

        self.init(kind: kind, issuer: issuer, account: account, secret: secret, algorithm: algorithm,
                  digits: digits, period: period, counter: counter)
    }
}

/// Why an `otpauth://` URI was refused. Never carries the secret.
public enum KeyURIError: Error, Equatable, Sendable, CustomStringConvertible {
    case notOTPAuth
    case unknownType(String)
    case missingLabel
    case badLabel
    case badEncoding(String)
    case duplicateParameter(String)
    case missingSecret
    case badSecret(Base32Error)
    case issuerMismatch
    case unknownAlgorithm(String)
    case badNumber(String)
    case missingCounter

    public var description: String {
        switch self {
        case .notOTPAuth: "not an otpauth:// URI"
        case .unknownType(let type): "unknown OTP type '\(type)' (expected totp or hotp)"
        case .missingLabel: "the URI has no label (otpauth://totp/ISSUER:ACCOUNT?...)"
        case .badLabel: "the account name in the label may not contain ':'"
        case .badEncoding(let part): "bad percent-encoding in '\(part)'"
        case .duplicateParameter(let name): "parameter '\(name)' appears twice"
        case .missingSecret: "the URI has no secret parameter"
        case .badSecret(let error): "bad secret: \(error)"
        case .issuerMismatch: "the issuer parameter differs from the label's issuer"
        case .unknownAlgorithm(let name): "unknown algorithm '\(name)' (use SHA1, SHA256 or SHA512)"
        case .badNumber(let name): "bad value for '\(name)'"
        case .missingCounter: "an hotp URI needs a counter parameter"
        }
    }
}

/// RFC 3986 percent-encoding for URI labels and query values.
enum PercentEncoding {
    /// Encodes everything but unreserved characters and `@` (kept readable in labels).
    static func encode(_ text: String) -> String {
        var output: [UInt8] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "@"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (and `+` as space where asked); nil for a broken escape or bad UTF-8.
    static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String? {
        var output: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard bytes.count >= 2, let high = hexValue(bytes.popFirst()), let low = hexValue(bytes.popFirst())
                else { return nil }
                output.append(high << 4 | low)
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else {
                output.append(byte)
            }
        }
        return String(validating: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8?) -> UInt8? {
        switch byte {
        case let b? where (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b): b - UInt8(ascii: "0")
        case let b? where (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b): b - UInt8(ascii: "a") + 10
        case let b? where (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
