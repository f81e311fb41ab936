import ArgumentParser
import CofferCore
import QRCode
import TOTP

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `coffer totp`: a virtual authenticator for scripts and demos.
struct TOTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "totp",
        abstract: "A virtual authenticator: TOTP codes, otpauth URIs and QR code PNGs.",
        subcommands: [Code.self, QR.self, New.self]
    )
}

/// Where the key comes from: a Base32 secret with explicit parameters, or an otpauth URI.
struct KeyOptions: ParsableArguments {
    @Option(help: "The seed in Base32 (spaces and missing padding are fine).")
    var secret: String?

    @Option(help: "An otpauth://totp/… key URI (its parameters win over the options below).")
    var uri: String?

    @Option(help: "SHA1, SHA256 or SHA512.")
    var algorithm: String = "SHA1"

    @Option(help: "Code length, 6 to 8.")
    var digits: Int = 6

    @Option(help: "Seconds per time step.")
    var period: Int64 = 30

    /// The parsed key; exactly one of --secret and --uri must be given.
    func keyURI(account: String? = nil, issuer: String? = nil) throws -> KeyURI {
        switch (secret, uri) {
        case (nil, nil): throw UsageError("give --secret BASE32 or --uri otpauth://…")
        case (_?, _?): throw UsageError("give either --secret or --uri, not both")
        case (_, let text?):
            do { return try KeyURI(parsing: text) } catch { throw UsageError("bad --uri: \(error)") }
        case (let text?, nil):
            let bytes: [UInt8]
            do { bytes = try Base32.decode(text) } catch { throw UsageError("bad --secret: \(error)") }
            guard let algorithm = OTPAlgorithm(name: algorithm) else {
                throw UsageError("\(OTPError.unknownAlgorithm(algorithm))")
            }
            guard HOTP.digitRange.contains(digits) else { throw UsageError("\(OTPError.invalidDigits(digits))") }
            guard (1...86_400).contains(period) else { throw UsageError("\(OTPError.invalidPeriod(period))") }
            return KeyURI(issuer: issuer, account: account ?? "coffer", secret: bytes, algorithm: algorithm,
                          digits: digits, period: period)
        }
    }
}

extension TOTPCommand {
    struct Code: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the current code (or the code at --at, or the next N codes).")

        @OptionGroup var key: KeyOptions

        @Option(help: "Unix time in seconds to compute the code for (default: now).")
        var at: Int64?

        @Option(help: "Print the next N codes, one per line: STEP CODE.")
        var next: Int?

        func run() throws {
            let uri = try key.keyURI()
            guard uri.kind == .totp else { throw UsageError("only totp URIs are supported") }
            let parameters = try uri.parameters()
            let now = at ?? SystemUnixClock().now()
            guard let next else {
                print(parameters.code(at: now))
                return
            }
            guard (1...1000).contains(next) else { throw UsageError("--next must be 1 to 1000") }
            let first = parameters.step(at: now)
            for step in first..<(first + Int64(next)) {
                print("\(step) \(parameters.code(step: step))")
            }
        }
    }

    struct QR: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a QR code PNG of an otpauth URI, for an authenticator app to scan.")

        @OptionGroup var key: KeyOptions

        @Option(help: "Account name for the label (with --secret).")
        var account: String = "coffer"

        @Option(help: "Issuer for the label (with --secret).")
        var issuer: String?

        @Option(help: "Error-correction level: L, M, Q or H.")
        var level: String = "M"

        @Option(help: "Pixels per module.")
        var scale: Int = 6

        @Option(help: "The PNG file to write.")
        var out: String

        func run() throws {
            let uri = try key.keyURI(account: account, issuer: issuer)
            guard let level = ErrorCorrectionLevel(rawValue: level.uppercased()) else {
                throw UsageError("--level must be L, M, Q or H")
            }
            // A given URI is drawn exactly as given, once it has been validated.
            try writeQRCode(key.uri ?? uri.uri, level: level, scale: scale, to: out)
        }
    }

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a fresh random 160-bit secret and print its otpauth URI.")

        @Option(help: "Account name for the label.")
        var account: String

        @Option(help: "Issuer for the label.")
        var issuer: String = "Coffer"

        @Option(help: "Also write the QR code PNG here.")
        var out: String?

        func run() throws {
            let secret = SecureRandom.bytes(20)
            let uri = KeyURI(issuer: issuer, account: account, secret: secret).uri
            if let out { try writeQRCode(uri, level: .medium, scale: 6, to: out) }
            print(uri)
        }
    }
}

/// Renders `text` as a QR code PNG file.
func writeQRCode(_ text: String, level: ErrorCorrectionLevel, scale: Int, to path: String) throws {
    let png: [UInt8]
    do {
        png = try PNG.encode(QRCode(encoding: text, level: level), scale: scale)
    } catch let error as QRCodeError {
        throw UsageError("\(error)")
    } catch {
        throw UsageError("\(error)")
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(png)) else {
        throw UsageError("cannot write \(path)")
    }
}
