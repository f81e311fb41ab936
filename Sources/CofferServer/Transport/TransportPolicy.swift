import CofferEngine
import Hummingbird
import HTTPTypes
import NIOCore

/// AWS requires HTTPS for `x-amz-mfa`. Coffer applies that rule to every request that carries an
/// MFA code or returns a secret (seeds and QR codes, secret access keys, session credentials): over
/// plain HTTP only from a loopback peer (127.0.0.0/8, ::1, ::ffff:127.0.0.1) or with
/// `--allow-insecure-mfa`. A request carrying `Forwarded` or `X-Forwarded-For` is not loopback
/// unless its sender is a `--trusted-proxy`; then its `X-Forwarded-Proto` decides.
struct TransportPolicy: Sendable {
    var isTLS = false
    var allowInsecureMFA = false
    var trustedProxies: Set<String> = []

    func context(for request: Request, peer: SocketAddress?, requestID: String) -> ConnectionInfo {
        let peerIP = peer?.ipAddress
        let forwarded = request.headers[HTTPField.Name("Forwarded")!] != nil
            || request.headers[HTTPField.Name("X-Forwarded-For")!] != nil
        var source = peerIP
        if forwarded, let forwardedFor = request.headers[HTTPField.Name("X-Forwarded-For")!] {
            source = "\(forwardedFor.split(separator: ",").first.map(String.init) ?? forwardedFor) via \(peerIP ?? "?")"
        }
        return ConnectionInfo(insecureMFAReason: reason(peerIP: peerIP, forwarded: forwarded, request: request),
                              source: source, requestID: requestID)
    }

    func reason(peerIP: String?, forwarded: Bool, request: Request) -> String? {
        if isTLS || allowInsecureMFA { return nil }
        if forwarded {
            guard let peerIP, trustedProxies.contains(peerIP) else {
                return "\(Self.subject) must use HTTPS: this one was forwarded by a proxy Coffer does not trust "
                    + "(see --trusted-proxy)."
            }
            let proto = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased()
            return proto == "https" ? nil : "\(Self.subject) must use HTTPS (X-Forwarded-Proto is not https)."
        }
        if let peerIP, Self.isLoopback(peerIP) { return nil }
        return "\(Self.subject) must use HTTPS; plain HTTP is accepted only from loopback clients "
            + "(or with --allow-insecure-mfa)."
    }

    static let subject = "Requests that carry an MFA code (x-amz-mfa, TokenCode, AuthenticationCode) or return a secret "
        + "(a seed, a secret access key, session credentials)"

    static func isLoopback(_ ip: String) -> Bool {
        ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
