import Foundation
import Testing
import TOTP

@Suite("coffer totp")
struct TOTPCommandTests {
    static let exampleURI = "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"

    @Test("code --uri … --at 59 prints what oathtool prints")
    func exampleAgainstOathtool() throws {
        let ours = try coffer("totp", "code", "--uri", Self.exampleURI, "--at", "59")
        let theirs = try run("oathtool", ["--totp", "-b", "JBSWY3DPEHPK3PXP", "--now", "1970-01-01 00:00:59 UTC"])
        #expect(ours.status == 0)
        #expect(theirs.status == 0)
        #expect(ours.stdout == theirs.stdout)
        #expect(ours.stdout == "996554\n")
    }

    @Test("code --secret with each algorithm, digits and period matches oathtool",
          arguments: ["SHA1", "SHA256", "SHA512"])
    func algorithms(algorithm: String) throws {
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
        for at in ["59", "1234567890", "20000000000"] {
            let ours = try coffer("totp", "code", "--secret", secret, "--algorithm", algorithm, "--digits", "8",
                                  "--period", "60", "--at", at)
            let theirs = try run("oathtool", ["--totp=\(algorithm.lowercased())", "-d", "8", "-s", "60s", "-b", secret,
                                              "--now", "@\(at)"])
            #expect(ours.status == 0 && theirs.status == 0)
            #expect(ours.stdout == theirs.stdout, "\(algorithm) at \(at)")
        }
    }

    @Test("code --next N prints N steps with their codes")
    func next() throws {
        let result = try coffer("totp", "code", "--uri", Self.exampleURI, "--at", "59", "--next", "3")
        let parameters = try KeyURI(parsing: Self.exampleURI).parameters()
        #expect(result.stdout == (1...3).map { "\($0) \(parameters.code(step: Int64($0)))\n" }.joined())
    }

    @Test("qr --uri writes a PNG that zbarimg scans back to the exact URI, at every level",
          arguments: ["L", "M", "Q", "H"])
    func qr(level: String) throws {
        let uri = "otpauth://totp/Coffer:dev-\(level)@123456789012?secret=" + String(repeating: "ABCDEFGH", count: 8)
            + "&issuer=Coffer"
        let file = temporaryFile(".png")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try coffer("totp", "qr", "--uri", uri, "--level", level, "--out", file)
        #expect(result.status == 0, "\(result.stderr)")
        let scanned = try run("zbarimg", ["--raw", "-q", file])
        #expect(scanned.status == 0)
        #expect(scanned.stdout == uri + "\n")
    }

    @Test("qr --secret with --account and --issuer builds the URI")
    func qrFromSecret() throws {
        let file = temporaryFile(".png")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try coffer("totp", "qr", "--secret", "JBSWY3DPEHPK3PXP", "--account", "bob", "--issuer", "ACME Co",
                                "--out", file)
        #expect(result.status == 0)
        let scanned = try run("zbarimg", ["--raw", "-q", file])
        #expect(scanned.stdout == "otpauth://totp/ACME%20Co:bob?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co\n")
    }

    @Test("new makes a fresh secret of at least 160 bits, and its PNG holds the same URI")
    func new() throws {
        let file = temporaryFile(".png")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let first = try coffer("totp", "new", "--account", "alice", "--issuer", "Coffer", "--out", file)
        let second = try coffer("totp", "new", "--account", "alice", "--issuer", "Coffer")
        #expect(first.status == 0 && second.status == 0)
        let uri = try KeyURI(parsing: first.stdout.trimmingCharacters(in: .newlines))
        #expect(uri.secret.count * 8 >= 160)
        #expect(uri.issuer == "Coffer" && uri.account == "alice")
        #expect(first.stdout != second.stdout)
        let scanned = try run("zbarimg", ["--raw", "-q", file])
        #expect(scanned.stdout == first.stdout)
    }

    @Test("Bad input: one clear line on stderr, exit status 2, nothing on stdout", arguments: [
        ["totp", "code", "--secret", "JBSWY3DPEHPK3PX1"],
        ["totp", "code", "--secret", "JBSWY3DPEHPK3PXP", "--algorithm", "MD5"],
        ["totp", "code", "--secret", "JBSWY3DPEHPK3PXP", "--digits", "9"],
        ["totp", "code", "--uri", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA3"],
        ["totp", "code", "--uri", "https://example.com"],
        ["totp", "code"],
        ["totp", "code", "--secret", "JBSWY3DPEHPK3PXP", "--uri", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"],
        ["totp", "code", "--secret", "JBSWY3DPEHPK3PXP", "--at", "soon"],
        ["totp", "code", "--bogus"],
        ["totp", "qr", "--secret", "JBSWY3DPEHPK3PXP", "--level", "X", "--out", "/tmp/never.png"],
        ["totp", "qr", "--secret", "JBSWY3DPEHPK3PXP", "--out", "/nonexistent-dir/x.png"],
        ["totp", "new"],
    ])
    func badInput(arguments: [String]) throws {
        let result = try run(cofferPath, arguments)
        #expect(result.status == 2, "\(arguments)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("coffer: "))
        #expect(!result.stderr.contains("JBSWY3DPEHPK3PX"))  // never echo a secret
    }
}
