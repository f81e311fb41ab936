import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Testing
import CofferIAM
@testable import CofferServer

/// The S3 listener's own channel handlers on NIO's `EmbeddedChannel`, behind NIO's real decoder:
/// `HTTPTypesCodec` (the one conversion of a head NIO read) and `InPlaceReads` (answers in
/// order, hand-off of what it verified).
@Suite("Channel pipeline")
struct PipelineTests {
    /// The requests NIO's decoder and swift-nio-extras' codec make of `bytes`, and ours.
    static func both(_ bytes: String) throws -> [(ours: HTTPRequest, theirs: HTTPRequest)] {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.writeInbound(channel.allocator.buffer(string: bytes))
        var pairs: [(HTTPRequest, HTTPRequest)] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part {
                pairs.append((try HTTPTypesCodec.request(head), try HTTPRequest(head, secure: false, splitCookie: false)))
            }
        }
        return pairs
    }

    @Test("A head reads as swift-nio-extras' codec reads it", arguments: [
        "GET /b/k?versionId=x&X-Amz-Signature=ab HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nX-Amz-Date: 20261204T000000Z\r\n\r\n",
        "PUT /b/k HTTP/1.1\r\nhOsT: h\r\nContent-Length: 0\r\nHost: second\r\n\r\n",
        "DELETE /b/k HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2\r\nx-amz-mfa: SERIAL 123456\r\n\r\n",
        "GET http://example.com/b/k?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "PATCH /b HTTP/1.0\r\n\r\n",
        "GET /%2F/a%20b HTTP/1.1\r\nHosts: not-the-host\r\nHos: nor-this\r\n\r\n",
    ])
    func sameReading(bytes: String) throws {
        let pairs = try Self.both(bytes)
        #expect(pairs.count == 1)
        for (ours, theirs) in pairs { #expect(ours == theirs) }
    }

    @Test("A response head writes the same fields, in order, repeated names kept")
    func responseHead() {
        var fields = HTTPFields()
        fields.append(HTTPField(name: .contentType, value: "text/plain"))
        fields.append(HTTPField(name: HTTPField.Name("x-amz-meta-a")!, value: "1"))
        fields.append(HTTPField(name: HTTPField.Name("x-amz-meta-a")!, value: "2"))
        let response = HTTPResponse(status: .init(code: 206, reasonPhrase: "Partial Content"), headerFields: fields)
        #expect(HTTPTypesCodec.head(response) == HTTPResponseHead(response))
    }

    @Test("An in-place answer's bytes read, with NIO's response decoder, as the response it was made of")
    func preparedAnswerBytes() throws {
        var fields = HTTPFields()
        fields.append(HTTPField(name: .eTag, value: "\"0123\""))
        fields.append(HTTPField(name: HTTPField.Name("x-amz-meta-a")!, value: "1"))
        fields.append(HTTPField(name: HTTPField.Name("x-amz-meta-a")!, value: "2"))
        fields.append(HTTPField(name: HTTPField.Name("x-amz-meta-b")!, value: "line\r\nInjected: yes"))
        fields.append(HTTPField(name: .transferEncoding, value: "chunked"))  // a stored one: the length frames
        fields.append(HTTPField(name: .contentLength, value: "5"))
        let prepared = PreparedAnswer(HTTPResponse(status: .ok, headerFields: fields), body: ByteBuffer(string: "small"))
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder()))
        for id in ["0000000000000001", "00000000000000FF"] {
            guard case .answered(let head, let rest) = prepared.answer(requestID: id, date: "Sat, 05 Dec 2026 12:00:00 GMT")
            else { Issue.record("not answered"); return }
            // A client decoder reads a response only to a request it sent.
            try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
            try channel.writeInbound(head)
            try channel.writeInbound(rest)
            guard case .head(let response)? = try channel.readInbound(as: HTTPClientResponsePart.self),
                  case .body(let body)? = try channel.readInbound(as: HTTPClientResponsePart.self),
                  case .end? = try channel.readInbound(as: HTTPClientResponsePart.self)
            else { Issue.record("not one whole response"); return }
            #expect(response.status == .ok && response.version == .http1_1)
            #expect(response.headers.map { "\($0.name): \($0.value)" } == [
                "x-amz-request-id: \(id)", "x-amz-id-2: \(id)", "Server: Coffer", "Date: Sat, 05 Dec 2026 12:00:00 GMT",
                "ETag: \"0123\"", "x-amz-meta-a: 1", "x-amz-meta-a: 2", "x-amz-meta-b: line  Injected: yes", "Content-Length: 5",
            ])
            #expect(String(buffer: body) == "small")
        }
        // An answer to a HEAD: the GET's length, no body; the next answer reads whole after it.
        let head = PreparedAnswer(HTTPResponse(status: .ok, headerFields: [.contentLength: "5"]), body: nil)
        guard case .answered(let headHead, let headRest) = head.answer(requestID: "00000000000000AA", date: "D") else {
            Issue.record("not answered")
            return
        }
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/")))
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try channel.writeInbound(headHead)
        try channel.writeInbound(headRest)
        guard case .answered(let getHead, let getRest) = prepared.answer(requestID: "00000000000000BB", date: "D") else {
            Issue.record("not answered")
            return
        }
        try channel.writeInbound(getHead)
        try channel.writeInbound(getRest)
        guard case .head(let first)? = try channel.readInbound(as: HTTPClientResponsePart.self),
              case .end? = try channel.readInbound(as: HTTPClientResponsePart.self),
              case .head(let second)? = try channel.readInbound(as: HTTPClientResponsePart.self),
              case .body(let body)? = try channel.readInbound(as: HTTPClientResponsePart.self),
              case .end? = try channel.readInbound(as: HTTPClientResponsePart.self)
        else { Issue.record("not two whole responses"); return }
        #expect(first.headers["Content-Length"] == ["5"] && second.headers["x-amz-request-id"] == ["00000000000000BB"])
        #expect(String(buffer: body) == "small")
    }

    // MARK: InPlaceReads

    /// NIO's response encoder, `InPlaceReads` with `responder`, and our codec, as on the S3
    /// listener; what the general path receives is read inbound, every answer is read outbound
    /// as bytes.
    /// `halfClosure`: whether the peer's half-close is an event, as Hummingbird sets it.
    static func inPlaceChannel(_ responder: @escaping InPlaceReads.Responder,
                               halfClosure: Bool = true) throws -> (EmbeddedChannel, InPlaceReads) {
        let channel = EmbeddedChannel()
        channel.allowRemoteHalfClosure = halfClosure
        let reads = InPlaceReads(responder: responder)
        try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(HTTPTypesCodec())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return (channel, reads)
    }

    /// Everything written to the socket so far, as text.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: bytes) }
        return text
    }

    static func get(_ path: String) -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: ["Host": "h"]))
    }

    /// Answers `/small` in place, declines `/file` after a (recorded) check, declines all else unchecked.
    static let responder: InPlaceReads.Responder = { head, _ in
        switch head.path {
        case "/small": .answered(head: ByteBuffer(string: "HTTP/1.1 200 OK\r\n"),
                                 rest: ByteBuffer(string: "Content-Length: 5\r\n\r\nsmall"))
        case "/file": .declined(.success(Authentication(credential: Credential(secretKey: "", principal: .anonymous(accountID: "1")),
                                                        payload: .unsigned)))
        default: .declined(nil)
        }
    }

    @Test("HTTP/1.0, Connection: close, a body or Expect: handed on unanswered", arguments: [
        HTTPRequestHead(version: .http1_0, method: .GET, uri: "/small", headers: ["Host": "h"]),
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/small", headers: ["Host": "h", "Connection": "close"]),
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/small", headers: ["Host": "h", "Content-Length": "3"]),
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/small", headers: ["Host": "h", "Transfer-Encoding": "chunked"]),
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/small", headers: ["Host": "h", "Expect": "100-continue"]),
        HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/small", headers: ["Host": "h", "Content-Length": "0"]),
    ])
    func notPlain(head: HTTPRequestHead) throws {
        let (channel, _) = try Self.inPlaceChannel(Self.responder)
        defer { _ = try? channel.finish() }
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let passed)? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("not handed on")
            return
        }
        #expect(passed.path == "/small")
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("A request it answers never reaches the general path; one it declines does, whole")
    func answersAndDeclines() throws {
        let (channel, _) = try Self.inPlaceChannel(Self.responder)
        defer { _ = try? channel.finish() }
        for _ in 0..<2 {
            try channel.writeInbound(Self.get("/small"))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        channel.pipeline.fireChannelReadComplete()
        // The answers to everything read in this turn of the loop leave in one flush, when the
        // turn's reads are done (every connection's), not one write per read.
        #expect(try Self.written(channel) == "")
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel) == String(repeating: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall", count: 2))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)

        try channel.writeInbound(Self.get("/other"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let passed)? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("declined request not passed on")
            return
        }
        #expect(passed.path == "/other")
        guard case .end? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("no end passed on")
            return
        }
    }

    @Test("Without half-close, answers are flushed at the end of the read: a close right after it must not drop them")
    func flushWithoutHalfClosure() throws {
        let (channel, _) = try Self.inPlaceChannel(Self.responder, halfClosure: false)
        defer { _ = try? channel.finish() }
        try channel.writeInbound(Self.get("/small"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.pipeline.fireChannelReadComplete()
        #expect(try Self.written(channel) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall")
    }

    @Test("While a request handed on is unanswered, later ones follow it: answers leave in order")
    func order() throws {
        let (channel, _) = try Self.inPlaceChannel(Self.responder)
        defer { _ = try? channel.finish() }
        for path in ["/other", "/small"] {
            try channel.writeInbound(Self.get(path))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        // Both went on: the second may not be answered before the first.
        var paths: [String?] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            if case .head(let head) = part { paths.append(head.path) }
        }
        #expect(paths == ["/other", "/small"])
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        // Once both are answered upstream, the next small GET is answered in place again.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .accepted, headerFields: [.contentLength: "0"])))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        #expect(try Self.written(channel).components(separatedBy: "202 Accepted").count == 3)
        try channel.writeInbound(Self.get("/small"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall")
    }

    @Test("An answer from upstream to a HEAD leaves without its body or end, whatever its framing; the next answers keep theirs")
    func headAnswersFromUpstream() throws {
        let (channel, _) = try Self.inPlaceChannel(Self.responder)
        defer { _ = try? channel.finish() }
        // Pipelined: a HEAD with a length, a HEAD without one (NIO's encoder would frame it
        // chunked), a GET, all handed on; then a small GET answered in place.
        let requests: [(HTTPMethod, String)] = [(.HEAD, "/a"), (.HEAD, "/b"), (.GET, "/c")]
        for (method, path) in requests {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path,
                                                                                headers: ["Host": "h"])))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        while try channel.readInbound(as: HTTPRequestPart.self) != nil {}
        // A 100 Continue before the first answer is not its final head.
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .continue)))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "4"])))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "oops")))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .notFound)))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "also")))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "3"])))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "get")))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeInbound(Self.get("/small"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel) == "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
            + "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget"
            + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall")
    }

    @Test("What it verified and declined is handed on once, to that request only")
    func handOff() throws {
        let (channel, reads) = try Self.inPlaceChannel(Self.responder)
        defer { _ = try? channel.finish() }
        try channel.writeInbound(Self.get("/file"))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let head)? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("declined request not passed on")
            return
        }
        var other = head
        other.path = "/other"
        #expect(reads.handOff.take(other) == nil)
        #expect(InPlaceReads.handedOff(head, on: channel) != nil)
        #expect(InPlaceReads.handedOff(head, on: channel) == nil)  // taken once
        #expect(reads.handOff.isEmpty)
    }

    @Test("The hand-off keeps only the latest few, and taking one drops those before it")
    func handOffBounds() {
        let handOff = InPlaceReads.HandOff()
        let outcome: Result<Authentication, any Error> = .failure(CancellationError())
        let heads = (0..<20).map { HTTPRequest(method: .get, scheme: "http", authority: "h", path: "/\($0)") }
        for head in heads { handOff.record(head, outcome) }
        #expect(handOff.take(heads[0]) == nil)  // pushed out
        #expect(handOff.take(heads[15]) != nil)
        #expect(handOff.take(heads[14]) == nil)  // dropped when 15 was taken
        #expect(handOff.take(heads[19]) != nil)
        #expect(handOff.isEmpty)
    }
}

