import CofferCore
import CofferIAM
import CofferStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WebAuthn

/// Security keys and passkeys in the console (WebAuthn): registration from "Assign MFA device",
/// and the sign-in step. The page's script runs the browser's ceremonies; the server issues the
/// challenges (single use, 5 minutes, bound to the session) and checks every answer.
extension ConsoleResponder {
    func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static var algorithms: [[String: Any]] { COSEAlgorithm.allCases.map { ["type": "public-key", "alg": $0.rawValue] } }

    /// `navigator.credentials.create` options for the signed-in user (attestation `none`; ES256,
    /// EdDSA, RS256; the user's keys excluded).
    func keyOptions(_ call: Call) async throws -> Response {
        let principal = call.caller
        do {
            try requireSecureTransport(call)
            try await authorize(.enableMFADevice, ["UserName": principal.userName], call)
            guard let token = call.token else { throw Problem(status: .unauthorized, message: "Sign in first.") }
            let challenge = try await registry.securityKeys.newChallenge(.register, user: principal.userName, sessionToken: token)
            let handle = Array(SHA256.hash(data: Array("coffer:\(registry.accountID):\(principal.userName)".utf8)).prefix(16))
            return json([
                "challenge": Base64URL.encode(challenge),
                "rp": ["id": relyingParty.id, "name": "Coffer"],
                "user": ["id": Base64URL.encode(handle), "name": principal.userName,
                         "displayName": principal.isRoot ? "root (account \(registry.accountID))" : principal.userName],
                "pubKeyCredParams": Self.algorithms,
                "timeout": 300_000,
                "attestation": "none",
                "excludeCredentials": try await registry.securityKeys.securityKeyIDs(user: principal.userName)
                    .map { ["type": "public-key", "id": Base64URL.encode($0)] },
                "authenticatorSelection": ["userVerification": "preferred", "residentKey": "discouraged"],
            ])
        } catch {
            return plain(Self.words(error), status: Self.status(of: error))
        }
    }

    func keyRegister(_ call: Call) async -> Response {
        await script {
            try requireSecureTransport(call)
            let principal = call.caller
            try await authorize(.enableMFADevice, ["UserName": principal.userName], call)
            let stepped = try await stepUpRoot(call, event: "EnableMFADevice")
            guard let token = call.token,
                  let attestation = Base64URL.decode(call.form["attestationObject"] ?? ""),
                  let client = Base64URL.decode(call.form["clientDataJSON"] ?? "")
            else { throw Problem(status: .badRequest, message: "The browser's answer is incomplete.") }
            let device = try await registry.securityKeys.registerSecurityKey(stepped, name: (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces),
                                                                sessionToken: token, attestationObject: attestation,
                                                                clientDataJSON: client, rp: relyingParty, info: call.info)
            s3.metrics.securityKey("registered")
            return device.serial
        }
    }

    /// `navigator.credentials.get` options for a sign-in waiting for its second factor.
    func signInKeyOptions(_ call: Call) async throws -> Response {
        guard let token = call.token, let session = call.session, session.stage == .code else {
            return plain("The sign-in has ended: start again with the password.", status: .unauthorized)
        }
        try requireSecureTransport(call)
        let challenge = try await registry.securityKeys.newChallenge(.signIn, user: session.userName, sessionToken: token)
        return await json([
            "challenge": Base64URL.encode(challenge),
            "rpId": relyingParty.id,
            "allowCredentials": try registry.securityKeys.securityKeyIDs(user: session.userName).map { ["type": "public-key", "id": Base64URL.encode($0)] },
            "userVerification": "preferred",
            "timeout": 300_000,
        ])
    }

    /// The assertion: on success the session is replaced (a new cookie) and the answer names the
    /// next page; a refusal answers 401 with the reason in words.
    func signInKey(_ call: Call) async -> Response {
        guard let token = call.token, call.session?.stage == .code else {
            return plain("The sign-in has ended: start again with the password.", status: .unauthorized)
        }
        do {
            try requireSecureTransport(call)
            guard let id = Base64URL.decode(call.form["credentialId"] ?? ""), let data = Base64URL.decode(call.form["authenticatorData"] ?? ""),
                  let client = Base64URL.decode(call.form["clientDataJSON"] ?? ""), let signature = Base64URL.decode(call.form["signature"] ?? "")
            else { throw Problem(status: .badRequest, message: "The browser's answer is incomplete.") }
            guard let (newToken, record) = try await registry.securityKeys.consoleVerifySecurityKey(
                token: token, credentialID: id, authenticatorData: data, clientDataJSON: client, signature: signature,
                rp: relyingParty, source: call.source)
            else { return plain("The sign-in has ended: start again with the password.", status: .unauthorized) }
            s3.metrics.securityKey("passed")
            s3.metrics.consoleSignIn(.success)
            var response = plain(record.stage == .newPassword ? "/password" : "/home")
            response.headers.append(HTTPField(name: .setCookie, value: cookie(call, call.sessionCookie, newToken)))
            return response
        } catch let error as WebAuthnError {
            s3.metrics.securityKey(error.reason.rawValue)
            s3.metrics.consoleSignIn(.wrongCode)
            let text = error.reason == .counterNotIncreasing
                ? "This security key was refused: its signature counter went backwards, which can mean it was cloned. "
                    + "The attempt is in the audit log."
                : "This security key was refused: \(error.message)."
            return plain(text, status: .unauthorized)
        } catch {
            return plain(Self.words(error), status: Self.status(of: error))
        }
    }
}
