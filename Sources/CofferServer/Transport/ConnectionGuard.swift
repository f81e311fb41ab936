import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Connection-level care Hummingbird leaves to us:
/// - answers `Expect: 100-continue` at once (botocore otherwise waits a full second per PUT);
/// - after a malformed request (an HTTP parse error), closes the connection soon after the 400
///   goes out. Hummingbird half-closes and waits for the client to close, which a client still
///   blocked sending its body never does.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    static let closeDelay = TimeAmount.milliseconds(200)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), head.method == .put || head.method == .post,
           head.headerFields[.expect]?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            let channel = context.channel
            context.eventLoop.scheduleTask(in: Self.closeDelay) { channel.close(promise: nil) }
        }
        context.fireErrorCaught(error)
    }
}
