import CofferStore
import Foundation
import TOTP

/// Hardware TOTP tokens registered by vendor serial, from a CSV (serial, seed in Base32 or hex,
/// digits, period, algorithm) or an RFC 6030 PSKC file with plain secrets. Afterwards
/// EnableMFADevice with the serial works as on AWS.
public enum HardwareTokens {
    public struct Token: Sendable, Equatable {
        public var serial: String
        public var seed: [UInt8]
        public var digits: Int
        public var period: Int64
        public var algorithm: OTPAlgorithm
    }

    public enum ImportError: Error, CustomStringConvertible {
        case line(Int, String)
        case pskc(String)

        public var description: String {
            switch self {
            case .line(let number, let reason): "line \(number): \(reason)"
            case .pskc(let reason): "PSKC: \(reason)"
            }
        }
    }

    /// Parses either format (PSKC when the text is XML).
    public static func parse(_ text: String) throws -> [Token] {
        text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("<") ? try parsePSKC(text) : try parseCSV(text)
    }

    /// `serial,seed,digits,period,algorithm` per line; `#` comments and a header line are skipped.
    public static func parseCSV(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.lowercased().hasPrefix("serial,") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= 2 else { throw ImportError.line(index + 1, "expected serial,seed[,digits,period,algorithm]") }
            let digits = fields.count > 2 && !fields[2].isEmpty ? Int(fields[2]) : 6
            let period = fields.count > 3 && !fields[3].isEmpty ? Int64(fields[3]) : 30
            let algorithm = fields.count > 4 && !fields[4].isEmpty ? OTPAlgorithm(name: fields[4]) : .sha1
            guard let digits, let period, let algorithm else {
                throw ImportError.line(index + 1, "bad digits, period or algorithm")
            }
            tokens.append(try token(serial: fields[0], seed: decodeSeed(fields[1]), digits: digits, period: period,
                                    algorithm: algorithm) { ImportError.line(index + 1, $0) })
        }
        return tokens
    }

    /// Hex when the text is only hex digits of even length (and not valid-looking Base32 of the
    /// typical 32/64-character form with letters beyond F), else Base32.
    static func decodeSeed(_ text: String) -> [UInt8]? {
        let hexDigits = text.allSatisfy { $0.isHexDigit }
        if hexDigits, text.count % 2 == 0 {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
        return try? Base32.decode(text)
    }

    static func token(serial: String, seed: [UInt8]?, digits: Int, period: Int64, algorithm: OTPAlgorithm,
                      error: (String) -> ImportError) throws -> Token {
        guard (9...256).contains(serial.count), serial.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw error("the serial must be 9 to 256 printable characters")
        }
        guard let seed else { throw error("the seed is neither hex nor Base32") }
        guard seed.count >= 16 else { throw error("the seed is shorter than 128 bits") }
        guard digits == 6 else { throw error("only 6-digit tokens can be used with the AWS APIs") }
        guard (10...120).contains(period) else { throw error("the period must be 10 to 120 seconds") }
        return Token(serial: serial, seed: seed, digits: digits, period: period, algorithm: algorithm)
    }

    /// RFC 6030: each KeyPackage's DeviceInfo/SerialNo, Key/Data/Secret/PlainValue (base64),
    /// AlgorithmParameters/ResponseFormat@Length, Key/Policy… TimeStep in Data/TimeInterval.
    public static func parsePSKC(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        let packages = text.components(separatedBy: "KeyPackage>").dropFirst()
        for package in packages where package.contains("SerialNo") {
            guard let serial = element("SerialNo", in: package) else { throw ImportError.pskc("a KeyPackage has no SerialNo") }
            guard !package.contains("EncryptedValue") else {
                throw ImportError.pskc("\(serial): encrypted secrets are not supported; export with plain secrets")
            }
            guard let plain = element("PlainValue", in: package), let seed = Data(base64Encoded: plain) else {
                throw ImportError.pskc("\(serial): no Secret/PlainValue")
            }
            var digits = 6
            if let range = package.range(of: "Length=\"") {
                let rest = package[range.upperBound...]
                digits = Int(rest.prefix { $0.isNumber }) ?? 6
            }
            let period = element("TimeInterval", in: package).flatMap { element("PlainValue", in: $0) ?? $0 }
                .flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } ?? 30
            var algorithm = OTPAlgorithm.sha1
            if package.contains("SHA256") { algorithm = .sha256 }
            if package.contains("SHA512") { algorithm = .sha512 }
            tokens.append(try token(serial: serial, seed: Array(seed), digits: digits, period: period,
                                    algorithm: algorithm) { ImportError.pskc("\(serial): \($0)") })
        }
        guard !tokens.isEmpty else { throw ImportError.pskc("no KeyPackage with a SerialNo") }
        return tokens
    }

    /// The text of the first `<…name>…</…name>` (any namespace prefix).
    static func element(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: ":\(name)>") ?? text.range(of: "<\(name)>"),
              let close = text.range(of: "</", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension MFADevices {
    /// Registers hardware tokens (unassigned until EnableMFADevice). Existing serials are refused.
    public func importTokens(_ tokens: [HardwareTokens.Token]) async throws {
        let created = now()
        let devices = try tokens.map { token in
            DeviceRecord(serial: token.serial, kind: .hardware, name: token.serial, path: "/",
                         sealedSeed: try masterKey.seal(token.seed, context: token.serial),
                         algorithm: token.algorithm.rawValue, digits: token.digits, period: token.period, created: created)
        }
        try await store.write { transaction in
            for device in devices {
                guard try transaction.device(device.serial) == nil else {
                    throw IAMError(.entityAlreadyExists, "A device with serial \(device.serial) already exists.")
                }
                try transaction.insertDevice(device)
                try transaction.appendAudit(AuditRecord(time: created, event: "ImportHardwareToken", outcome: .done,
                                                        principal: "admin", serial: device.serial, source: "host"))
            }
        }
    }
}
