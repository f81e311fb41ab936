import Crypto
import CryptoExtras
import Foundation
import StrictJSON

/// Who the credentials are for: the relying-party id (a domain: `localhost` by default) and the
/// origins allowed to use them. From configuration, never from a request's Host header.
public struct RelyingParty: Sendable {
    public var id: String
    public var origins: Set<String>
    public init(id: String, origins: Set<String>) {
        self.id = id
        self.origins = origins
    }
}

/// Why a registration or an assertion was refused; `reason` is a stable word for audit and metrics.
public struct WebAuthnError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case malformed, wrongType, wrongChallenge, wrongOrigin, wrongRelyingParty, userNotPresent
        case unsupportedAlgorithm, badSignature, badAttestation, counterNotIncreasing, unknownCredential
    }
    public var reason: Reason
    public var message: String
    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }
    public var description: String { message }
}

/// COSE algorithms Coffer accepts: ES256 is required by WebAuthn; EdDSA and RS256 are offered.
public enum COSEAlgorithm: Int64, Sendable, CaseIterable {
    case es256 = -7
    case edDSA = -8
    case rs256 = -257

    public var name: String {
        switch self {
        case .es256: "ES256"
        case .edDSA: "EdDSA"
        case .rs256: "RS256"
        }
    }
}

/// A credential public key (COSE_Key, RFC 9052/9053), checked when parsed: the key type, curve
/// and algorithm agree, and the key itself is valid for its curve or modulus.
public struct COSEKey: Sendable {
    public let algorithm: COSEAlgorithm
    /// The key as it came (stored; parsed again to verify).
    public let encoded: [UInt8]
    private let verifier: @Sendable ([UInt8], [UInt8]) -> Bool

    public init(encoded: [UInt8]) throws(WebAuthnError) {
        let value: CBOR
        do { value = try CBORDecoder.decode(encoded) } catch { throw WebAuthnError(.malformed, "credential public key: \(error)") }
        try self.init(value, encoded: encoded)
    }

    init(_ value: CBOR, encoded: [UInt8]) throws(WebAuthnError) {
        self.encoded = encoded
        guard let alg = value[int: 3]?.int, let algorithm = COSEAlgorithm(rawValue: alg) else {
            throw WebAuthnError(.unsupportedAlgorithm, "the credential's algorithm is not ES256, EdDSA or RS256")
        }
        self.algorithm = algorithm
        let kty = value[int: 1]?.int
        do {
            switch algorithm {
            case .es256:
                guard kty == 2, value[int: -1]?.int == 1, let x = value[int: -2]?.byteString, let y = value[int: -3]?.byteString,
                      x.count == 32, y.count == 32
                else { throw WebAuthnError(.malformed, "an ES256 key must be an EC2 P-256 key with 32-byte x and y") }
                let key = try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
                verifier = { signature, data in
                    guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                    return key.isValidSignature(signature, for: SHA256.hash(data: data))
                }
            case .edDSA:
                guard kty == 1, value[int: -1]?.int == 6, let x = value[int: -2]?.byteString, x.count == 32
                else { throw WebAuthnError(.malformed, "an EdDSA key must be an OKP Ed25519 key with a 32-byte x") }
                let key = try Curve25519.Signing.PublicKey(rawRepresentation: x)
                verifier = { signature, data in key.isValidSignature(signature, for: data) }
            case .rs256:
                guard kty == 3, let n = value[int: -1]?.byteString, let e = value[int: -2]?.byteString,
                      (256...1024).contains(n.count), (1...8).contains(e.count)
                else { throw WebAuthnError(.malformed, "an RS256 key must be an RSA key of 2048 to 8192 bits") }
                let key = try _RSA.Signing.PublicKey(n: n, e: e)
                verifier = { signature, data in
                    key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: data),
                                         padding: .insecurePKCS1v1_5)
                }
            }
        } catch let error as WebAuthnError {
            throw error
        } catch {
            throw WebAuthnError(.malformed, "the credential public key is not a valid key")
        }
    }

    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool { verifier(signature, data) }
}

