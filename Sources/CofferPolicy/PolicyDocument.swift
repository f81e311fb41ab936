import Foundation
import StrictJSON

/// An IAM policy document in AWS's language: Version `2012-10-17` (policy variables) or
/// `2008-10-17` / none (no variables); `Statement` as an object or an array; `Sid`, `Effect`,
/// `Action`/`NotAction`, `Resource`/`NotResource`, `Principal`/`NotPrincipal` (resource policies
/// only) and `Condition`. Parsed once, strictly: anything malformed is a `PolicyError` that names
/// what is wrong, as IAM's `MalformedPolicyDocument` and S3's `MalformedPolicy` do.
public struct PolicyDocument: Sendable, Equatable {
    public enum Version: String, Sendable {
        case v2012 = "2012-10-17"
        case v2008 = "2008-10-17"
    }

    /// Identity policies (attached to users and groups) name no principal; resource policies
    /// (bucket policies) must.
    public enum Kind: Sendable { case identity, resource }

    public var version: Version
    public var id: String?
    public private(set) var statements: [Statement]
    /// Which statements can name a given action, built once with the document.
    public private(set) var actionIndex = ActionIndex()

    /// AWS's limits: identity policy documents up to 6,144 characters (managed) and bucket
    /// policies up to 20 KiB; callers pass theirs.
    public init(json: [UInt8], kind: Kind, maxSize: Int = 20 * 1024) throws(PolicyError) {
        guard json.count <= maxSize else { throw PolicyError("the policy document is larger than \(maxSize) bytes") }
        // UTF-8 only, as stored and as IAM and S3 take it: Foundation would also read UTF-16 and
        // UTF-32 (with or without a byte-order mark), which would not survive being stored as text.
        guard String(validating: json, as: UTF8.self) != nil, !json.contains(0), !json.starts(with: [0xEF, 0xBB, 0xBF])
        else { throw PolicyError("the policy document must be UTF-8 text (no byte-order mark, no NUL)") }
        let root: JSONObject
        do {
            guard let object = try JSON.parse(json).object else { throw PolicyError("the policy document must be a JSON object") }
            root = object
        } catch let error as JSONError {
            throw PolicyError("the policy document is not valid JSON: \(error)")
        } catch let error as PolicyError {
            throw error
        } catch {
            throw PolicyError("the policy document is not valid JSON")
        }
        for key in root.keys where !["Version", "Id", "Statement"].contains(key) {
            throw PolicyError("unknown policy element \"\(key)\"")
        }
        switch root["Version"] {
        case nil: version = .v2008
        case .string(let text)?:
            guard let known = Version(rawValue: text) else {
                throw PolicyError("the policy Version must be 2012-10-17 or 2008-10-17, not \"\(text)\"")
            }
            version = known
        default: throw PolicyError("the policy Version must be a string")
        }
        if let id = root["Id"] {
            guard let text = id.string else { throw PolicyError("Id must be a string") }
            self.id = text
        }
        let list: [JSON]
        switch root["Statement"] {
        case .array(let array)?: list = array
        case let single? where single.object != nil: list = [single]
        case nil: throw PolicyError("the policy has no Statement")
        default: throw PolicyError("Statement must be an object or an array of objects")
        }
        guard !list.isEmpty else { throw PolicyError("the policy has no Statement") }
        var statements: [Statement] = []
        var sids: Set<String> = []
        for (index, element) in list.enumerated() {
            guard let object = element.object else {
                throw PolicyError("statement \(index + 1) is not a JSON object")
            }
            let statement = try Statement(object, kind: kind, index: index + 1)
            if let sid = statement.sid, !sid.isEmpty, kind == .identity {
                guard sids.insert(sid).inserted else { throw PolicyError("the Sid \"\(sid)\" is used twice") }
            }
            statements.append(statement)
        }
        self.statements = statements
        actionIndex = ActionIndex(statements)
    }
}

/// The statements of a document that can match an action: those naming it literally (by its
/// ASCII-lowercased name, as `Action` matches case-insensitively), and those whose `Action` holds
/// a wildcard or that use `NotAction` (which must be checked for every action). Evaluation visits
/// only these, in document order: a policy of many statements costs a request only the ones about
/// its action.
public struct ActionIndex: Sendable, Equatable {
    var literal: [String: [Int]] = [:]
    var general: [Int] = []

    init() {}

