import StrictJSON
import Testing

@Suite("StrictJSON: RFC 8259 and nothing more lenient")
struct StrictJSONTests {
    @Test("RFC 8259's own examples and every kind of value read as written")
    func accepted() throws {
        let image = """
            {
              "Image": {
                "Width":  800,
                "Height": 600,
                "Title":  "View from 15th Floor",
                "Thumbnail": {"Url": "http://www.example.com/image/481989943", "Height": 125, "Width": 100},
                "Animated" : false,
                "IDs": [116, 943, 234, 38793]
              }
            }
            """
        let value = try JSON.parse(Array(image.utf8))
        let inner = try #require(value.object?["Image"]?.object)
        #expect(inner.keys == ["Width", "Height", "Title", "Thumbnail", "Animated", "IDs"])
        #expect(inner["Width"] == .number("800"))
        #expect(inner["Animated"] == .bool(false))
        #expect(inner["IDs"]?.array?.count == 4)
        #expect(try JSON.parse(Array("-0.5e-3".utf8)) == .number("-0.5e-3"))
        #expect(try JSON.parse(Array(" null ".utf8)) == .null)
        #expect(try JSON.parse(Array(#""\u00e9\ud83d\ude00\n\/""#.utf8)) == .string("é😀\n/"))
        #expect(try JSON.parse(Array(#"{"a":{},"b":[]}"#.utf8)).object?.count == 2)
    }

    @Test("What lenient parsers take is refused", arguments: [
        (#"{"a": 1,}"#, "trailing comma"),
        (#"[1, 2,]"#, "trailing comma"),
        ("{\"a\": 1} // note", "comment"),
        ("/* c */ {}", "comment"),
        (#"{"a": 1, "a": 2}"#, "duplicate key"),
        ("\u{FEFF}{}", "byte-order mark"),
        (#""\ud800""#, "lone high surrogate"),
        (#""\udc00x""#, "lone low surrogate"),
        (#""\ud800\u0041""#, "high surrogate then not a low one"),
        ("{'a': 1}", "single quotes"),
        ("{a: 1}", "unquoted key"),
        ("01", "leading zero"),
        ("1.", "no digit after the point"),
        (".5", "no digit before the point"),
        ("1e", "empty exponent"),
        ("+1", "plus sign"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("tru", "truncated word"),
        ("\"a\tb\"", "raw control character"),
        (#""\x41""#, "unknown escape"),
        (#""\u12""#, "short unicode escape"),
        ("{} {}", "two values"),
        ("", "empty text"),
        ("[", "unclosed array"),
        (#"{"a""#, "unclosed object"),
        ("\"abc", "unclosed string"),
        ("\u{0B}1", "vertical tab is not white space"),
    ])
    func refused(text: String, why: String) {
        #expect(throws: JSONError.self, "\(why)") { try JSON.parse(Array(text.utf8)) }
    }

    @Test("Invalid UTF-8 and overlong nesting are refused; errors say where")
    func limits() throws {
        #expect(throws: JSONError.self) { try JSON.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONError.self) { try JSON.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try JSON.parse(Array(fine.utf8)).array != nil)
        do {
            _ = try JSON.parse(Array("{\n  \"a\": 1,\n  }".utf8))
            Issue.record("a trailing comma was accepted")
        } catch {
            #expect(error.line == 3 && error.column == 3, "\(error)")
        }
    }
}
