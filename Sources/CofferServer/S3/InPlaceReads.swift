import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers small-object GET and HEAD requests on the event loop, in the channel pipeline, without
/// handing them to Hummingbird's per-connection task.
///
/// Each request Hummingbird serves crosses into its async world and back: the parts go through an
/// async sequence, the response through an async writer, with a task resumption at every step. For
/// a 4 KiB GET that bridge costs more than the S3 work. This handler sits between Hummingbird's
/// connection-state handler (which still sees every request and response, so keep-alive, idle
/// timeouts and graceful shutdown behave as before) and the bridge. A GET or HEAD whose answer is
/// ready at once is answered here; every other request — and every request that would not be a
/// success — goes on to Hummingbird unchanged.
///
/// Responses leave in request order: while a request handed on is unanswered, later requests are
/// handed on too (HTTP pipelining).
final class InPlaceReads: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The request, and its connection's peer address (`SocketAddress.ipAddress`).
    typealias Responder = @Sendable (HTTPRequest, String?) -> (HTTPResponse, ArraySlice<UInt8>?)?

    private let responder: Responder
    /// Requests handed on whose response has not ended.
    private var handedOn = 0
    /// A GET or HEAD held until its end arrives.
    private var held: HTTPRequest?
    private var needsFlush = false
    /// The end of the last answer written here, until it is out.
    private var lastAnswer: EventLoopFuture<Void>?
    private var peer = PeerAddress()

    init(responder: @escaping Responder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // A client that does not read its responses gets them through Hummingbird's writer,
            // which waits for the socket to drain (and so stops reading more requests).
            // `Connection: close` is Hummingbird's to honour; a GET that announces a body (which
            // might wait for `100 Continue` or for an answer before sending it) goes there too.
            let fields = head.headerFields
            if handedOn == 0, head.method == .get || head.method == .head, context.channel.isWritable,
               !(fields[.connection]?.lowercased().contains("close") ?? false),
               fields[.transferEncoding] == nil, (fields[.contentLength] ?? "0") == "0" {
                held = head
                return
            }
            handOn(context: context, data)
        case .body:
            // A body on a GET: not ours to answer.
            if let head = held {
                held = nil
                handOn(context: context, wrapInboundOut(.head(head)))
            }
            context.fireChannelRead(data)
        case .end:
            guard let head = held else {
                context.fireChannelRead(data)
                return
            }
            held = nil
            guard let (response, body) = responder(head, peer.ip(of: context.channel)) else {
                handOn(context: context, wrapInboundOut(.head(head)))
                context.fireChannelRead(data)
                return
            }
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if let body { context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil) }
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(.end(nil)), promise: written)
            lastAnswer = written.futureResult
            needsFlush = true
        }
    }

    private func handOn(context: ChannelHandlerContext, _ head: NIOAny) {
        handedOn += 1
        context.fireChannelRead(head)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // An end from upstream finishes the oldest request handed on. (An answer to a request that
        // was never handed on — Hummingbird's 400 after a parse error — leaves the count at zero.)
        if case .end = unwrapOutboundIn(data), handedOn > 0 { handedOn -= 1 }
        context.write(data, promise: promise)
    }

    /// A client that pipelines requests and then half-closes: Hummingbird's task ends at the end
    /// of input and closes the connection, which would drop answers of ours still being written.
    /// The end of input goes on once they are out.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, let pending = lastAnswer {
            lastAnswer = nil
            if needsFlush {  // an answer to a request decoded at the end of input, not yet flushed
                needsFlush = false
                context.flush()
            }
            pending.assumeIsolated().whenComplete { _ in context.fireUserInboundEventTriggered(event) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
