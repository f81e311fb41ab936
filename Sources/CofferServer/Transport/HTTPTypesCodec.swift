import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Between NIO's HTTP/1 decoder and encoder and the `HTTPTypes` parts Hummingbird speaks: the
/// one place a request head read by NIO (llhttp) becomes an `HTTPRequest`.
///
/// It replaces `HTTP1ToHTTPServerCodec` (swift-nio-extras) in our pipelines and reads the same,
/// with one difference in cost: that codec runs every request target through Foundation's
/// `URLComponents` to find an absolute-form target, and lowercases every header name to find
/// `Host`. An origin-form target (`/…`, what every S3 client sends) is already the path; only
/// another form goes through the extras' conversion. On a 4 KiB GET those two steps were a fifth
/// of the server's CPU time.
///
/// As in Hummingbird's HTTP/1 channel, the scheme is `http` whatever the transport (TLS is the
/// server's knowledge, not the request's), and cookies are not split.
final class HTTPTypesCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            do {
                context.fireChannelRead(wrapInboundOut(.head(try Self.request(head))))
            } catch {
                context.fireErrorCaught(error)
            }
        case .body(let body):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { HTTPFields($0, splitCookie: false) })))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            context.write(wrapOutboundOut(.head(Self.head(response))), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            context.write(wrapOutboundOut(.end(trailers.map { Self.headers($0) })), promise: promise)
        }
    }

    /// The request NIO's head describes, as `HTTP1ToHTTPServerCodec(secure: false)` reads it.
    static func request(_ head: HTTPRequestHead) throws -> HTTPRequest {
        guard head.uri.utf8.first == UInt8(ascii: "/") else {
            // Absolute form, `*`, or no target: the extras' reading, Foundation's parser included.
            return try HTTPRequest(head, secure: false, splitCookie: false)
        }
        let method: HTTPRequest.Method
        switch head.method {
        case .GET: method = .get
        case .HEAD: method = .head
        case .PUT: method = .put
        case .POST: method = .post
        case .DELETE: method = .delete
        default: method = try HTTPRequest.Method(head.method)
        }
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        var authority: String?
        var sawHost = false
        for (name, value) in head.headers {
            // The first Host is the authority, and is not repeated among the fields (a second one
            // stays a field: `HostCheck` refuses such requests before they reach here).
            if !sawHost, equalsIgnoringCase(name, "host") {
                sawHost = true
                authority = value
                continue
            }
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        return HTTPRequest(method: method, scheme: "http", authority: authority, path: head.uri, headerFields: fields)
    }

    /// `name` is `lowercase` in any case (letters, digits and `-` only), without making a copy.
    static func equalsIgnoringCase(_ name: String, _ lowercase: StaticString) -> Bool {
        guard name.utf8.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            var index = 0
            for byte in name.utf8 {
                let want = expected[index]
                // Setting 0x20 maps only A-Z onto a-z among the bytes that can equal a letter;
                // `-` and digits must match exactly.
                guard byte == want || (want >= 0x61 && want <= 0x7A && byte | 0x20 == want) else { return false }
                index += 1
            }
            return true
        }
    }

    static func head(_ response: HTTPResponse) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1,
                         status: HTTPResponseStatus(statusCode: response.status.code,
                                                    reasonPhrase: response.status.reasonPhrase),
                         headers: headers(response.headerFields))
    }

    /// The fields as NIO's headers, in order (built whole: `HTTPHeaders.add` checks every name
    /// again, and HTTPTypes has already validated them).
    static func headers(_ fields: HTTPFields) -> HTTPHeaders {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(fields.count)
        for field in fields { pairs.append((field.name.rawName, field.value)) }
        return HTTPHeaders(pairs)
    }
}
