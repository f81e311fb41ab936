import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The connection's two clocks, one timer:
/// - a request head (request line and headers) must arrive whole within `timeout` once its first
///   byte has: a client that trickles one header line every few seconds (slowloris) is cut off,
///   whatever it trickles;
/// - a connection with no request in progress and no byte of a new one for `idleTimeout` is
///   closed (this replaces Hummingbird's idle timeout, which cannot see the requests `WireReads`
///   answers before its HTTP decoder).
///
/// Two handlers share one state per connection, on its event loop: `Bytes` sits first in the
/// pipeline and starts the head clock when bytes arrive while a head is awaited; `Heads` sits after
/// the HTTP decoder and stops it when the decoded head arrives, and awaits the next head once a
/// response has ended. `WireReads` reports the heads and answers it reads itself.
///
/// The clocks are time stamps, not a timer per request: one timer per connection, armed for the
/// earliest due time when none is armed that early, checks the state when it fires and re-arms
/// for what is then due (scheduling and cancelling a task on every request cost more than the rest
/// of a small GET's bookkeeping).
final class HeadDeadline {
    private let timeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private var awaitingHead = true
    /// When the first byte of the head now awaited arrived; nil while none is.
    private var headStarted: NIODeadline?
    /// Since when the connection has been idle (awaiting a head of which no byte has come).
    private var idleSince: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?

    init(timeout: TimeAmount, idleTimeout: TimeAmount? = nil) {
        self.timeout = timeout
        self.idleTimeout = idleTimeout
    }

    /// The connection is open and awaits its first request.
    func started(_ context: ChannelHandlerContext) {
        guard awaitingHead, headStarted == nil, let idleTimeout else { return }
        let now = NIODeadline.now()
        idleSince = now
        arm(context.eventLoop, context.channel, at: now + idleTimeout)
    }

    func bytesArrived(_ context: ChannelHandlerContext) {
        guard awaitingHead, headStarted == nil else { return }
        let now = NIODeadline.now()
        headStarted = now
        idleSince = nil
        arm(context.eventLoop, context.channel, at: now + timeout)
    }

    /// Arms the timer for `deadline` unless it is armed already for no later.
    private func arm(_ eventLoop: EventLoop, _ channel: Channel, at deadline: NIODeadline) {
        if let timerDue, timer != nil {
            guard deadline < timerDue else { return }
            timer?.cancel()
        }
        timerDue = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDue = nil
            let due: NIODeadline
            if let started = headStarted {
                due = started + timeout
            } else if let since = idleSince, let idleTimeout {
                due = since + idleTimeout
            } else {
                return  // a request in progress: stay disarmed until its response ends
            }
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
        idleSince = nil
    }

    func responseEnded(_ eventLoop: EventLoop, _ channel: Channel) {
        awaitingHead = true
        guard let idleTimeout else { return }
        let now = NIODeadline.now()
        idleSince = now
        arm(eventLoop, channel, at: now + idleTimeout)
    }

    func stop() {
        headStarted = nil
        idleSince = nil
        timer?.cancel()
        timer = nil
        timerDue = nil
    }

    /// First in the pipeline: sees raw (possibly encrypted) bytes.
    final class Bytes: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let state: HeadDeadline
        init(_ state: HeadDeadline) { self.state = state }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { state.started(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            state.started(context)
            context.fireChannelActive()
        }

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
            if case .end = unwrapOutboundIn(data) { state.responseEnded(context.eventLoop, context.channel) }
            context.write(data, promise: promise)
        }
    }
}
