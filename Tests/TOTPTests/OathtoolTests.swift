import Foundation
import Testing
import TOTP

/// Cross-checks against oathtool (Debian `oathtool`), a reference implementation we do not own.
/// `scripts/test` installs it; a missing oathtool fails these tests rather than skipping them.
@Suite("Cross-check with oathtool")
struct OathtoolTests {
    static let instants: [Int64] = [0, 59, 1_111_111_109, 1_234_567_890, 2_000_000_000, 20_000_000_000, 1_763_900_000]

    @Test("Same codes for SHA1, SHA256 and SHA512, 6 and 8 digits, several instants",
          arguments: OTPAlgorithm.allCases)
    func sameCodes(algorithm: OTPAlgorithm) throws {
        let secret = (0..<algorithm.recommendedSeedLength).map { UInt8(($0 * 37 + 11) & 0xff) }
        for digits in [6, 8] {
            let parameters = try TOTPParameters(secret: secret, algorithm: algorithm, digits: digits)
            for instant in Self.instants {
                let expected = try oathtool([
                    "--totp=\(algorithm.rawValue.lowercased())", "-d", "\(digits)", "-b", Base32.encode(secret),
                    "--now", "@\(instant)",
                ])
                #expect(parameters.code(at: instant) == expected, "\(algorithm) \(digits) digits at \(instant)")
            }
        }
    }

    @Test("A 60-second period")
    func period() throws {
        let parameters = try TOTPParameters(secret: Array("12345678901234567890".utf8), period: 60)
        let expected = try oathtool(["--totp", "-s", "60s", "-b", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--now", "@1234567890"])
        #expect(parameters.code(at: 1_234_567_890) == expected)
    }
}

/// Runs oathtool and returns its single line of output.
func oathtool(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["oathtool"] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "oathtool failed (is it installed?)"])
    }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
