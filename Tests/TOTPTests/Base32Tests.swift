import Testing
@testable import TOTP

@Suite("Base32 (RFC 4648)")
struct Base32Tests {
    /// RFC 4648 §10.
    static let rfcVectors: [(String, String)] = [
        ("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="), ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI======"),
    ]

    @Test("Encodes the RFC 4648 vectors, with and without padding")
    func encode() {
        for (plain, encoded) in Self.rfcVectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.encode(Array(plain.utf8), padding: false) == encoded.filter { $0 != "=" })
        }
    }

    @Test("Decodes case-insensitively, tolerating spaces and missing padding")
    func decodeLenient() throws {
        for (plain, encoded) in Self.rfcVectors where !plain.isEmpty {
            let bytes = Array(plain.utf8)
            #expect(try Base32.decode(encoded) == bytes)
            #expect(try Base32.decode(encoded.lowercased()) == bytes)
            #expect(try Base32.decode(encoded.filter { $0 != "=" }) == bytes)
        }
        #expect(try Base32.decode("jbsw y3dp ehpk 3pxp") == Base32.decode("JBSWY3DPEHPK3PXP"))
        #expect(try Base32.decode("JBSWY3DPEHPK3PXP") == Array("Hello!".utf8) + [0xDE, 0xAD, 0xBE, 0xEF])
    }

    @Test("Round-trips every length from 1 to 80 bytes")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for length in 1...80 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(try Base32.decode(Base32.encode(bytes)) == bytes)
            #expect(try Base32.decode(Base32.encode(bytes, padding: false)) == bytes)
        }
        // 40 bytes, AWS's seed size, are exactly 64 characters.
        #expect(Base32.encode([UInt8](repeating: 7, count: 40)).count == 64)
    }

    @Test("Rejects anything else with a named error")
    func rejects() {
        #expect(throws: Base32Error.empty) { try Base32.decode("") }
        #expect(throws: Base32Error.empty) { try Base32.decode("   ") }
        #expect(throws: Base32Error.invalidCharacter(position: 3)) { try Base32.decode("MZ1W6YTB") }
        #expect(throws: Base32Error.invalidCharacter(position: 1)) { try Base32.decode("0ZXW6YTB") }
        #expect(throws: Base32Error.invalidCharacter(position: 2)) { try Base32.decode("M-ZXW6YTB") }
        #expect(throws: Base32Error.invalidCharacter(position: 1)) { try Base32.decode("é") }
        #expect(throws: Base32Error.paddingInMiddle(position: 4)) { try Base32.decode("MY=A") }
        #expect(throws: Base32Error.invalidLength(1)) { try Base32.decode("M") }
        #expect(throws: Base32Error.invalidLength(3)) { try Base32.decode("MZX") }
        #expect(throws: Base32Error.invalidLength(6)) { try Base32.decode("MZXW6Y") }
        #expect(throws: Base32Error.invalidPadding) { try Base32.decode("MY=") }
        #expect(throws: Base32Error.invalidPadding) { try Base32.decode("MZXW6YTB========") }
    }

    @Test("Errors never repeat the (secret) input")
    func errorsHideInput() {
        do {
            _ = try Base32.decode("SECRETSECRET1")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("SECRET"))
        }
    }
}
