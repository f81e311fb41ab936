import AsyncHTTPClient
import CofferCore
import CofferIAM
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// SMS delivery through an HTTP webhook: each message is POSTed as JSON to a relay the operator
/// runs (which hands it to an SMS provider), signed so that the relay can tell it came from this
/// Coffer:
///
///     X-Coffer-Timestamp: <Unix seconds>
///     X-Coffer-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
///
/// A relay recomputes the HMAC over the exact body bytes, compares in constant time, and refuses
/// timestamps more than 5 minutes old (a replayed request). Each attempt may take 2.5 seconds;
/// a connection failure, a timeout, a 429 or a 5xx is retried twice more after 0.25 and 0.5 s, so
/// a failure is known within 10 seconds. Redirects are not followed (the signed body goes only
/// where it was configured to go). A retried message keeps its `id` (in the signed body and in
/// `X-Coffer-Message-Id`): a relay that answered too late the first time de-duplicates on it.
public final class SMSWebhook: SMSDelivery {
    public let url: String
    let secret: SymmetricKey
    let client: HTTPClient
    public var name: String { "webhook" }

    static let attemptTimeout = TimeAmount.milliseconds(2500)
    static let backoffs: [Duration] = [.milliseconds(250), .milliseconds(500)]

    /// `url` must be https, or http to a relay on this host (the body holds the number and the
    /// code); `secret` at least 16 bytes.
    public init(url: String, secret: [UInt8]) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parsed.host, !host.isEmpty
        else { throw SMSDeliveryError("the SMS webhook must be an https:// URL (or http:// to a relay on this host)") }
        guard scheme == "https" || ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased()) else {
            throw SMSDeliveryError("the SMS webhook carries phone numbers and codes: use https://, or http:// only to a relay "
                + "on this host (127.0.0.1, ::1, localhost)")
        }
        guard secret.count >= 16 else { throw SMSDeliveryError("the SMS webhook secret must have at least 16 bytes") }
        self.url = url
        self.secret = SymmetricKey(data: secret)
        // Lives as long as the process (a server's delivery is never replaced).
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2), read: .seconds(2))))
    }

    /// The signature header's value for `body` sent at `timestamp` (what a relay recomputes).
    public static func signature(secret: SymmetricKey, timestamp: String, body: [UInt8]) -> String {
        "v1=" + hexString(HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: secret))
    }

    public func deliver(_ message: SMSMessage) async throws {
        let body = message.json
        var reason = "no answer"
        for attempt in 0...Self.backoffs.count {
            if attempt > 0 { try await Task.sleep(for: Self.backoffs[attempt - 1]) }
            let timestamp = String(Int64(Date().timeIntervalSince1970))
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Coffer-SMS-Webhook/1")
            request.headers.add(name: "X-Coffer-Message-Id", value: message.id)
            request.headers.add(name: "X-Coffer-Timestamp", value: timestamp)
            request.headers.add(name: "X-Coffer-Signature", value: Self.signature(secret: secret, timestamp: timestamp, body: body))
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await client.execute(request, timeout: Self.attemptTimeout)
                let status = response.status.code
                // The relay's answer is read only to free the connection (at most 64 KiB, within the
                // attempt's deadline): its status is what counts.
                _ = try? await response.body.collect(upTo: 65_536)
                if (200..<300).contains(status) { return }
                reason = "the webhook answered \(status)"
                // 4xx other than 429: the relay refused this message; trying again will not help.
                if (400..<500).contains(status), status != 429 { break }
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
                || error == .connectTimeout {
                reason = "the webhook did not answer in time"
            } catch {
                reason = "the webhook could not be reached"
            }
        }
        throw SMSDeliveryError(reason)
    }
}
