import CZlib
import Foundation
import Testing
@testable import QRCode

/// Decodes what we draw with a real decoder: zbarimg from Debian's zbar-tools, installed by
/// `scripts/test`. A missing zbarimg fails these tests; it never skips them.
@Suite("Decoded by zbarimg")
struct DecodeTests {
    /// otpauth URIs from 40 to ~2,900 bytes: versions 3 to 40 at the various levels.
    static let secretLengths = [16, 32, 64, 103, 160, 256, 400, 640, 1000, 1260, 1600, 2300, 2880]

    static func uri(secretLength: Int) -> String {
        var generator = SeededGenerator(seed: UInt64(secretLength))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secret = String((0..<secretLength).map { _ in alphabet[Int(generator.next() % 32)] })
        return "otpauth://totp/Coffer:dev%20\(secretLength)@123456789012?secret=\(secret)&issuer=Coffer"
    }

    @Test("otpauth URIs of many lengths at every level scan back exactly", arguments: ErrorCorrectionLevel.allCases)
    func roundTrip(level: ErrorCorrectionLevel) throws {
        var versions: Set<Int> = []
        for length in Self.secretLengths {
            let text = Self.uri(secretLength: length)
            guard text.utf8.count <= QRCode.byteCapacity(version: 40, level: level) else { continue }
            let code = try QRCode(encoding: text, level: level)
            versions.insert(code.version)
            #expect(try zbarimg(PNG.encode(code, scale: 2)) == text, "\(text.utf8.count) bytes, \(level)")
        }
        #expect(versions.count >= 8)
    }

    @Test("Every one of the eight masks is drawn correctly", arguments: 0...7)
    func everyMask(mask: Int) throws {
        for text in [Self.uri(secretLength: 32), Self.uri(secretLength: 400)] {
            let code = try QRCode(encoding: Array(text.utf8), level: .quartile, mask: mask)
            #expect(code.mask == mask)
            #expect(try zbarimg(PNG.encode(code, scale: 3)) == text)
        }
    }

    @Test("Non-ASCII UTF-8 bytes survive")
    func utf8() throws {
        let text = "otpauth://totp/Caf%C3%A9:z%C3%BCrich?secret=JBSWY3DPEHPK3PXP&issuer=Caf%C3%A9 ✓ ünïcødé"
        #expect(try zbarimg(PNG.encode(QRCode(encoding: text, level: .medium))) == text)
    }
}

/// A small deterministic generator (SplitMix64), so every run draws the same symbols.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes the PNG to a temporary file and returns what zbarimg decodes from it.
func zbarimg(_ png: [UInt8]) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-qr-\(UUID().uuidString).png")
    try Data(png).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["zbarimg", "--raw", "-q", "-Sbinary", file.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "zbarimg found no code (or is not installed)"])
    }
    var text = String(decoding: data, as: UTF8.self)
    if text.hasSuffix("\n") { text.removeLast() }
    return text
}
