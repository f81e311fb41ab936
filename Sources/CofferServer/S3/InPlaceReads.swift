import CofferStore
import HTTPTypes
import NIOCore
import NIOHTTP1
import Synchronization

/// Answers small-object GET and HEAD requests on the event loop, in the channel pipeline, without
/// handing them to Hummingbird.
///
/// Each request Hummingbird serves crosses into its async world and back: the parts go through an
/// async sequence, the response through an async writer, with a task resumption at every step,
/// and every part through the codec and connection-state handlers. For a 4 KiB GET that costs more
/// than the S3 work. This handler sits right after NIO's HTTP decoder (and `HostCheck`), where the
/// request head NIO read is whole: a GET or HEAD whose answer is ready at once is answered here;
/// every other request — and every request that would not be a success — goes on, untouched, to
/// the codec and Hummingbird. One HTTP parser (NIO's) reads every request either way.
///
/// An answer given here is bytes, written below NIO's response encoder: the status line and the
/// headers of this response alone, then the rest of the head and the body as one buffer shared by
/// every answer of the object (`PreparedAnswer`). Through the encoder, the same answer cost a
/// copy of the shared headers, the encoder's copy of them again (it takes the framing headers out
/// of a head it does not own) and their serialization, on every request: a sixth of a small GET's
/// server time. So the decoder on this pipeline is not paired with the encoder (`EventLoopChannel`),
/// and the encoder no longer knows which answers are to a HEAD: this handler, which sees every
/// request handed on and every answer to one, in order, keeps the body and the end of an answer to
/// a HEAD from the encoder (RFC 9110 §9.3.2: none is sent, and no chunked terminator either), as
/// NIO's pairing did. The S3 responder frames its HEAD answers itself (a length, no body); this is
/// the net under it.
///
/// Only a plain exchange is answered here: HTTP/1.1, keep-alive, no body, no `Expect`, while the
/// socket takes writes (a client that does not read its responses gets them through Hummingbird's
/// writer, which waits for the socket to drain and so stops reading more requests).
///
/// Responses leave in request order: while a request handed on is unanswered (its response's end
/// has not come back down through here), later requests are handed on too (HTTP pipelining).
/// A half-close or the server's quiescing goes on once the answers written here are out
/// (Hummingbird, which never saw these requests, would otherwise close the connection under them).
///
/// A request is verified once. When the responder has checked a request's signature and then
/// declines it (a body kept in a file, a missing key, a refusal — all answered on the general
/// path), the outcome goes on with the request in `handOff`, and the general path takes it
/// instead of verifying again (`S3Responder.respond`).
final class InPlaceReads: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The request, and its connection's peer address (`SocketAddress.ipAddress`).
    typealias Responder = @Sendable (HTTPRequest, String?) -> Answer

    enum Answer {
        /// A success, answered here, as the response's bytes: `head`, the status line and the
        /// headers of this response alone, then `rest`, the other headers, the blank line and the
        /// body (`PreparedAnswer`).
        case answered(head: ByteBuffer, rest: ByteBuffer)
        /// Not answered here; the signature check's outcome when it ran.
        case declined(Result<Authentication, any Error>?)
    }

    private let responder: Responder
    private let deadline: HeadDeadline?
    let handOff = HandOff()
    /// Whether each request handed on and not yet answered (its final head not yet written) is a
    /// HEAD, in order.
    private var handedOnHeads: [Bool] = []
    /// The answer from upstream being written (its final head out, its end not yet): whether it is
    /// to a HEAD. Nil between answers, and during an answer to a request never handed on
    /// (Hummingbird's 400 after a parse error).
    private var answering: Bool?
    /// Requests handed on whose response has not ended.
    private var handedOn: Int { handedOnHeads.count + (answering == nil ? 0 : 1) }
    /// A GET or HEAD held until its end arrives.
    private var held: HTTPRequestHead?
    private var needsFlush = false
    /// A flush of answers written here waits for the end of the event loop's turn: every
    /// connection's reads of the turn are answered, then each connection's answers are flushed
    /// (NIO runs tasks after the turn's I/O). Until then a flush from upstream sends them too.
    /// Only where the peer's half-close is an event (Hummingbird allows it): without it, NIO
    /// closes a connection whose input ended right after the read, before the turn ends, and the
    /// answers to the last requests would be dropped — there they are flushed at once.
    private var flushScheduled = false
    private var defersFlush = false
    private var removed = false
    /// Whether an answer was written here since the connection began.
    private var answered = false
    /// The response encoder's context: answers written there go out below the encoder, and the end
    /// of input waits there for them to be out. Without an encoder nothing is answered here.
    private var encoder: ChannelHandlerContext?
    /// Whether anything read went on since the last end of a read.
    private var forwarded = false
    private var peer = PeerAddress()

    init(responder: @escaping Responder, deadline: HeadDeadline? = nil) {
        self.responder = responder
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        defersFlush = (try? context.channel.syncOptions?.getOption(ChannelOptions.allowRemoteHalfClosure)) ?? false
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        encoder = nil
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if handedOn == 0, encoder != nil, head.method == .GET || head.method == .HEAD, head.version == .http1_1,
               head.isKeepAlive, context.channel.isWritable, Self.hasNoBody(head.headers) {
                held = head
                return
            }
            handOn(context: context, head)
        case .body:
            // A body on a GET: not ours to answer.
            if let head = held {
                held = nil
                handOn(context: context, head)
            }
            forward(context: context, data)
        case .end:
            guard let head = held else {
                forward(context: context, data)
                return
            }
            held = nil
            guard let request = try? HTTPTypesCodec.request(head) else {
                handOn(context: context, head)
                forward(context: context, data)
                return
            }
            switch responder(request, peer.ip(of: context.channel)) {
            case .answered(let answerHead, let rest):
                guard let encoder else {  // never: heads are held only with an encoder
                    handOn(context: context, head)
                    forward(context: context, data)
                    return
                }
                encoder.write(NIOAny(answerHead), promise: nil)
                encoder.write(NIOAny(rest), promise: nil)
                answered = true
                needsFlush = true
                deadline?.answeredInPlace(context.eventLoop, context.channel)
            case .declined(let verified):
                if let verified { handOff.record(request, verified) }
                handOn(context: context, head)
                forward(context: context, data)
            }
        }
    }

    /// No framing that announces a body, and nothing that waits for an interim answer.
    static func hasNoBody(_ headers: HTTPHeaders) -> Bool {
        for (name, value) in headers {
            if HTTPTypesCodec.equalsIgnoringCase(name, "content-length") {
                guard value == "0" else { return false }
            } else if HTTPTypesCodec.equalsIgnoringCase(name, "transfer-encoding")
                        || HTTPTypesCodec.equalsIgnoringCase(name, "expect")
                        || HTTPTypesCodec.equalsIgnoringCase(name, "upgrade") {
                return false
            }
        }
        return true
    }

    private func handOn(context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        handedOnHeads.append(head.method == .HEAD)
        forward(context: context, wrapInboundOut(.head(head)))
    }

    private func forward(context: ChannelHandlerContext, _ part: NIOAny) {
        forwarded = true
        context.fireChannelRead(part)
    }

    /// The handlers after this one hear of the end of a read only when they were given something
    /// read (Hummingbird's async bridge wakes its reader for each).
    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            if !defersFlush {
                context.flush()
            } else if !flushScheduled {
                flushScheduled = true
                context.eventLoop.assumeIsolated().execute {
                    self.flushScheduled = false
                    if !self.removed { context.flush() }
                }
            }
        }
        if forwarded {
            forwarded = false
            context.fireChannelReadComplete()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            // A final head answers the oldest request handed on (an interim 1xx does not; 101 is
            // final). An answer to a request that was never handed on finds none.
            let code = response.status.code
            if !(100..<200).contains(code) || code == 101 {
                answering = handedOnHeads.isEmpty ? nil : handedOnHeads.removeFirst()
            }
        case .body:
            if answering == true {  // never sent: the answer to a HEAD has no body
                promise?.succeed(())
                return
            }
        case .end:
            // The end of the answer being written: its request is done.
            let toHead = answering == true
            answering = nil
            if toHead {
                // Nor an end: past a head without a length NIO's encoder would write a chunked
                // terminator the client never reads (with a length it writes nothing).
                promise?.succeed(())
                return
            }
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        // Answers of ours written before are ahead in the same queue: one flush sends both.
        needsFlush = false
        context.flush()
    }

    /// The end of input, or the server quiescing: Hummingbird closes the connection at once when it
    /// has no request in progress (and it never saw the ones answered here), which would drop
    /// answers still being written. The event goes on once they are out.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let ends: Bool
        if case ChannelEvent.inputClosed = event { ends = true } else { ends = event is ChannelShouldQuiesceEvent }
        guard ends, answered, let encoder else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        needsFlush = false  // an answer to a request decoded at the end of input is flushed here
        // Writes complete in order: when an empty one written below the encoder (bytes, not a
        // response) has, every answer before it is out.
        let written = context.eventLoop.makePromise(of: Void.self)
        encoder.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.fireUserInboundEventTriggered(event) }
    }
}

