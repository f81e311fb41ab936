import Crypto
import Testing
@testable import TOTP

@Suite("RFC 4226 and RFC 6238 vectors")
struct VectorTests {
    @Test("RFC 4226 Appendix D: HOTP counters 0-9")
    func hotpVectors() throws {
        let file = try Fixtures.hotp()
        let secret = Fixtures.bytes(hex: file.secret_hex)
        #expect(file.vectors.count == 10)
        for vector in file.vectors {
            #expect(HOTP.code(secret: secret, counter: vector.counter, digits: file.digits) == vector.code)
        }
    }

    @Test("RFC 6238 Appendix B: all 18 rows, each algorithm with its own seed (erratum)")
    func totpVectors() throws {
        let file = try Fixtures.totp()
        #expect(file.vectors.count == 18)
        for vector in file.vectors {
            let algorithm = try #require(OTPAlgorithm(name: vector.algorithm))
            let seed = try #require(file.seeds[vector.algorithm])
            let secret = try Base32.decode(seed.base32)
            #expect(secret == Fixtures.bytes(hex: seed.hex))
            let parameters = try TOTPParameters(secret: secret, algorithm: algorithm, digits: file.digits,
                                                period: file.period)
            #expect(parameters.step(at: vector.time) == vector.step, "\(vector.algorithm) at \(vector.time)")
            #expect(parameters.code(at: vector.time) == vector.code, "\(vector.algorithm) at \(vector.time)")
            // The verifier accepts each vector at its own instant, and reports its step.
            #expect(TOTPVerifier.verify(code: vector.code, parameters: parameters, at: vector.time,
                                        lastAcceptedStep: nil) == .accepted(step: vector.step))
        }
    }

    @Test("Negative vectors: SHA256/SHA512 with the 20-byte SHA1 seed give other codes")
    func negativeVectors() throws {
        let file = try Fixtures.totp()
        #expect(!file.negative.isEmpty)
        for vector in file.negative {
            let algorithm = try #require(OTPAlgorithm(name: vector.algorithm))
            let wrongSeed = try Base32.decode(try #require(file.seeds[vector.seed]).base32)
            let rightSeed = try Base32.decode(try #require(file.seeds[vector.algorithm]).base32)
            let withWrong = try TOTPParameters(secret: wrongSeed, algorithm: algorithm, digits: 8)
            let withRight = try TOTPParameters(secret: rightSeed, algorithm: algorithm, digits: 8)
            #expect(withWrong.code(at: vector.time) == vector.code, "\(vector.note)")
            #expect(withRight.code(at: vector.time) != vector.code, "\(vector.note)")
        }
    }

    @Test("Codes are zero-padded strings: 6-digit truncation of the 8-digit vectors")
    func zeroPadding() throws {
        let secret = Fixtures.bytes(hex: "3132333435363738393031323334353637383930")
        let six = try TOTPParameters(secret: secret, digits: 6)
        let eight = try TOTPParameters(secret: secret, digits: 8)
        // RFC 6238 SHA1 at 1111111109 is 07081804: the 6-digit code is its last six digits.
        #expect(eight.code(at: 1_111_111_109) == "07081804")
        #expect(six.code(at: 1_111_111_109) == "081804")
        let seven = try TOTPParameters(secret: secret, digits: 7)
        #expect(seven.code(at: 1_111_111_109) == "7081804")
        // HOTP counter 0 keeps its digit count whatever the value.
        for counter in UInt64(0)..<200 {
            #expect(HOTP.code(secret: secret, counter: counter, digits: 6).count == 6)
        }
    }

    @Test("Steps are 64-bit floor divisions: before the epoch, around 2038 and far beyond")
    func steps() throws {
        let parameters = try TOTPParameters(secret: [1, 2, 3], period: 30)
        #expect(parameters.step(at: 0) == 0)
        #expect(parameters.step(at: 29) == 0)
        #expect(parameters.step(at: 30) == 1)
        #expect(parameters.step(at: -1) == -1)
        #expect(parameters.step(at: -30) == -1)
        #expect(parameters.step(at: -31) == -2)
        #expect(parameters.step(at: 2_147_483_647) == 71_582_788)
        #expect(parameters.step(at: 2_147_483_648 + 30 * 10) == 71_582_798)
        #expect(parameters.step(at: 20_000_000_000) == 666_666_666)
        #expect(parameters.secondsRemaining(at: 59) == 1)
        let offset = try TOTPParameters(secret: [1], period: 60, epoch: 100)
        #expect(offset.step(at: 159) == 0)
        #expect(offset.step(at: 160) == 1)
    }

    @Test("Parameters are validated", arguments: [5, 9, 0, -1])
    func badDigits(digits: Int) {
        #expect(throws: OTPError.invalidDigits(digits)) { try TOTPParameters(secret: [1], digits: digits) }
    }

    @Test("Period and secret are validated")
    func badParameters() {
        #expect(throws: OTPError.invalidPeriod(0)) { try TOTPParameters(secret: [1], period: 0) }
        #expect(throws: OTPError.emptySecret) { try TOTPParameters(secret: []) }
        #expect(OTPAlgorithm(name: "sha-256") == .sha256)
        #expect(OTPAlgorithm(name: "md5") == nil)
    }
}
