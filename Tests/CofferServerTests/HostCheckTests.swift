import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import CofferServer

/// `HostCheck` on NIO's `EmbeddedChannel` behind NIO's own decoder: what it passes on, and what
/// it turns into the parser error Hummingbird answers with 400.
@Suite("Host rules (RFC 9112 §3.2)")
struct HostCheckTests {
    /// Feeds `bytes` through NIO's decoder and `HostCheck`: the heads passed on, and whether an
    /// error was raised.
    static func run(_ bytes: String) throws -> (heads: [HTTPRequestHead], parts: Int, failed: Bool) {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.pipeline.syncOperations.addHandler(HostCheck())
        var failed = false
        do {
            try channel.writeInbound(channel.allocator.buffer(string: bytes))
        } catch is HTTPParserError {
            failed = true
        }
        var heads: [HTTPRequestHead] = []
        var parts = 0
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            parts += 1
            if case .head(let head) = part { heads.append(head) }
        }
        _ = try? channel.finish()
        return (heads, parts, failed)
    }

    @Test("One valid Host, or none in HTTP/1.0, passes on untouched", arguments: [
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [::1]:9001\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: bucket.s3.example.com:443\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
    ])
    func accepted(head: String) throws {
        let (heads, parts, failed) = try Self.run(head)
        #expect(!failed && heads.count == 1 && parts == 2)
    }

    @Test("No Host in HTTP/1.1, two Host lines, or an invalid value: nothing passes on", arguments: [
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: user@host\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: host:65536\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [fe80::1%eth0]\r\n\r\n",
        "PUT /b/k HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    ])
    func refused(head: String) throws {
        let (heads, parts, failed) = try Self.run(head)
        #expect(failed && heads.isEmpty && parts == 0)
    }

    @Test("After a refused head, pipelined requests are not read either")
    func nothingAfter() throws {
        let (heads, _, failed) = try Self.run("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(failed && heads.count == 1)
    }

    @Test("Host values: names, IPv4, bracketed IPv6, ports; names are never judged by prefix")
    func values() {
        #expect(HostHeader.split("Example.COM:8080").map { [$0.host, String($0.port ?? -1)] } == ["example.com", "8080"])
        #expect(HostHeader.split("[::1]")?.host == "::1")
        #expect(HostHeader.split("") != nil)  // RFC 9112 allows an empty Host
        #expect(HostHeader.split("[::1") == nil && HostHeader.split("a:b") == nil && HostHeader.split("a:123456") == nil)
        #expect(IPLiteral.isLoopback("127.9.9.9") && IPLiteral.isLoopback("::1") && IPLiteral.isLoopback("::ffff:127.0.0.1"))
        #expect(!IPLiteral.isLoopback("127.attacker.example") && !IPLiteral.isLoopback("128.0.0.1") && !IPLiteral.isLoopback("::2"))
        #expect(!IPLiteral.isIPv4("127.1") && IPLiteral.isIPv4("10.0.0.1"))
    }
}
