import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The connection's two clocks, one timer:
/// - a request head (request line and headers) must arrive whole within `timeout` once its first
///   byte has: a client that trickles one header line every few seconds (slowloris) is cut off,
///   whatever it trickles;
/// - `idleTimeout`, Hummingbird's rule (which this replaces, so that one timer keeps both clocks):
///   a connection is closed when it has been silent
///   that long with no request in progress, or while a request's body is still to come. A request
///   read whole and still being answered is never cut off.
///
/// Two handlers share one state per connection, on its event loop: `Bytes` sits first in the
/// pipeline and starts the head clock when bytes arrive while a head is awaited; `Heads` sits after
/// the HTTP decoder and counts heads, request ends and response ends. `InPlaceReads` reports the
/// requests it answers itself (none of which is ever in progress past its answer).
///
/// The clocks are time stamps, not a timer per request: one timer per connection, armed for the
/// earliest due time when none is armed that early, checks the state when it fires and re-arms
/// for what is then due (scheduling and cancelling a task on every request cost more than the rest
/// of a small GET's bookkeeping). Time is the event loop's (`EventLoop.now`), so the clocks run
/// on an `EmbeddedEventLoop`'s virtual time in tests.
final class HeadDeadline {
    private let timeout: TimeAmount
    private let idleTimeout: TimeAmount?
    /// Requests whose head has arrived and whose response has not ended (pipelining: several).
    private var inProgress = 0
    /// A request's head has arrived and its end not yet: its body is still to come.
    private var bodyBeingRead = false
    /// When the first byte of the head now awaited arrived; nil while none is.
    private var headStarted: NIODeadline?
    /// What the idle clock counts from: the connection's start, a head, the last bytes of a body,
    /// or the end of the last response.
    private var lastActive = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?
    private var stopped = false

    init(timeout: TimeAmount, idleTimeout: TimeAmount? = nil) {
        self.timeout = timeout
        self.idleTimeout = idleTimeout
    }

    private var awaitingHead: Bool { inProgress == 0 && !bodyBeingRead }

    /// The connection is open and awaits its first request.
    func started(_ context: ChannelHandlerContext) {
        lastActive = context.eventLoop.now
        armIdle(context.eventLoop, context.channel)
    }

    func bytesArrived(_ context: ChannelHandlerContext) {
        if bodyBeingRead {
            lastActive = context.eventLoop.now
            return
        }
        guard awaitingHead, headStarted == nil, !stopped else { return }
        let now = context.eventLoop.now
        headStarted = now
        arm(context.eventLoop, context.channel, at: now + timeout)
    }

    private func armIdle(_ eventLoop: EventLoop, _ channel: Channel) {
        if let idleTimeout { arm(eventLoop, channel, at: lastActive + idleTimeout) }
    }

    /// Arms the timer for `deadline` unless it is armed already for no later.
    private func arm(_ eventLoop: EventLoop, _ channel: Channel, at deadline: NIODeadline) {
        guard !stopped else { return }
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
            } else if inProgress > 0, !bodyBeingRead {
                return  // read whole and being answered: re-armed when the response ends
            } else if let idleTimeout {
                due = lastActive + idleTimeout
            } else {
                return
            }
            if due <= eventLoop.now {
                channel.close(promise: nil)
            } else {
                arm(eventLoop, channel, at: due)
            }
        }
    }

    /// A head from the decoder: a request in progress, its body (if any) still to come.
    func headArrived(_ eventLoop: EventLoop, _ channel: Channel) {
        inProgress += 1
        bodyBeingRead = true
        headStarted = nil
        lastActive = eventLoop.now
        armIdle(eventLoop, channel)
    }

    /// The end of a request from the decoder: read whole.
    func requestEnded() { bodyBeingRead = false }

    func responseEnded(_ eventLoop: EventLoop, _ channel: Channel) {
        // An answer to a request never counted (Hummingbird's 400 after a parse error) leaves zero.
        if inProgress > 0 { inProgress -= 1 }
        guard inProgress == 0 else { return }
        lastActive = eventLoop.now
        armIdle(eventLoop, channel)
    }

    /// A request `InPlaceReads` answered before the handlers that count heads saw it: none is in
    /// progress after it.
    func answeredInPlace(_ eventLoop: EventLoop, _ channel: Channel) {
        headStarted = nil
        lastActive = eventLoop.now
        armIdle(eventLoop, channel)
    }

    func stop() {
        stopped = true
        headStarted = nil
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

    /// After the HTTP decoder: sees whole heads, the ends of requests and the ends of responses.
    final class Heads: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart
        let state: HeadDeadline
        init(_ state: HeadDeadline) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: state.headArrived(context.eventLoop, context.channel)
            case .body: break
            case .end: state.requestEnded()
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { state.responseEnded(context.eventLoop, context.channel) }
            context.write(data, promise: promise)
        }
    }
}
