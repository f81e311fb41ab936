import Crypto
import CryptoExtras
import Foundation
import Testing
import WebAuthn

/// The relying party's checks, against credentials made here with swift-crypto as an authenticator
/// makes them, and the CBOR decoder against RFC 8949's examples and hostile input.
@Suite("WebAuthn")
struct WebAuthnTests {
    static let rp = RelyingParty(id: "localhost", origins: ["http://localhost:9001"])
    static let challenge = Array("a-32-byte-challenge-from-coffer!".utf8)

    /// A software authenticator with one ES256 credential.
    struct Authenticator {
        let key = P256.Signing.PrivateKey()
        let credentialID: [UInt8] = (0..<16).map { UInt8($0 * 7) }
        var counter: UInt32 = 0

        var cose: [UInt8] {
            let point = Array(key.publicKey.x963Representation)
            return CBOREncoder.encode(.map([(.int(1), .int(2)), (.int(3), .int(-7)), (.int(-1), .int(1)),
                                            (.int(-2), .bytes(Array(point[1...32]))), (.int(-3), .bytes(Array(point[33...64])))]))
        }

        func authData(rpID: String = "localhost", flags: UInt8, attested: Bool, count: UInt32) -> [UInt8] {
            var data = Array(SHA256.hash(data: Array(rpID.utf8))) + [flags]
            data += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            if attested { data += [UInt8](repeating: 0, count: 16) + [0, UInt8(credentialID.count)] + credentialID + cose }
            return data
        }

        static func clientData(type: String, challenge: [UInt8] = WebAuthnTests.challenge,
                               origin: String = "http://localhost:9001") -> [UInt8] {
            Array(#"{"type":"\#(type)","challenge":"\#(Base64URL.encode(challenge))","origin":"\#(origin)","crossOrigin":false}"#.utf8)
        }

        func attestation(format: String = "none", flags: UInt8 = 0x41, rpID: String = "localhost", forge: Bool = false,
                         clientData: [UInt8]) -> [UInt8] {
            let data = authData(rpID: rpID, flags: flags, attested: true, count: counter)
            var statement: CBOR = .map([])
            if format == "packed" {
                var signature = Array(try! key.signature(for: data + Array(SHA256.hash(data: clientData))).derRepresentation)
                if forge { signature[signature.count - 1] ^= 1 }
                statement = .map([(.text("alg"), .int(-7)), (.text("sig"), .bytes(signature))])
            }
            return CBOREncoder.encode(.map([(.text("fmt"), .text(format)), (.text("attStmt"), statement),
                                            (.text("authData"), .bytes(data))]))
        }

        func assertion(flags: UInt8 = 0x01, count: UInt32, clientData: [UInt8]) -> (data: [UInt8], signature: [UInt8]) {
            let data = authData(flags: flags, attested: false, count: count)
            let signature = Array(try! key.signature(for: data + Array(SHA256.hash(data: clientData))).derRepresentation)
            return (data, signature)
        }
    }

    func reason(_ body: () throws -> Void) -> WebAuthnError.Reason? {
        do { try body() } catch let error as WebAuthnError { return error.reason } catch { return nil }
        return nil
    }

