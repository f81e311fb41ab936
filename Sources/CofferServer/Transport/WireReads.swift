import HTTPTypes
import NIOCore

/// Answers small-object GET and HEAD requests from the connection's bytes, in front of the HTTP
/// decoder: the request head is read by `RequestHead`, the answer written as one buffer.
///
/// `InPlaceReads` already keeps such reads off Hummingbird's async bridge, but each still went
/// through llhttp, NIO's `HTTPRequestHead` and headers, the conversion to `HTTPTypes` (which runs
/// every path through Foundation's URL parser), Hummingbird's connection state and NIO's response
/// encoder: on a 4 KiB GET, a third of the server's CPU time. Here those steps are one pass over
/// the bytes and one write.
///
/// The connection starts here. The first request this reader declines — one outside
/// `RequestHead`'s strict subset, or one the in-place responder does not answer — and every byte
/// after it go to the decoder, and the connection stays there (where `InPlaceReads` still answers
/// what it can): there is never a request in flight on both sides, so answers leave in order.
/// The reader also hands over when the client stops reading (so Hummingbird's writer applies
/// back-pressure), and when the server begins to quiesce.
final class WireReads: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: InPlaceReads.Responder
    private let deadline: HeadDeadline
    private var handedOver = false
    /// Bytes of a head not yet whole.
    private var pending: ByteBuffer?
    /// How many of them were searched for the head's end already (a head trickled in one byte
    /// at a time is searched once over, not once per byte).
    private var scanned = 0
    private var needsFlush = false
    /// Whether any answer was written here.
    private var answered = false
    private var peer = PeerAddress()

    init(responder: @escaping InPlaceReads.Responder, deadline: HeadDeadline) {
        self.responder = responder
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !handedOver else {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        if var earlier = pending {
            pending = nil
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        while bytes.readableBytes > 0 {
            guard context.channel.isWritable else { return handOver(context: context, bytes) }
            let resume = scanned
            scanned = 0
            let parsed = bytes.withUnsafeReadableBytes { RequestHead.parse($0, scannedBefore: resume) }
            switch parsed {
            case .incomplete:
                pending = bytes
                scanned = bytes.readableBytes
                // The start of a head, perhaps after answers to whole ones: its clock runs from now.
                deadline.bytesArrived(context)
                return
            case .declined:
                return handOver(context: context, bytes)
            case .complete(let head, let length):
                guard let (response, body) = responder(head, peer.ip(of: context.channel)) else {
                    return handOver(context: context, bytes)
                }
                bytes.moveReaderIndex(forwardBy: length)
                context.write(wrapOutboundOut(Self.encode(response, body: body, allocator: context.channel.allocator)),
                              promise: nil)
                answered = true
                needsFlush = true
                deadline.answeredInPlace(context.eventLoop, context.channel)
            }
        }
    }

    /// Status line, fields and body in one buffer, as NIO's encoder writes them.
    static func encode(_ response: HTTPResponse, body: ArraySlice<UInt8>?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var output = allocator.buffer(capacity: 512 + (body?.count ?? 0))
        output.writeStaticString("HTTP/1.1 ")
        let code = response.status.code  // three digits: HTTPTypes holds statuses to 100...999
        output.writeInteger(UInt8(truncatingIfNeeded: 0x30 + code / 100 % 10))
        output.writeInteger(UInt8(truncatingIfNeeded: 0x30 + code / 10 % 10))
        output.writeInteger(UInt8(truncatingIfNeeded: 0x30 + code % 10))
        output.writeStaticString(" ")
        output.writeString(response.status.reasonPhrase)
        output.writeStaticString("\r\n")
        for field in response.headerFields {
            output.writeString(field.name.rawName)
            output.writeStaticString(": ")
            output.writeString(field.value)
            output.writeStaticString("\r\n")
        }
        output.writeStaticString("\r\n")
        if let body { output.writeBytes(body) }
        return output
    }

    /// From here on the connection is the decoder's: `bytes` (from the first request not answered
    /// here) go on, answers written here are flushed first.
    private func handOver(context: ChannelHandlerContext, _ bytes: ByteBuffer?) {
        handedOver = true
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        if let bytes, bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        // The handlers after this one hear of the end of a read only once they have been given
        // something read.
        if handedOver { context.fireChannelReadComplete() }
    }

    /// The end of input, or the server quiescing: the decoder's side (Hummingbird) closes the
    /// connection at once when it has no request in progress, which would drop answers of ours
    /// still being written. Any partial head goes on, and the event once the answers are out.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let ends: Bool
        if case ChannelEvent.inputClosed = event { ends = true } else { ends = event is ChannelShouldQuiesceEvent }
        guard ends, !handedOver else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let leftover = pending
        pending = nil
        scanned = 0
        handOver(context: context, leftover)
        guard answered else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Writes complete in order: when an empty one has, every answer before it is out.
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.fireUserInboundEventTriggered(event) }
    }
}
