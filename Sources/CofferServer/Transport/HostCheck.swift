import NIOCore
import NIOHTTP1

/// RFC 9112 §3.2: a 400 for an HTTP/1.1 request without `Host`, for any request with more than
/// one `Host` line, and for a `Host` whose value is not `uri-host [":" port]`. HTTP/1.0 without
/// `Host` is still served. Sits between NIO's decoder and the conversion to HTTP types (which
/// keeps only the first `Host` as the authority): the refused head goes no further, Hummingbird
/// answers the parser error with 400 and `Connection: close`, and nothing after it on the
/// connection is read.
final class HostCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        if case .head(let head) = unwrapInboundIn(data), !Self.acceptable(head) {
            refused = true
            context.fireErrorCaught(HTTPParserError.invalidHeaderToken)
            return
        }
        context.fireChannelRead(data)
    }

    static func acceptable(_ head: HTTPRequestHead) -> Bool {
        // One pass, no array of values (NIO's subscript makes one).
        var host: String?
        for (name, value) in head.headers where HTTPTypesCodec.equalsIgnoringCase(name, "host") {
            guard host == nil else { return false }
            host = value
        }
        guard let host else { return (head.version.major, head.version.minor) < (1, 1) }
        return HostHeader.split(host) != nil
    }
}
