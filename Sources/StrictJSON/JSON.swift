/// A JSON value read strictly by RFC 8259: what a policy document, a WebAuthn client data or any
/// other JSON from outside is, once parsed. Numbers keep the text they were written with (IAM
/// compares condition values as text); objects keep their members' order and never hold a key twice.
public enum JSON: Sendable, Equatable {
    case object(JSONObject)
    case array([JSON])
    case string(String)
    /// The number as written (`-1.5e3`): already checked against RFC 8259's grammar.
    case number(String)
    case bool(Bool)
    case null

    /// The string, if this is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The object, if this is one.
    public var object: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The array, if this is one.
    public var array: [JSON]? {
        if case .array(let array) = self { return array }
        return nil
    }

    /// The boolean, if this is one.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

/// A JSON object: its members in document order, each key once.
public struct JSONObject: Sendable, Equatable {
    /// The keys in the order the document gave them.
    public private(set) var keys: [String] = []
    private var values: [String: JSON] = [:]

    public init() {}

    /// Adds a member; false (and nothing added) when the key is already there.
    @discardableResult
    public mutating func insert(_ key: String, _ value: JSON) -> Bool {
        guard values[key] == nil else { return false }
        keys.append(key)
        values[key] = value
        return true
    }

    public subscript(key: String) -> JSON? { values[key] }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    /// The members in document order.
    public var members: [(key: String, value: JSON)] { keys.compactMap { key in values[key].map { (key, $0) } } }
}
