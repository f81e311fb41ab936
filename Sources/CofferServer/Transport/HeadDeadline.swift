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
///
/// The clock is a time stamp, not a timer per request: one timer per connection, armed when a
/// head starts and none is armed, checks the head then awaited when it fires and re-arms for it
/// (scheduling and cancelling a task on every request cost more than the rest of a small GET's
/// bookkeeping).
final class HeadDeadline {
    private let timeout: TimeAmount
    private var awaitingHead = true
    /// When the first byte of the head now awaited arrived; nil while none is.
    private var headStarted: NIODeadline?
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func bytesArrived(_ context: ChannelHandlerContext) {
        guard awaitingHead, headStarted == nil else { return }
        let now = NIODeadline.now()
        headStarted = now
        if timer == nil { arm(context.eventLoop, context.channel, at: now + timeout) }
    }

    private func arm(_ eventLoop: EventLoop, _ channel: Channel, at deadline: NIODeadline) {
        timer = eventLoop.scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard let started = headStarted else { return }  // no head awaited: stay disarmed
            let due = started + timeout
            if due <= .now() {
                channel.close(promise: nil)
            } else {
                arm(eventLoop, channel, at: due)
            }
        }
    }

    func headArrived() {
        awaitingHead = false
        headStarted = nil
    }

    func responseEnded() { awaitingHead = true }

    func stop() {
        headStarted = nil
        timer?.cancel()
        timer = nil
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
