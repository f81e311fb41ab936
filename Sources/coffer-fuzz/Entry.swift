import CShims
import Foundation

#if FUZZING
/// The harness libFuzzer drives, named by `COFFER_FUZZ_TARGET` (see `scripts/fuzz`).
let selected: Harness = {
    let name = ProcessInfo.processInfo.environment["COFFER_FUZZ_TARGET"] ?? ""
    guard let harness = Harness(rawValue: name) else {
        FileHandle.standardError.write(Data("COFFER_FUZZ_TARGET must be one of: \(Harness.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    return harness
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM names an executable's entry `<module>_main` and points `main` at it; here it hands
/// the command line to libFuzzer's driver.
@_cdecl("coffer_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = selected
    var count = argc
    var arguments = argv
    return coffer_fuzz_run(&count, &arguments) { data, size in fuzz(data, size) }
}
#elseif DEBUG
/// Without libFuzzer: `coffer-fuzz HARNESS PATH…` replays files (or every file in folders)
/// through a harness — the committed corpora and every crash ever found, as a regression run.
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let harness = Harness(rawValue: name) else {
            print("usage: coffer-fuzz HARNESS PATH…  (harnesses: \(Harness.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
            let files = isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                harness.run(Array(data))
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed")
    }
}
#else
/// A release build: the harnesses are not compiled (they need @testable imports).
@main
struct Replay {
    static func main() {
        print("coffer-fuzz: the harnesses are built in debug only (they reach Coffer's internals): "
            + "use scripts/fuzz, or swift build --product coffer-fuzz")
        exit(2)
    }
}
#endif
