import CofferCore
import Foundation
import HTTPTypes
import Testing
@testable import CofferServer

/// `RequestHead`: the strict reader `WireReads` answers from. What it reads must be what NIO's
/// decoder would read; everything else it must decline (or wait for), never misread.
@Suite("Request heads read from bytes")
struct RequestHeadTests {
    static func parse(_ text: String) -> RequestHead.Parse {
        Array(text.utf8).withUnsafeBytes { RequestHead.parse($0) }
    }

    static func head(_ text: String) -> (HTTPRequest, Int)? {
        if case .complete(let request, let length) = parse(text) { return (request, length) }
        return nil
    }

    static func declined(_ text: String) -> Bool {
        if case .declined = parse(text) { return true }
        return false
    }

    static func incomplete(_ text: String) -> Bool {
        if case .incomplete = parse(text) { return true }
        return false
    }

    @Test("A GET or HEAD: method, target, Host as the authority, the other fields in order")
    func reads() throws {
        let text = "GET /b/k%20x?versionId=3&X-Amz-Signature=ab HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"
            + "User-Agent:  curl/8 \r\nX-Amz-Date:20261129T000000Z\r\nrange: bytes=0-1\r\nConnection: Keep-Alive\r\n\r\nGET /next"
        let (request, length) = try #require(Self.head(text))
        #expect(length == text.utf8.count - "GET /next".utf8.count)
        #expect(request.method == .get)
        #expect(request.path == "/b/k%20x?versionId=3&X-Amz-Signature=ab")
        #expect(request.authority == "127.0.0.1:9000")
        #expect(request.headerFields.map(\.name.canonicalName) == ["user-agent", "x-amz-date", "range", "connection"])
        #expect(request.headerFields[.userAgent] == "curl/8")  // surrounding white space trimmed
        #expect(request.headerFields[.range] == "bytes=0-1")
        #expect(!request.headerFields.contains { $0.name.canonicalName == "host" })

        let (head, _) = try #require(Self.head("HEAD / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"))
        #expect(head.method == .head && head.authority == nil && head.path == "/")
    }

    @Test("A head searched in pieces is found where a search of the whole finds it")
    func resumed() throws {
        let text = Array("GET /b/k HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\nGET /next".utf8)
        let whole = text.withUnsafeBytes { RequestHead.parse($0) }
        guard case .complete(_, let length) = whole else { Issue.record("no head"); return }
        for cut in 0...length {
            // The first `cut` bytes were searched (they hold no end: every cut before the end).
            let scanned = cut < length ? cut : 0
            let again = text.withUnsafeBytes { RequestHead.parse($0, scannedBefore: scanned) }
            guard case .complete(_, let found) = again else { Issue.record("lost at \(cut)"); continue }
            #expect(found == length)
            if cut < length - 1 {
                let prefix = Array(text[..<(cut + 1)])
                let partial = prefix.withUnsafeBytes { RequestHead.parse($0, scannedBefore: cut) }
                if case .incomplete = partial {} else { Issue.record("a prefix of \(cut + 1) bytes is not incomplete") }
            }
        }
    }

    @Test("Incomplete heads wait; past the size limit they are declined")
    func incomplete() {
        #expect(Self.incomplete(""))
        #expect(Self.incomplete("GET / HTTP/1.1\r\nHost: a\r\n"))
        #expect(Self.incomplete("GET / HTTP/1.1\r\nHost: a\r\n\r"))
        #expect(Self.incomplete("POST"))  // the whole head is awaited before anything is judged
        let long = "GET /" + String(repeating: "a", count: RequestHead.maxBytes) + " HTTP/1.1\r\n"
        #expect(Self.declined(long))
    }

    @Test("Everything outside the strict subset is declined, for NIO's decoder to read")
    func declines() {
        let cases = [
            "POST /b/k HTTP/1.1\r\nHost: a\r\n\r\n",
            "get /b/k HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /b/k HTTP/1.0\r\nHost: a\r\n\r\n",
            "GET http://a/b/k HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET  /b/k HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /b/k  HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /b/\u{7F}k HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /b/ü HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /b/k HTTP/1.1\nHost: a\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\ntransfer-encoding: identity\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nProxy-Connection: close\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nTrailer: x\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nX-A: caf\u{E9}\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost: a\r\nX-A: a\u{0}b\r\n\r\n",
            "GET /b/k HTTP/1.1\r\nHost : a\r\n\r\n",
            "GET /b/k HTTP/1.1\r\n" + String(repeating: "X-A: 1\r\n", count: RequestHead.maxFields + 1) + "\r\n",
        ]
        for text in cases {
            #expect(Self.declined(text), "\(text.debugDescription)")
        }
    }

    @Test("Canonical query parts already in canonical form are kept as sent; others are re-encoded")
    func canonicalForms() {
        func canonical(_ text: String) -> String? {
            var output: [UInt8] = []
            let ok = Array(text.utf8).withUnsafeBufferPointer { Percent.appendCanonical($0, to: &output) }
            return ok ? String(decoding: output, as: UTF8.self) : nil
        }
        #expect(canonical("AKIA%2F20261129%2Fus-east-1") == "AKIA%2F20261129%2Fus-east-1")
        #expect(canonical("a%2fb") == "a%2Fb")          // lowercase hex: re-encoded
        #expect(canonical("%41b") == "Ab")              // an escaped unreserved byte: decoded
        #expect(canonical("a+b c") == "a%2Bb%20c")      // '+' is a plus
        #expect(canonical("%C3%BC") == "%C3%BC")
        #expect(canonical("%2") == nil && canonical("%ZZ") == nil)
    }

    @Test("HTTP dates are written with four-digit years, and other years as before")
    func dates() {
        #expect(HTTPDate.format(milliseconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(milliseconds: 1_795_954_312_999) == "Sun, 29 Nov 2026 12:11:52 GMT")
        #expect(HTTPDate.format(milliseconds: -1) == "Wed, 31 Dec 1969 23:59:59 GMT")
        #expect(HTTPDate.format(milliseconds: 253_402_300_800_000) == "Sat, 01 Jan 10000 00:00:00 GMT")
    }
}
