import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// A request head (request line and headers) must arrive whole within a deadline once its first
/// byte has: a client that trickles one header line every few seconds (slowloris) is cut off,
/// whatever it trickles. The idle timeout still governs silent keep-alive connections.
///
/// Two handlers share one state per connection, on its event loop: `Bytes` sits first in the
/// pipeline and starts the clock when bytes arrive while a head is awaited; `Heads` sits after
/// the HTTP decoder and stops it when the decoded head arrives, and awaits the next head once a
/// response has ended.
final class HeadDeadline {
    private let timeout: TimeAmount
    private var awaitingHead = true
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func bytesArrived(_ context: ChannelHandlerContext) {
        guard awaitingHead, deadline == nil else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func headArrived() {
        awaitingHead = false
        deadline?.cancel()
        deadline = nil
    }

    func responseEnded() { awaitingHead = true }

    func stop() {
        deadline?.cancel()
        deadline = nil
    }

    /// First in the pipeline: sees raw (possibly encrypted) bytes.
    final class Bytes: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let state: HeadDeadline
        init(_ state: HeadDeadline) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            state.bytesArrived(context)
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.stop()
            context.fireChannelInactive()
        }
    }

    /// After the HTTP decoder: sees whole heads and the ends of responses.
    final class Heads: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart
        let state: HeadDeadline
        init(_ state: HeadDeadline) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data) { state.headArrived() }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { state.responseEnded() }
            context.write(data, promise: promise)
        }
    }
}