/// Authenticator data (WebAuthn §6.1): rpIdHash, flags, the signature counter, and at
/// registration the attested credential (AAGUID, id, public key).
public struct AuthenticatorData: Sendable {
    public static let userPresent: UInt8 = 0x01
    public static let userVerified: UInt8 = 0x04
    public static let attestedData: UInt8 = 0x40
    public static let extensionData: UInt8 = 0x80

    public let raw: [UInt8]
    public let rpIDHash: [UInt8]
    public let flags: UInt8
    public let signCount: UInt32
    public let credentialID: [UInt8]?
    public let publicKey: COSEKey?

    public var isUserPresent: Bool { flags & Self.userPresent != 0 }
    public var isUserVerified: Bool { flags & Self.userVerified != 0 }

    public init(_ raw: [UInt8]) throws(WebAuthnError) {
        guard raw.count >= 37, raw.count <= 16 * 1024 else { throw WebAuthnError(.malformed, "authenticator data of \(raw.count) bytes") }
        self.raw = raw
        rpIDHash = Array(raw[0..<32])
        flags = raw[32]
        signCount = raw[33..<37].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        var rest = Array(raw[37...])
        if flags & Self.attestedData != 0 {
            guard rest.count >= 18 else { throw WebAuthnError(.malformed, "attested credential data is truncated") }
            let length = Int(rest[16]) << 8 | Int(rest[17])
            guard (1...1023).contains(length), rest.count >= 18 + length else {
                throw WebAuthnError(.malformed, "a credential id of \(length) bytes")
            }
            credentialID = Array(rest[18..<(18 + length)])
            let keyBytes = Array(rest[(18 + length)...])
            let (value, used): (CBOR, Int)
            do { (value, used) = try CBORDecoder.decodePrefix(keyBytes) } catch {
                throw WebAuthnError(.malformed, "credential public key: \(error)")
            }
            publicKey = try COSEKey(value, encoded: Array(keyBytes[..<used]))
            rest = Array(keyBytes[used...])
        } else {
            credentialID = nil
            publicKey = nil
        }
        if flags & Self.extensionData != 0 {
            do { _ = try CBORDecoder.decode(rest) } catch { throw WebAuthnError(.malformed, "extensions: \(error)") }
        } else if !rest.isEmpty {
            throw WebAuthnError(.malformed, "\(rest.count) bytes after the authenticator data")
        }
    }
}

/// The client data (WebAuthn §5.8.1), parsed from its JSON.
public struct ClientData: Sendable {
    public let type: String
    public let challenge: [UInt8]
    public let origin: String
    public let crossOrigin: Bool

    public init(json: [UInt8]) throws(WebAuthnError) {
        guard json.count <= 16 * 1024,
              let object = (try? JSON.parse(json))?.object,
              let type = object["type"]?.string, let challenge = object["challenge"]?.string,
              let origin = object["origin"]?.string,
              let decoded = Base64URL.decode(challenge)
        else { throw WebAuthnError(.malformed, "clientDataJSON is not WebAuthn client data") }
        self.type = type
        self.challenge = decoded
        self.origin = origin
        crossOrigin = object["crossOrigin"]?.bool ?? false
    }
}

/// base64url without padding (WebAuthn's encoding of binary values in JSON).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes, or nil for empty text or anything that is not base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 128 * 1024,
              text.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x3D })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}

/// A credential accepted at registration.
public struct RegisteredCredential: Sendable {
    public let id: [UInt8]
    public let publicKey: COSEKey
    public let signCount: UInt32
    public let userVerified: Bool
    /// The attestation statement's format (`none`, `packed`, …), recorded as it came.
    public let format: String
    /// `packed` self-attestation verified (Coffer asks for `none`; other formats are stored unattested).
    public let selfAttested: Bool
}

/// The relying party's checks (WebAuthn §7.1 registration, §7.2 authentication).
public enum WebAuthnVerifier {
    static func checkClient(_ clientDataJSON: [UInt8], type: String, challenge: [UInt8], rp: RelyingParty) throws(WebAuthnError) {
        let client = try ClientData(json: clientDataJSON)
        guard client.type == type else { throw WebAuthnError(.wrongType, "client data type \(client.type.prefix(40)), not \(type)") }
        // The challenge is no secret (the client was given it): a plain comparison.
        guard client.challenge == challenge
        else { throw WebAuthnError(.wrongChallenge, "the challenge is not the one issued") }
        guard rp.origins.contains(client.origin), !client.crossOrigin else {
            throw WebAuthnError(.wrongOrigin, "origin \(client.origin.prefix(100)) is not one of this console's")
        }
    }

