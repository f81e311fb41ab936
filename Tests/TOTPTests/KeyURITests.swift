import Testing
@testable import TOTP

@Suite("otpauth:// key URIs")
struct KeyURITests {
    @Test("Parses the Key Uri Format example")
    func parsesExample() throws {
        let uri = try KeyURI(parsing: "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        #expect(uri.kind == .totp)
        #expect(uri.issuer == "Example")
        #expect(uri.account == "alice@google.com")
        #expect(uri.secret == Array("Hello!".utf8) + [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(uri.algorithm == .sha1)
        #expect(uri.digits == 6)
        #expect(uri.period == 30)
        #expect(try uri.parameters().code(at: 59) == "996554")
    }

    @Test("Parses encoded labels and every parameter")
    func parsesAll() throws {
        let text = "otpauth://totp/ACME%20Co:%20john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
            + "&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60&image=https%3A%2F%2Fx"
        let uri = try KeyURI(parsing: text)
        #expect(uri.issuer == "ACME Co")
        #expect(uri.account == "john.doe@email.com")
        #expect(uri.algorithm == .sha256)
        #expect(uri.digits == 8)
        #expect(uri.period == 60)
        let noIssuer = try KeyURI(parsing: "OTPAUTH://TOTP/alice?secret=JBSWY3DPEHPK3PXP")
        #expect(noIssuer.issuer == nil)
        #expect(noIssuer.account == "alice")
        let hotp = try KeyURI(parsing: "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=42")
        #expect(hotp.kind == .hotp)
        #expect(hotp.counter == 42)
    }

    @Test("Builds URIs that parse back to the same key")
    func roundTrip() throws {
        let cases = [
            KeyURI(issuer: "Coffer", account: "root-device@123456789012", secret: Array(0..<40)),
            KeyURI(issuer: "ACME Co & Ops=1?", account: "jo doe+1@x", secret: [1, 2, 3, 4, 5], algorithm: .sha512,
                   digits: 8, period: 45),
            KeyURI(issuer: nil, account: "ünïcødé", secret: [9, 9, 9]),
        ]
        for key in cases {
            // Spaces, &, = and ? are encoded in label and parameter alike.
            #expect(try KeyURI(parsing: key.uri) == key)
        }
        let aws = KeyURI(issuer: "Coffer", account: "dev@123456789012", secret: Array(0..<40))
        #expect(aws.uri.hasPrefix("otpauth://totp/Coffer:dev@123456789012?secret="))
        #expect(aws.uri.hasSuffix("&issuer=Coffer"))
    }

    @Test("Refuses malformed URIs with a named error", arguments: [
        ("https://totp/x?secret=JBSWY3DPEHPK3PXP", KeyURIError.notOTPAuth),
        ("otpauth://motp/x?secret=JBSWY3DPEHPK3PXP", KeyURIError.unknownType("motp")),
        ("otpauth://totp", KeyURIError.missingLabel),
        ("otpauth://totp/?secret=JBSWY3DPEHPK3PXP", KeyURIError.missingLabel),
        ("otpauth://totp/a:b:c?secret=JBSWY3DPEHPK3PXP", KeyURIError.badLabel),
        ("otpauth://totp/a%2?secret=JBSWY3DPEHPK3PXP", KeyURIError.badEncoding("label")),
        ("otpauth://totp/x?issuer=a", KeyURIError.missingSecret),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PX1", KeyURIError.badSecret(.invalidCharacter(position: 16))),
        ("otpauth://totp/x?secret=A&secret=B", KeyURIError.duplicateParameter("secret")),
        ("otpauth://totp/A:x?secret=JBSWY3DPEHPK3PXP&issuer=B", KeyURIError.issuerMismatch),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", KeyURIError.unknownAlgorithm("MD5")),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=10", KeyURIError.badNumber("digits")),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0", KeyURIError.badNumber("period")),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=abc", KeyURIError.badNumber("period")),
        ("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP", KeyURIError.missingCounter),
    ])
    func rejects(text: String, expected: KeyURIError) {
        #expect(throws: expected) { try KeyURI(parsing: text) }
    }
}