    @Test("Registration with attestation none; the credential then signs in; the counter must grow")
    func ceremony() throws {
        let authenticator = Authenticator()
        let create = Authenticator.clientData(type: "webauthn.create")
        let credential = try WebAuthnVerifier.register(attestationObject: authenticator.attestation(clientData: create),
                                                       clientDataJSON: create, challenge: Self.challenge, rp: Self.rp)
        #expect(credential.id == authenticator.credentialID)
        #expect(credential.publicKey.algorithm == .es256 && credential.format == "none" && !credential.selfAttested)
        let get = Authenticator.clientData(type: "webauthn.get")
        let (data, signature) = authenticator.assertion(count: 5, clientData: get)
        let result = try WebAuthnVerifier.authenticate(authenticatorData: data, clientDataJSON: get, signature: signature,
                                                       challenge: Self.challenge, rp: Self.rp, publicKey: credential.publicKey.encoded,
                                                       storedCount: 4)
        #expect(result.signCount == 5 && !result.userVerified)
        // A counter that does not grow: a cloned key, perhaps.
        #expect(reason { _ = try WebAuthnVerifier.authenticate(authenticatorData: data, clientDataJSON: get, signature: signature,
                                                               challenge: Self.challenge, rp: Self.rp,
                                                               publicKey: credential.publicKey.encoded, storedCount: 5) }
                == .counterNotIncreasing)
        // Both zero: an authenticator without a counter.
        let (zero, zeroSignature) = authenticator.assertion(count: 0, clientData: get)
        #expect(throws: Never.self) {
            _ = try WebAuthnVerifier.authenticate(authenticatorData: zero, clientDataJSON: get, signature: zeroSignature,
                                                  challenge: Self.challenge, rp: Self.rp, publicKey: credential.publicKey.encoded,
                                                  storedCount: 0)
        }
    }

    @Test("Origin, relying party, type, challenge, user presence and signature are each checked")
    func refusals() throws {
        let authenticator = Authenticator()
        let create = Authenticator.clientData(type: "webauthn.create")
        let key = try WebAuthnVerifier.register(attestationObject: authenticator.attestation(clientData: create),
                                                clientDataJSON: create, challenge: Self.challenge, rp: Self.rp).publicKey.encoded
        func assert(_ client: [UInt8], flags: UInt8 = 0x01, flip: Bool = false, rp: RelyingParty = Self.rp) -> WebAuthnError.Reason? {
            var (data, signature) = authenticator.assertion(flags: flags, count: 9, clientData: client)
            if flip { signature[8] ^= 0x10 }
            return reason { _ = try WebAuthnVerifier.authenticate(authenticatorData: data, clientDataJSON: client, signature: signature,
                                                                  challenge: Self.challenge, rp: rp, publicKey: key, storedCount: 1) }
        }
        #expect(assert(Authenticator.clientData(type: "webauthn.get", origin: "http://evil.example")) == .wrongOrigin)
        #expect(assert(Authenticator.clientData(type: "webauthn.create")) == .wrongType)
        #expect(assert(Authenticator.clientData(type: "webauthn.get", challenge: Array(repeating: 1, count: 32))) == .wrongChallenge)
        #expect(assert(Authenticator.clientData(type: "webauthn.get"), flags: 0x04) == .userNotPresent)
        #expect(assert(Authenticator.clientData(type: "webauthn.get"), flip: true) == .badSignature)
        let otherRP = RelyingParty(id: "coffer.example", origins: ["http://localhost:9001"])
        #expect(assert(Authenticator.clientData(type: "webauthn.get"), rp: otherRP) == .wrongRelyingParty)
        #expect(assert(Array("not json".utf8)) == .malformed)
    }

    @Test("Packed self attestation is verified; a forged one is refused; unknown algorithms are refused")
    func attestations() throws {
        let authenticator = Authenticator()
        let create = Authenticator.clientData(type: "webauthn.create")
        let packed = try WebAuthnVerifier.register(attestationObject: authenticator.attestation(format: "packed", clientData: create),
                                                   clientDataJSON: create, challenge: Self.challenge, rp: Self.rp)
        #expect(packed.selfAttested && packed.format == "packed")
        #expect(reason { _ = try WebAuthnVerifier.register(attestationObject: authenticator.attestation(format: "packed", forge: true,
                                                                                                        clientData: create),
                                                           clientDataJSON: create, challenge: Self.challenge, rp: Self.rp) }
                == .badAttestation)
        // Another format is stored unattested, its name recorded.
        let other = try WebAuthnVerifier.register(attestationObject: authenticator.attestation(format: "fido-u2f", clientData: create),
                                                  clientDataJSON: create, challenge: Self.challenge, rp: Self.rp)
        #expect(other.format == "fido-u2f" && !other.selfAttested)
        // A key with algorithm -35 (ES384): refused.
        let es384 = CBOREncoder.encode(.map([(.int(1), .int(2)), (.int(3), .int(-35)), (.int(-1), .int(2))]))
        #expect(reason { _ = try COSEKey(encoded: es384) } == .unsupportedAlgorithm)
        // EdDSA and RS256 keys parse and verify.
        let ed = Curve25519.Signing.PrivateKey()
        let edKey = try COSEKey(encoded: CBOREncoder.encode(.map([(.int(1), .int(1)), (.int(3), .int(-8)), (.int(-1), .int(6)),
                                                                  (.int(-2), .bytes(Array(ed.publicKey.rawRepresentation)))])))
        #expect(edKey.isValidSignature(Array(try ed.signature(for: [1, 2, 3])), for: [1, 2, 3]))
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let components = try rsa.publicKey.getKeyPrimitives()
        let rsaKey = try COSEKey(encoded: CBOREncoder.encode(.map([(.int(1), .int(3)), (.int(3), .int(-257)),
                                                                   (.int(-1), .bytes(Array(components.modulus))),
                                                                   (.int(-2), .bytes(Array(components.publicExponent)))])))
        let rsaSignature = try rsa.signature(for: SHA256.hash(data: [4, 5, 6]), padding: .insecurePKCS1v1_5)
        #expect(rsaKey.isValidSignature(Array(rsaSignature.rawRepresentation), for: [4, 5, 6]))
        #expect(!rsaKey.isValidSignature(Array(rsaSignature.rawRepresentation), for: [4, 5, 7]))
    }

    @Test("CBOR: RFC 8949's examples decode; truncated, oversized and indefinite input is refused cleanly")
    func cbor() throws {
        // RFC 8949 Appendix A.
        #expect(try CBORDecoder.decode([0x00]) == .unsigned(0))
        #expect(try CBORDecoder.decode([0x18, 0x64]) == .unsigned(100))
        #expect(try CBORDecoder.decode([0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00]) == .unsigned(1_000_000_000_000))
        #expect(try CBORDecoder.decode([0x38, 0x63]) == .negative(99))  // -100
        #expect(try CBORDecoder.decode([0x44, 0x01, 0x02, 0x03, 0x04]) == .bytes([1, 2, 3, 4]))
        #expect(try CBORDecoder.decode([0x62, 0xc3, 0xbc]) == .text("ü"))
        #expect(try CBORDecoder.decode([0x83, 0x01, 0x82, 0x02, 0x03, 0x82, 0x04, 0x05])
                == .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])]))
        #expect(try CBORDecoder.decode([0xa2, 0x61, 0x61, 0x01, 0x61, 0x62, 0x82, 0x02, 0x03])
                == .map([(.text("a"), .unsigned(1)), (.text("b"), .array([.unsigned(2), .unsigned(3)]))]))
        #expect(try CBORDecoder.decode([0xf5]) == .bool(true))
        // The COSE_Key example of WebAuthn §6.5.1.1 (EC2, ES256, P-256), as CBOR.
        let x = [UInt8](repeating: 0x65, count: 32), y = [UInt8](repeating: 0x1e, count: 32)
        let example: [UInt8] = [0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20] + x + [0x22, 0x58, 0x20] + y
        let decoded = try CBORDecoder.decode(example)
        #expect(decoded[int: 1] == .unsigned(2) && decoded[int: 3]?.int == -7 && decoded[int: -2] == .bytes(x))
        // Hostile input: every one a clean error.
        let refused: [[UInt8]] = [
            [], [0x18], [0x59, 0xff], [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],  // truncated, huge lengths
            [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            [0x9f, 0x01, 0xff], [0x5f, 0x41, 0x00, 0xff],  // indefinite lengths
            [0xc1, 0x00], [0xf9, 0x3c, 0x00], [0xf7], [0x1c],  // tags, floats, undefined, reserved
            [0xa2, 0x01, 0x00, 0x01, 0x00], [0xa1, 0x80, 0x00],  // duplicate key, array as key
            [0x62, 0xff, 0xfe], [0x00, 0x00],  // bad UTF-8, trailing bytes
            [UInt8](repeating: 0x81, count: 40) + [0x00],  // nested too deep
        ]
        for input in refused {
            #expect(throws: CBORError.self) { _ = try CBORDecoder.decode(input) }
        }
        #expect(throws: CBORError.self) { _ = try CBORDecoder.decode([UInt8](repeating: 0x40, count: 70_000)) }
        // Truncated attestation objects and authenticator data are malformed, never a trap.
        let authenticator = Authenticator()
        let create = Authenticator.clientData(type: "webauthn.create")
        let object = authenticator.attestation(clientData: create)
        for length in stride(from: 0, to: object.count, by: 7) {
            #expect(reason { _ = try WebAuthnVerifier.register(attestationObject: Array(object[..<length]), clientDataJSON: create,
                                                               challenge: Self.challenge, rp: Self.rp) } == .malformed)
        }
    }
}