    init(_ statements: [Statement]) {
        for (index, statement) in statements.enumerated() {
            let isGeneral = statement.actions.negated || statement.actions.values.contains { pattern in
                pattern.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }
            }
            if isGeneral {
                general.append(index)
                continue
            }
            for name in Set(statement.actions.values.map(Self.fold)) { literal[name, default: []].append(index) }
        }
    }

    /// ASCII letters lowercased, every other byte as it is (Wildcard's case-insensitive compare).
    static func fold(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return text }
        return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The indices of the statements to evaluate for `foldedAction` (`fold`ed), ascending.
    func candidates(for foldedAction: String) -> [Int] {
        let named = literal[foldedAction] ?? []
        if general.isEmpty { return named }
        if named.isEmpty { return general }
        var merged: [Int] = []
        merged.reserveCapacity(named.count + general.count)
        var (a, b) = (0, 0)
        while a < named.count || b < general.count {
            if b == general.count || (a < named.count && named[a] < general[b]) {
                merged.append(named[a]); a += 1
            } else {
                merged.append(general[b]); b += 1
            }
        }
        return merged
    }
}

extension PolicyDocument {
    /// The condition keys the document tests, as it spells them.
    public var conditionKeys: [String] {
        var seen: Set<String> = []
        var keys: [String] = []
        for statement in statements {
            for condition in statement.conditions where seen.insert(condition.key).inserted { keys.append(condition.keyName) }
        }
        return keys
    }

    /// Where each statement of a document's JSON text starts and ends, as 1-based (line, column)
    /// pairs in characters — the simulator's StartPosition and EndPosition. Empty if the text does
    /// not have the expected shape (it parsed, so it will).
    public static func statementPositions(_ text: String)
        -> [(start: (line: Int, column: Int), end: (line: Int, column: Int))] {
        var spans: [(start: (line: Int, column: Int), end: (line: Int, column: Int))] = []
        var (line, column) = (1, 0)
        var depth = 0
        var inString = false
        var escaped = false
        var string = ""
        var lastKeyAtRoot = ""
        var statementDepth: Int?  // the depth of the statement objects, once "Statement" is seen
        var start = (line: 0, column: 0)
        for character in text {
            // A browser's form sends CRLF line ends: "\r\n" is one Character in Swift.
            if character == "\n" || character == "\r\n" || character == "\r" {
                line += 1
                column = 0
                continue
            }
            column += 1
            if inString {
                if escaped { escaped = false; string.append(character) }
                else if character == "\\" { escaped = true }
                else if character == "\"" { inString = false }
                else { string.append(character) }
                continue
            }
            switch character {
            case "\"":
                inString = true
                string = ""
            case ":":
                if depth == 1 { lastKeyAtRoot = string }
            case "{", "[":
                depth += 1
                if depth == 2, lastKeyAtRoot == "Statement", statementDepth == nil {
                    statementDepth = character == "[" ? 3 : 2
                }
                if character == "{", let statementDepth, depth == statementDepth { start = (line, column) }
            case "}", "]":
                if character == "}", let statementDepth, depth == statementDepth { spans.append((start, (line, column))) }
                depth -= 1
            case ",":
                if depth == 1 { lastKeyAtRoot = "" }
            default:
                break
            }
        }
        return spans
    }
}

/// Why a policy document was refused (the message names the element).
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One statement.
public struct Statement: Sendable, Equatable {
    public enum Effect: String, Sendable { case allow = "Allow", deny = "Deny" }

    /// A list of patterns, or its complement (`NotAction`, `NotResource`, `NotPrincipal`).
    public struct Patterns: Sendable, Equatable {
        public var values: [String]
        public var negated: Bool
    }

    /// Who a resource policy's statement is about.
    public enum Principals: Sendable, Equatable {
        /// `"*"` or `{"AWS": "*"}`: everyone, anonymous included.
        case everyone
        /// AWS principals: account ids, account root ARNs, user ARNs (wildcards not allowed, as on AWS).
        case aws([String])
        /// Service or federated principals: never Coffer's callers.
        case other
    }

    public var sid: String?
    public var effect: Effect
    public var actions: Patterns
    /// Nil only in resource policies that omit it (AWS requires it; we do too — see init).
    public var resources: Patterns
    public var principals: Principals?
    public var principalsNegated: Bool
    public var conditions: [Condition]