    static func checkAuthenticator(_ data: AuthenticatorData, rp: RelyingParty) throws(WebAuthnError) {
        guard data.rpIDHash == Array(SHA256.hash(data: Array(rp.id.utf8))) else {
            throw WebAuthnError(.wrongRelyingParty, "the credential is for another relying party than \(rp.id)")
        }
        guard data.isUserPresent else { throw WebAuthnError(.userNotPresent, "the user-present flag is not set") }
    }

    /// Registration: the attestation object answering `challenge`.
    public static func register(attestationObject: [UInt8], clientDataJSON: [UInt8], challenge: [UInt8],
                                rp: RelyingParty) throws(WebAuthnError) -> RegisteredCredential {
        try checkClient(clientDataJSON, type: "webauthn.create", challenge: challenge, rp: rp)
        let object: CBOR
        do { object = try CBORDecoder.decode(attestationObject) } catch { throw WebAuthnError(.malformed, "attestation object: \(error)") }
        guard let format = object[text: "fmt"]?.string, let statement = object[text: "attStmt"],
              case .map = statement, let rawData = object[text: "authData"]?.byteString
        else { throw WebAuthnError(.malformed, "the attestation object lacks fmt, attStmt or authData") }
        let data = try AuthenticatorData(rawData)
        try checkAuthenticator(data, rp: rp)
        guard let id = data.credentialID, let key = data.publicKey else {
            throw WebAuthnError(.malformed, "no attested credential data")
        }
        var selfAttested = false
        if format == "packed" {
            guard let alg = statement[text: "alg"]?.int, let signature = statement[text: "sig"]?.byteString else {
                throw WebAuthnError(.badAttestation, "a packed statement without alg and sig")
            }
            if statement[text: "x5c"] == nil {
                // Self attestation: signed by the credential's own key, with its algorithm.
                guard alg == key.algorithm.rawValue else {
                    throw WebAuthnError(.badAttestation, "packed self attestation with another algorithm than the key's")
                }
                let signed = rawData + Array(SHA256.hash(data: clientDataJSON))
                guard key.isValidSignature(signature, for: signed) else {
                    throw WebAuthnError(.badAttestation, "the packed self-attestation signature does not verify")
                }
                selfAttested = true
            }
        } else if format == "none" {
            guard case .map(let entries) = statement, entries.isEmpty else {
                throw WebAuthnError(.badAttestation, "a none statement that is not empty")
            }
        }
        return RegisteredCredential(id: id, publicKey: key, signCount: data.signCount, userVerified: data.isUserVerified,
                                    format: String(format.prefix(32)), selfAttested: selfAttested)
    }

    /// Authentication: an assertion answering `challenge`, by the credential with `publicKey`
    /// whose counter was `storedCount`. Returns the new counter and whether the user was verified.
    public static func authenticate(authenticatorData: [UInt8], clientDataJSON: [UInt8], signature: [UInt8],
                                    challenge: [UInt8], rp: RelyingParty, publicKey: [UInt8],
                                    storedCount: UInt32) throws(WebAuthnError) -> (signCount: UInt32, userVerified: Bool) {
        try checkClient(clientDataJSON, type: "webauthn.get", challenge: challenge, rp: rp)
        // The signature over the raw bytes first: nothing an unsigned answer carries is parsed.
        let key = try COSEKey(encoded: publicKey)
        guard authenticatorData.count <= 16 * 1024, signature.count <= 1024,
              key.isValidSignature(signature, for: authenticatorData + Array(SHA256.hash(data: clientDataJSON)))
        else { throw WebAuthnError(.badSignature, "the assertion's signature does not verify") }
        let data = try AuthenticatorData(authenticatorData)
        try checkAuthenticator(data, rp: rp)
        if data.signCount != 0 || storedCount != 0, data.signCount <= storedCount {
            throw WebAuthnError(.counterNotIncreasing, "the signature counter went from \(storedCount) to \(data.signCount): "
                + "possibly a cloned key")
        }
        return (data.signCount, data.isUserVerified)
    }
}