extension InPlaceReads {
    /// Signature checks done here for requests handed on, until the general path takes them.
    /// Touched only on the connection's event loop (the general path runs there too:
    /// `EventLoopChannel`); the lock only makes that safe to state.
    final class HandOff: Sendable {
        private struct Entry {
            let head: HTTPRequest
            let outcome: Result<Authentication, any Error>
        }

        /// Requests in flight at once on one connection are few (pipelining); older entries go.
        static let capacity = 8
        private let entries = Mutex<[Entry]>([])

        func record(_ head: HTTPRequest, _ outcome: Result<Authentication, any Error>) {
            entries.withLock { entries in
                if entries.count == Self.capacity { entries.removeFirst() }
                entries.append(Entry(head: head, outcome: outcome))
            }
        }

        /// The outcome recorded for this very request head, taken (with any older entry: requests
        /// are answered in order, so those were never taken and never will be).
        func take(_ head: HTTPRequest) -> Result<Authentication, any Error>? {
            entries.withLock { entries in
                guard !entries.isEmpty, let index = entries.firstIndex(where: { $0.head == head }) else { return nil }
                let outcome = entries[index].outcome
                entries.removeFirst(index + 1)
                return outcome
            }
        }

        var isEmpty: Bool { entries.withLock { $0.isEmpty } }
    }