    init(_ object: JSONObject, kind: PolicyDocument.Kind, index: Int) throws(PolicyError) {
        let where_ = "statement \(index)"
        let allowed: Set<String> = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                                    "NotPrincipal", "Condition"]
        for key in object.keys where !allowed.contains(key) {
            throw PolicyError("\(where_) has an unknown element \"\(key)\"")
        }
        if let sid = object["Sid"] {
            guard let text = sid.string else { throw PolicyError("\(where_): Sid must be a string") }
            if kind == .identity, !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                throw PolicyError("\(where_): an identity policy's Sid may hold only letters and digits")
            }
            self.sid = text
        }
        switch object["Effect"]?.string {
        case "Allow": effect = .allow
        case "Deny": effect = .deny
        default: throw PolicyError("\(where_): Effect must be \"Allow\" or \"Deny\"")
        }
        actions = try Self.patterns(object, "Action", "NotAction", where_, required: true)!
        for action in actions.values where action != "*" {
            let parts = action.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw PolicyError("\(where_): the action \"\(action)\" must be service:action (e.g. s3:GetObject)")
            }
        }
        guard let resources = try Self.patterns(object, "Resource", "NotResource", where_, required: true) else {
            throw PolicyError("\(where_) has no Resource")
        }
        self.resources = resources
        let hasPrincipal = object["Principal"] != nil || object["NotPrincipal"] != nil
        switch kind {
        case .identity:
            guard !hasPrincipal else { throw PolicyError("\(where_): an identity policy may not name a Principal") }
            principals = nil
            principalsNegated = false
        case .resource:
            guard hasPrincipal else { throw PolicyError("\(where_) has no Principal") }
            guard (object["Principal"] == nil) != (object["NotPrincipal"] == nil) else {
                throw PolicyError("\(where_) has both Principal and NotPrincipal")
            }
            principalsNegated = object["NotPrincipal"] != nil
            // As on AWS: "NotPrincipal" with "Effect": "Allow" is not supported (it would grant to
            // everyone not named, anonymous callers included).
            guard !(principalsNegated && effect == .allow) else {
                throw PolicyError("\(where_): NotPrincipal can be used only with \"Effect\": \"Deny\"")
            }
            guard let named = object["Principal"] ?? object["NotPrincipal"] else {
                throw PolicyError("\(where_) has no Principal")
            }
            principals = try Self.principals(named, where_)
        }
        conditions = []
        if let block = object["Condition"] {
            guard let operators = block.object else { throw PolicyError("\(where_): Condition must be an object") }
            for (name, keys) in operators.members.sorted(by: { $0.key < $1.key }) {
                guard let keys = keys.object else {
                    throw PolicyError("\(where_): the condition operator \(name) must map keys to values")
                }
                for (key, values) in keys.members.sorted(by: { $0.key < $1.key }) {
                    conditions.append(try Condition(operator: name, key: key, values: values, where: where_))
                }
            }
        }
    }

    static func patterns(_ object: JSONObject, _ positive: String, _ negative: String, _ where_: String,
                         required: Bool) throws(PolicyError) -> Patterns? {
        switch (object[positive], object[negative]) {
        case (nil, nil):
            if required { throw PolicyError("\(where_) has neither \(positive) nor \(negative)") }
            return nil
        case (_?, _?): throw PolicyError("\(where_) has both \(positive) and \(negative)")
        case (let value?, nil): return Patterns(values: try strings(value, positive, where_), negated: false)
        case (nil, let value?): return Patterns(values: try strings(value, negative, where_), negated: true)
        }
    }

    static func strings(_ value: JSON, _ name: String, _ where_: String) throws(PolicyError) -> [String] {
        if let text = value.string { return [text] }
        if let list = value.array, !list.isEmpty {
            var result: [String] = []
            for item in list {
                guard let text = item.string else { throw PolicyError("\(where_): \(name) holds a value that is not a string") }
                result.append(text)
            }
            return result
        }
        throw PolicyError("\(where_): \(name) must be a string or a non-empty array of strings")
    }

    static func principals(_ value: JSON, _ where_: String) throws(PolicyError) -> Principals {
        if let text = value.string {
            guard text == "*" else { throw PolicyError("\(where_): Principal must be \"*\" or an object such as {\"AWS\": …}") }
            return .everyone
        }
        guard let map = value.object, !map.isEmpty else {
            throw PolicyError("\(where_): Principal must be \"*\" or an object such as {\"AWS\": …}")
        }
        var aws: [String] = []
        var other = false
        for (type, names) in map.members {
            let list = try strings(names, "Principal", where_)
            switch type {
            case "AWS":
                for name in list {
                    if name == "*" { return .everyone }
                    let isAccount = name.utf8.count == 12 && name.utf8.allSatisfy { (0x30...0x39).contains($0) }
                    guard isAccount || name.hasPrefix("arn:aws:iam::"), !name.contains("*") else {
                        throw PolicyError("\(where_): invalid principal \"\(name)\" (an account id or an IAM ARN)")
                    }
                    aws.append(isAccount ? "arn:aws:iam::\(name):root" : name)
                }
            case "Service", "Federated", "CanonicalUser": other = true
            default: throw PolicyError("\(where_): unknown principal type \"\(type)\"")
            }
        }
        return aws.isEmpty && other ? .other : .aws(aws)
    }
}
