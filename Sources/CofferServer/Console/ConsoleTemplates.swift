import Foundation
import Mustache

/// The console's templates, by name: a page that names one that does not exist does not compile.
enum ConsoleTemplate: String, CaseIterable, Sendable {
    case layout, signin, mfa, password, signout, home, security
    case mfaName = "mfa-name", mfaWizard = "mfa-wizard", keyWizard = "key-wizard", smsWizard = "sms-wizard"
    case users, user, groups, group, policies, policyEditor = "policy-editor"
    case buckets, bucket, emptyBucket = "empty-bucket", objects, object, audit, confirm, message
    /// Partials, included by the pages.
    case stepUp = "step-up", mfaFields = "mfa-fields"
}

/// The console's pages, stylesheet and script: resource files (`Console/Resources`), read once
/// and checked at startup — every template present and parsed — so that a server with a broken
/// page does not start. Mustache escapes every `{{value}}`; no template uses the unescaped forms,
/// and none holds inline script or style (the Content-Security-Policy forbids both).
struct ConsoleAssets: Sendable {
    let library: MustacheLibrary
    /// The raw text of each template (checked by the tests for unescaped output).
    let texts: [ConsoleTemplate: String]
    let css: String
    let script: String

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads and checks every asset in `folder` (`templates/NAME.mustache`, `console.css`, `console.js`).
    static func load(from folder: URL) throws -> ConsoleAssets {
        var library = MustacheLibrary()
        var texts: [ConsoleTemplate: String] = [:]
        func read(_ path: String) throws -> String {
            let url = folder.appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw LoadError(description: "console asset \(url.path) is missing or not UTF-8")
            }
            return text
        }
        for template in ConsoleTemplate.allCases {
            let text = try read("templates/\(template.rawValue).mustache")
            do {
                try library.register(text, named: template.rawValue)
            } catch {
                throw LoadError(description: "console template \(template.rawValue) does not parse: \(error)")
            }
            texts[template] = text
        }
        return ConsoleAssets(library: library, texts: texts, css: try read("console.css"), script: try read("console.js"))
    }

    /// The assets built into the server (SwiftPM resources), loaded on first use.
    static let bundled: Result<ConsoleAssets, any Error> = Result {
        guard let folder = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw LoadError(description: "the console's resource folder is missing from the build")
        }
        return try load(from: folder)
    }

    /// The built-in assets, or the reason they cannot be used (the console refuses to start).
    static func checked() throws -> ConsoleAssets { try bundled.get() }
}
