import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Runs each connection's request handling on the event loop that owns its socket.
///
/// Hummingbird handles a connection in a task on Swift's global executor, so every request crosses
/// threads twice (the request parts from the event loop to the task, the response parts back).
/// On small requests those hops — a futex wake and a context switch each — cost more than the work.
/// With the connection's event loop as the task's executor preference the whole exchange stays on
/// one thread. Handlers must then not block: file I/O and fsyncs go to the I/O thread pool
/// (`Offload`), database commits run on the group-commit queue, and only short reads of
/// SQLite's cached pages happen in place.
///
/// The pipeline is Hummingbird's HTTP/1 channel with four changes: `HTTPTypesCodec` in place of
/// swift-nio-extras' codec (the same reading, cheaper), `HostCheck` and `InPlaceReads` (with an
/// in-place responder) in front of it, and `HeadDeadline` watching every connection's head and idle
/// clocks (Hummingbird's idle timeout is off: it cannot see a slow head, nor the requests answered
/// in place).
///
/// One HTTP parser reads every request: NIO's (llhttp). With an in-place responder, NIO's decoder
/// is not paired with its encoder (`configureHTTPServerPipeline` pairs them so that the encoder
/// drops the body of an answer to `HEAD`): the answers given in place are bytes written below the
/// encoder, which would leave the pairing one request behind for every one of them. The S3
/// responder frames its own `HEAD` answers (a length, no body), as it did before NIO paired them,
/// and `InPlaceReads` keeps the body and end of any answer to a HEAD from the encoder.
struct EventLoopChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let inPlace: InPlaceReads.Responder?
    /// The decoder's limits, as Hummingbird's channel sets them.
    let decoderLimits: NIOHTTPDecoderLimitConfiguration
    /// How long a request head may take to arrive once its first byte has (`HeadDeadline`).
    let headTimeout: TimeAmount
    /// How long a connection may be idle between requests.
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let state = try operations.context(handlerType: HTTPConnectionStateHandler.self)
            let deadline = HeadDeadline(timeout: headTimeout, idleTimeout: idleTimeout)
            let extrasCodec = try operations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            let codec = HTTPTypesCodec()
            try operations.addHandler(codec, position: .before(extrasCodec.handler))
            operations.removeHandler(context: extrasCodec, promise: nil)
            try operations.addHandler(HostCheck(), position: .before(codec))
            if let inPlace {
                // The paired decoder leaves in a task on the loop: this runs as the channel is set
                // up, before it is registered, so no byte is read while both are there.
                let paired = try operations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try operations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes,
                                                                                  limitConfiguration: decoderLimits)),
                                          position: .after(paired.handler))
                operations.removeHandler(context: paired, promise: nil)
                try operations.addHandler(InPlaceReads(responder: inPlace, deadline: deadline), position: .before(codec))
            }
            try operations.addHandler(HeadDeadline.Bytes(deadline), position: .first)
            try operations.addHandler(HeadDeadline.Heads(deadline), position: .after(state.handler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

/// An event loop seen as a task executor: jobs run on the loop's thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with each connection's handling kept on its event loop, and the requests
    /// `inPlace` answers answered in the pipeline.
    /// `configuration`'s idle timeout is replaced by `idleTimeout`, kept by `HeadDeadline`.
    static func http1OnEventLoop(configuration: HTTP1Channel.Configuration, inPlace: InPlaceReads.Responder? = nil,
                                 headTimeout: TimeAmount = .seconds(30), idleTimeout: TimeAmount) -> HTTPServerBuilder {
        var withoutIdle = configuration
        withoutIdle.idleTimeout = nil
        let configuration = withoutIdle
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
        limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
        limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
        let decoderLimits = limits
        return .init { responder in
            EventLoopChannel(base: HTTP1Channel(responder: responder, configuration: configuration), inPlace: inPlace,
                             decoderLimits: decoderLimits, headTimeout: headTimeout, idleTimeout: idleTimeout)
        }
    }
}
