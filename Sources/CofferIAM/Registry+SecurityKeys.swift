import CofferCore
import CofferStore
import Crypto
import Foundation
import WebAuthn

extension Registry {
    public enum ChallengePurpose: String, Sendable { case register, signIn = "sign-in" }
}

/// FIDO2 security keys and passkeys (WebAuthn) as a console sign-in factor. A key is an MFA device
/// of kind `u2f` (ListMFADevices, the credential report, DeactivateMFADevice, the 8-per-user quota
/// see it like any other); it signs the console's challenges and never gives a code, so `x-amz-mfa`,
/// GetSessionToken and MFA Delete still need a TOTP device — as on AWS.
public struct SecurityKeys: RegistryPart {
    public let core: RegistryCore

    /// Challenges live 5 minutes and are single use.
    static let challengeMs: Int64 = 300_000

    /// A fresh 32-byte challenge for `user`, bound to the console session that asked for it.
    public func newChallenge(_ purpose: ChallengePurpose, user: String, sessionToken: String) async throws -> [UInt8] {
        let challenge = SecureRandom.bytes(32)
        let record = ChallengeRecord(challenge: Base64URL.encode(challenge), purpose: purpose.rawValue, userName: user,
                                     sessionHash: Registry.tokenHash(sessionToken), expires: now() + Self.challengeMs)
        try await store.write { try $0.saveChallenge(record) }
        return challenge
    }

    /// Takes (deletes) the challenge the client data names, if it was issued for this purpose,
    /// user and session and has not expired.
    func takeChallenge(clientDataJSON: [UInt8], purpose: ChallengePurpose, user: String, sessionToken: String,
                       in transaction: StoreTransaction) throws -> [UInt8] {
        guard let client = try? ClientData(json: clientDataJSON),
              let record = try transaction.takeChallenge(Base64URL.encode(client.challenge)),
              record.purpose == purpose.rawValue, record.userName == user,
              record.sessionHash == Registry.tokenHash(sessionToken), record.expires > now()
        else { throw WebAuthnError(.wrongChallenge, "the challenge is unknown, used, expired or not this session's") }
        return client.challenge
    }

    /// The user's security keys' credential ids (for `excludeCredentials` and `allowCredentials`).
    public func securityKeyIDs(user: String) async throws -> [[UInt8]] {
        try await store.asyncRead { try $0.securityKeyIDs(user: user) }
    }

    /// Registers a security key for the caller from the browser's `navigator.credentials.create`
    /// answer. The serial is AWS's shape: `arn:aws:iam::ACCOUNT:u2f/user/NAME/DEVICE-ID` (the
    /// root's: `…:u2f/root/DEVICE-ID`).
    public func registerSecurityKey(_ caller: Principal, name: String, sessionToken: String, attestationObject: [UInt8],
                                    clientDataJSON: [UInt8], rp: RelyingParty, info: RequestInfo) async throws -> DeviceRecord {
        try Names.validateDeviceName(name)
        let user = caller.userName
        let suffix = Names.random(Names.upperAlphanumeric, count: 26)
        let serial = user == Registry.rootUser ? "arn:aws:iam::\(accountID):u2f/root/\(name)-\(suffix)"
            : "arn:aws:iam::\(accountID):u2f/user/\(user)/\(name)-\(suffix)"
        guard serial.utf8.count <= 256 else { throw IAMError.validation("name", "Member must be shorter") }
        do {
            // Taken in a write of its own (single use even when the answer fails), judged outside
            // any transaction (parsing and signatures never hold the write queue).
            let challenge = try await store.write { transaction in
                try self.takeChallenge(clientDataJSON: clientDataJSON, purpose: .register, user: user,
                                       sessionToken: sessionToken, in: transaction)
            }
            let credential = try WebAuthnVerifier.register(attestationObject: attestationObject, clientDataJSON: clientDataJSON,
                                                           challenge: challenge, rp: rp)
            return try await store.write { transaction in
                guard try transaction.securityKey(credentialID: credential.id) == nil else {
                    throw IAMError(.entityAlreadyExists, "This security key is already registered.")
                }
                try self.requireDeviceRoom(user: user, in: transaction)
                let time = self.now()
                let device = DeviceRecord(serial: serial, kind: .securityKey, name: name, path: "/",
                                          sealedSeed: credential.publicKey.encoded, algorithm: credential.publicKey.algorithm.name,
                                          digits: 0, period: 0, userName: user, enabled: time, created: time,
                                          lastStep: Int64(credential.signCount), creator: user)
                try transaction.insertSecurityKey(device, credentialID: credential.id, format: credential.format)
                try transaction.appendAudit(self.audit("EnableMFADevice", caller, info, serial: serial, detail:
                    "security key \(credential.publicKey.algorithm.name), attestation \(credential.format)"
                    + (credential.selfAttested ? " (self attestation verified)" : " (unattested)")
                    + ", user verified: \(credential.userVerified ? "yes" : "no")"))
                return device
            }
        } catch let error as WebAuthnError {
            let entry = audit("EnableMFADevice", caller, info, serial: nil, outcome: .failed,
                              detail: "security key refused: \(error.reason.rawValue): \(error.message)")
            try? await store.write { try $0.appendAudit(entry) }
            throw IAMError(.invalidAuthenticationCode, "The security key's answer was refused: \(error.message).")
        }
    }

