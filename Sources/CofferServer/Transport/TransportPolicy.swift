import Foundation
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
        context(for: request.head, peer: peer, requestID: requestID)
    }

    func context(for head: HTTPRequest, peer: SocketAddress?, requestID: String) -> ConnectionInfo {
        context(for: head, peerIP: peer?.ipAddress, requestID: requestID)
    }

    /// `peerIP`: the connection's peer address, as `SocketAddress.ipAddress` gives it.
    func context(for head: HTTPRequest, peerIP: String?, requestID: String) -> ConnectionInfo {
        let fields = head.headerFields
        let forwardedFor = fields.value(Self.forwardedFor)
        let forwarded = forwardedFor != nil || fields.has(Self.forwardedHeader)
        var source = peerIP
        var sourceIP = peerIP
        var secure = isTLS
        // Forwarded addresses are believed (and stored) only from a trusted proxy; otherwise the
        // source is the peer, whatever the headers say (they are the client's to fill).
        if forwarded, let peerIP, trustedProxies.contains(peerIP) {
            // The client is the last hop a trusted proxy did not add: read from the right, past
            // trusted proxies (the left end is whatever the client chose to send). Only the last
            // 4 KiB and the last 64 hops are read — from the right, so that padding on the left
            // cannot push the proxy's own hop out — and only an IP address is taken.
            var text = Substring(forwardedFor ?? "")
            if text.utf8.count > 4096 {
                text = Substring(String(decoding: text.utf8.suffix(4096), as: UTF8.self))
                text = text.drop { $0 != "," }  // the first, cut hop is no hop
            }
            let hops = text.split(separator: ",").suffix(64).map { $0.trimmingCharacters(in: .whitespaces) }
            if let client = hops.last(where: { !trustedProxies.contains($0) }), IPLiteral.isAddress(client) {
                sourceIP = client
                source = "\(client) via \(peerIP)"
            }
            secure = fields.value(Self.forwardedProto)?.lowercased() == "https"
        }
        return ConnectionInfo(insecureMFAReason: reason(peerIP: peerIP, forwarded: forwarded, fields: fields),
                              source: source, requestID: requestID, secureTransport: secure, sourceIP: sourceIP,
                              userAgent: fields.value(.userAgent))
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwardedHeader = HTTPField.Name("Forwarded")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    func reason(peerIP: String?, forwarded: Bool, fields: HTTPFields) -> String? {
        if isTLS || allowInsecureMFA { return nil }
        if forwarded {
            guard let peerIP, trustedProxies.contains(peerIP) else {
                return "\(Self.subject) must use HTTPS: this one was forwarded by a proxy Coffer does not trust "
                    + "(see --trusted-proxy)."
            }
            let proto = fields.value(Self.forwardedProto)?.lowercased()
            return proto == "https" ? nil : "\(Self.subject) must use HTTPS (X-Forwarded-Proto is not https)."
        }
        if let peerIP, IPLiteral.isLoopback(peerIP) { return nil }
        return "\(Self.subject) must use HTTPS; plain HTTP is accepted only from loopback clients "
            + "(or with --allow-insecure-mfa)."
    }

    static let subject = "Requests that carry an MFA code (x-amz-mfa, TokenCode, AuthenticationCode) or return a secret "
        + "(a seed, a secret access key, session credentials)"
}

/// A connection's peer address as `TransportPolicy` takes it (`SocketAddress.ipAddress`), read from
/// the channel once: the handlers that answer in place ask for it on every request.
struct PeerAddress {
    private var known = false
    private var address: String?

    mutating func ip(of channel: Channel) -> String? {
        if !known {
            known = true
            address = channel.remoteAddress?.ipAddress
        }
        return address
    }
}
