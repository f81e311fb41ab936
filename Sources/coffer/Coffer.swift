import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The `coffer` command: the server, the authenticator and the host-side admin tools.
@main
struct Coffer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "An S3-compatible versioned object store whose destructive operations need an MFA code.",
        subcommands: [ServeCommand.self, TOTPCommand.self, AdminCommand.self]
    )

    /// Bad input of any kind — a parse error or a refused value — prints one line on stderr and
    /// exits with status 2; help exits 0.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as UsageError {
            printError("coffer: \(error.message)")
            Glibc.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                self.exit(withError: error)  // --help, --version
            }
            if error is ExitCode { self.exit(withError: error) }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("coffer: \(message.isEmpty ? "invalid input" : message) (see 'coffer --help')")
            Glibc.exit(2)
        }
    }
}

/// A refused input: printed as one line, exit status 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

func printError(_ line: String) {
    var standardError = StandardError()
    print(line, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// Writes a line to standard output unbuffered, so scripts waiting on it see it at once.
func printLine(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress, $0.count) }
}