    /// The outcome `InPlaceReads` recorded on `channel` for `head`, taken; nil when there is none
    /// (or when not called on the channel's event loop, where the pipeline may not be read).
    static func handedOff(_ head: HTTPRequest, on channel: any Channel) -> Result<Authentication, any Error>? {
        guard channel.eventLoop.inEventLoop,
              let handler = try? channel.pipeline.syncOperations.handler(type: InPlaceReads.self)
        else { return nil }
        return handler.handOff.take(head)
    }
}

/// An in-place answer as it follows from an object's row alone, as HTTP/1.1 bytes: its status line,
/// and its headers (without the request id, `Server` and `Date` every response carries, which
/// come first in each answer), the blank line and its body. A class: taken from the cache for
/// every request, it is shared; each answer's bytes end with the same buffer, not a copy.
final class PreparedAnswer: Sendable {
    let status: HTTPResponse.Status
    private let statusLine: ByteBuffer
    /// The headers, the blank line and the body.
    let rest: ByteBuffer

    /// `response`'s fields are written as they are: HTTPTypes holds only valid names, and values
    /// with any byte not allowed in a field (CR, LF, NUL…) made a space.
    init(_ response: HTTPResponse, body: ByteBuffer?) {
        status = response.status
        statusLine = ByteBuffer(string: "HTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\r\n")
        var rest = ByteBuffer()
        rest.reserveCapacity(512 + (body?.readableBytes ?? 0))
        // The length frames the body; a stored `Transfer-Encoding` would contradict it (NIO's
        // encoder drops one beside a length too).
        for field in response.headerFields where field.name != .transferEncoding {
            Self.write(field.name, field.value, to: &rest)
        }
        rest.writeStaticString("\r\n")
        if let body { rest.writeImmutableBuffer(body) }
        self.rest = rest
    }

    /// This request's answer: the status line and the headers of this response alone, then the
    /// shared rest.
    func answer(requestID: String, date: String) -> InPlaceReads.Answer {
        var head = Self.allocator.buffer(capacity: statusLine.readableBytes + 128)
        head.writeImmutableBuffer(statusLine)
        S3Responder.stamp(requestID: requestID) { Self.write($0, $1, to: &head) }
        Self.write(.date, date, to: &head)
        return .answered(head: head, rest: rest)
    }

    private static let allocator = ByteBufferAllocator()

    private static func write(_ name: HTTPField.Name, _ value: String, to buffer: inout ByteBuffer) {
        buffer.writeString(name.rawName)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }
}

/// Per thread, the in-place answers to plain GETs and HEADs, kept while no write touches their
/// object (the store's object cache words, as for its lookups): a hot object's answer is built
/// once, not once per request. A plain request is one whose answer depends on nothing but the
/// object: no `Range`, `partNumber`, `response-*` override, condition or checksum mode. Every
/// request is still verified and authorized first; only what follows is shared.
enum PreparedAnswers {
    typealias Cache = ThreadLocalGenerationCache<Key, PreparedAnswer?>

    struct Key: Hashable, Sendable {
        var bucket: String
        var key: String
        var versionID: String?
        var isHead: Bool

        init(_ object: ObjectRef, isHead: Bool) {
            bucket = object.bucket
            key = object.key.text
            versionID = object.versionID
            self.isHead = isHead
        }
    }

    /// At most 4,096 answers and 16 MiB of bodies per thread; nil on a cluster node.
    static func cache(for store: Store) -> Cache? {
        store.makeObjectCache(maxEntries: 4096, maxCost: 16 * 1024 * 1024) { key, answer in
            key.bucket.utf8.count + key.key.utf8.count + 256 + (answer?.rest.readableBytes ?? 0)
        }
    }

    static func isPlain(_ headers: HTTPFields, _ options: ReadOptions) -> Bool {
        guard options.partNumber == nil, options.overrides.isEmpty else { return false }
        for field in headers {
            switch field.name {
            case .range, .ifMatch, .ifNoneMatch, .ifModifiedSince, .ifUnmodifiedSince, S3Responder.checksumMode: return false
            default: continue
            }
        }
        return true
    }
}
