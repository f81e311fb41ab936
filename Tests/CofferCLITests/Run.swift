import Foundation

/// The result of running a command to completion.
struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `executable` (a path, or a name looked up on PATH) with `arguments`.
func run(_ executable: String, _ arguments: [String]) throws -> RunResult {
    let process = Process()
    if executable.contains("/") {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// The `coffer` executable built beside this test bundle (or `COFFER_BIN`).
let cofferPath: String = {
    if let path = ProcessInfo.processInfo.environment["COFFER_BIN"] { return path }
    let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments[0])
    return me.deletingLastPathComponent().appendingPathComponent("coffer").path
}()

func coffer(_ arguments: String...) throws -> RunResult { try run(cofferPath, arguments) }

func temporaryFile(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("coffer-test-\(UUID().uuidString)\(suffix)").path
}