/// `HeadDeadline`'s two clocks on an `EmbeddedEventLoop`'s virtual time, behind NIO's decoder.
@Suite("Connection clocks")
struct HeadDeadlineTests {
    static func channel(head: Int64 = 30, idle: Int64 = 300) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let deadline = HeadDeadline(timeout: .seconds(head), idleTimeout: .seconds(idle))
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(HeadDeadline.Bytes(deadline))
        try operations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try operations.addHandler(HTTPTypesCodec())
        try operations.addHandler(HeadDeadline.Heads(deadline))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }

    static func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        while try channel.readInbound(as: HTTPRequestPart.self) != nil {}
    }

    @Test("A head trickled one line at a time is cut off when its time is up, whatever it trickles")
    func slowHead() throws {
        let channel = try Self.channel(head: 30)
        defer { _ = try? channel.finish() }
        try Self.send(channel, "GET /b/k HTTP/1.1\r\n")
        for _ in 0..<2 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(10))
            try Self.send(channel, "X-Slow: 1\r\n")
            #expect(channel.isActive)
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test("A silent connection is closed after the idle timeout; a head that arrives in time is not")
    func idle() throws {
        let channel = try Self.channel(head: 30, idle: 300)
        defer { _ = try? channel.finish() }
        channel.embeddedEventLoop.advanceTime(by: .seconds(299))
        #expect(channel.isActive)
        try Self.send(channel, "GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n")
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(299))  // counted from the response's end
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test("A request read whole and still being answered is never cut off")
    func busy() throws {
        let channel = try Self.channel(head: 30, idle: 60)
        defer { _ = try? channel.finish() }
        try Self.send(channel, "GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(61))
        #expect(!channel.isActive)
    }

    @Test("A body that stops arriving is idle: closed once the idle timeout passes since its last bytes")
    func stalledBody() throws {
        let channel = try Self.channel(head: 30, idle: 60)
        defer { _ = try? channel.finish() }
        try Self.send(channel, "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345")
        channel.embeddedEventLoop.advanceTime(by: .seconds(50))
        try Self.send(channel, "67")  // bytes of the body keep it alive
        channel.embeddedEventLoop.advanceTime(by: .seconds(50))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(!channel.isActive)
    }
}