    /// The security-key step of a console sign-in at stage `.code`: an assertion answering this
    /// session's challenge, by one of the user's own keys, with a growing counter. The session
    /// then has the same MFA context as after a code. nil: no such pending sign-in.
    public func consoleVerifySecurityKey(token: String, credentialID: [UInt8], authenticatorData: [UInt8],
                                         clientDataJSON: [UInt8], signature: [UInt8], rp: RelyingParty, source: String?)
        async throws -> (token: String, record: ConsoleSessionRecord)? {
        guard let (pending, _) = try await console.consoleSession(token: token, allowing: [.code]) else { return nil }
        let user = pending.userName
        let mustChange = try await console.mustChangePassword(user)
        let (newToken, next) = console.newConsoleSession(user: user, stage: mustChange ? .newPassword : .active, mfaAt: now(),
                                                 source: source)
        let arn = await console.principalArn(user)
        // Counted before it is judged: a burst of answers on one pending sign-in cannot outrun the limit.
        guard try await console.reserveFactorAttempt(pending) else { return nil }
        var owned: DeviceRecord?
        do {
            let challenge = try await store.write { transaction in
                try self.takeChallenge(clientDataJSON: clientDataJSON, purpose: .signIn, user: user, sessionToken: token,
                                       in: transaction)
            }
            guard let (device, _) = try await store.asyncRead({ try $0.securityKey(credentialID: credentialID) }), device.userName == user else {
                throw WebAuthnError(.unknownCredential, "the key is not one of this user's")
            }
            owned = device
            let result = try WebAuthnVerifier.authenticate(
                authenticatorData: authenticatorData, clientDataJSON: clientDataJSON, signature: signature,
                challenge: challenge, rp: rp, publicKey: device.sealedSeed, storedCount: UInt32(clamping: device.lastStep ?? 0))
            try await store.write { transaction in
                // The counter is moved only from the value judged against (two answers at once: one wins).
                guard var current = try transaction.device(device.serial), current.userName == user,
                      current.lastStep == device.lastStep
                else { throw WebAuthnError(.counterNotIncreasing, "the key was used by another sign-in at the same time") }
                guard try transaction.deleteConsoleSession(tokenHash: pending.tokenHash) == 1 else {
                    throw WebAuthnError(.wrongChallenge, "the sign-in has ended")
                }
                current.lastStep = Int64(result.signCount)
                try transaction.updateDevice(current)
                try transaction.saveConsoleSession(next)
                try transaction.appendAudit(AuditRecord(time: self.now(), event: "ConsoleLogin", outcome: .passed,
                                                        principal: arn, serial: device.serial, source: source, requestID: nil,
                                                        detail: "security key; user verified: \(result.userVerified ? "yes" : "no")"))
            }
        } catch let error as WebAuthnError {
            // Refusals are audited by reason (the key's serial only when it is this user's); a
            // counter that did not grow may be a cloned key.
            let detail = error.reason == .counterNotIncreasing
                ? "security key refused: possible cloned key (\(error.message))"
                : "security key refused: \(error.reason.rawValue): \(error.message)"
            let entry = AuditRecord(time: now(), event: "ConsoleLogin", outcome: .failed, principal: arn, serial: owned?.serial,
                                    source: source, requestID: nil, detail: String(detail.prefix(512)))
            try? await store.write { try $0.appendAudit(entry) }
            throw error
        }
        return (newToken, next)
    }
}
