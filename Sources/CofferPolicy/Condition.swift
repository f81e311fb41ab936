import Foundation
import StrictJSON

/// One `"Operator": {"key": values}` entry of a statement's Condition block: the operator (with
/// its `…IfExists` and `ForAnyValue:` / `ForAllValues:` forms), the key, and the values as
/// strings (JSON numbers and booleans are taken as their text, as AWS does).
public struct Condition: Sendable, Equatable {
    public enum Base: String, Sendable, CaseIterable {
        case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike", stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
        case dateEquals = "DateEquals", dateNotEquals = "DateNotEquals"
        case dateLessThan = "DateLessThan", dateLessThanEquals = "DateLessThanEquals"
        case dateGreaterThan = "DateGreaterThan", dateGreaterThanEquals = "DateGreaterThanEquals"
        case bool = "Bool"
        case binaryEquals = "BinaryEquals"
        case ipAddress = "IpAddress", notIpAddress = "NotIpAddress"
        case arnEquals = "ArnEquals", arnLike = "ArnLike", arnNotEquals = "ArnNotEquals", arnNotLike = "ArnNotLike"
        case null = "Null"

        /// Operators that hold when no value of the key matches (true for an absent key).
        var isNegated: Bool {
            switch self {
            case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals,
                 .notIpAddress, .arnNotEquals, .arnNotLike:
                true
            case .stringEquals, .stringEqualsIgnoreCase, .stringLike, .numericEquals, .numericLessThan,
                 .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals, .dateEquals, .dateLessThan,
                 .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals, .bool, .binaryEquals, .ipAddress,
                 .arnEquals, .arnLike, .null:
                false
            }
        }

        /// Operators whose values may hold policy variables.
        var takesVariables: Bool {
            switch self {
            case .stringEquals, .stringNotEquals, .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase, .stringLike,
                 .stringNotLike, .arnEquals, .arnLike, .arnNotEquals, .arnNotLike:
                true
            case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
                 .numericGreaterThanEquals, .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals,
                 .dateGreaterThan, .dateGreaterThanEquals, .bool, .binaryEquals, .ipAddress, .notIpAddress, .null:
                false
            }
        }
    }

    public enum SetQualifier: String, Sendable { case forAnyValue = "ForAnyValue", forAllValues = "ForAllValues" }

    public var base: Base
    public var ifExists: Bool
    public var qualifier: SetQualifier?
    /// Condition keys compare case-insensitively: kept lowercased.
    public var key: String
    /// The key as the document spells it (for messages and the simulator).
    public var keyName: String
    public var values: [String]

    init(operator name: String, key: String, values: JSON, where where_: String) throws(PolicyError) {
        var text = Substring(name)
        if let colon = text.firstIndex(of: ":") {
            guard let qualifier = SetQualifier(rawValue: String(text[..<colon])) else {
                throw PolicyError("\(where_): unknown condition set operator in \"\(name)\"")
            }
            self.qualifier = qualifier
            text = text[text.index(after: colon)...]
        }
        ifExists = text.hasSuffix("IfExists")
        if ifExists { text = text.dropLast("IfExists".count) }
        guard let base = Base(rawValue: String(text)) else { throw PolicyError("\(where_): unknown condition operator \"\(name)\"") }
        guard !(base == .null && ifExists) else { throw PolicyError("\(where_): Null has no IfExists form") }
        self.base = base
        guard !key.isEmpty else { throw PolicyError("\(where_): an empty condition key under \(name)") }
        self.key = key.lowercased()
        keyName = key
        let list: [JSON] = values.array ?? [values]
        guard !list.isEmpty else { throw PolicyError("\(where_): \(name) \"\(key)\" has no values") }
        var strings: [String] = []
        for value in list {
            switch value {
            case .string(let text): strings.append(text)
            case .number(let text): strings.append(text)
            case .bool(let flag): strings.append(flag ? "true" : "false")
            default: throw PolicyError("\(where_): \(name) \"\(key)\" holds a value that is not a string, number or boolean")
            }
        }
        for value in strings { try Self.validate(value, for: base, name: name, where: where_) }
        self.values = strings
    }

    /// Values the operator could never compare are refused when the policy is stored.
    static func validate(_ value: String, for base: Base, name: String, where where_: String) throws(PolicyError) {
        switch base {
        case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
             .numericGreaterThanEquals:
            guard Double(value) != nil else { throw PolicyError("\(where_): \(name) needs numbers, not \"\(value)\"") }
        case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard PolicyDate.parse(value) != nil else { throw PolicyError("\(where_): \(name) needs dates, not \"\(value)\"") }
        case .bool, .null:
            guard ["true", "false"].contains(value.lowercased()) else {
                throw PolicyError("\(where_): \(name) needs true or false, not \"\(value)\"")
            }
        case .ipAddress, .notIpAddress:
            guard CIDR(value) != nil else { throw PolicyError("\(where_): \(name) needs an IP address or CIDR, not \"\(value)\"") }
        case .binaryEquals:
            guard Data(base64Encoded: value) != nil else { throw PolicyError("\(where_): \(name) needs base64, not \"\(value)\"") }
        case .stringEquals, .stringNotEquals, .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase, .stringLike,
             .stringNotLike, .arnEquals, .arnLike, .arnNotEquals, .arnNotLike:
            break
        }
    }
}

/// Policy dates: ISO 8601 (`2026-01-01T00:00:00Z`, with or without fraction or zone) or Unix seconds.
enum PolicyDate {
    static func parse(_ text: String) -> Double? {
        if let seconds = Double(text) { return seconds }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
                                                      [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        }
        return nil
    }
}

/// An IPv4 or IPv6 address with an optional prefix length.
struct CIDR: Equatable {
    var bytes: [UInt8]
    var prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.address(String(parts[0])) else { return nil }
        bytes = address
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...(address.count * 8)).contains(length) else { return nil }
            prefix = length
        } else {
            prefix = address.count * 8
        }
    }

    func contains(_ text: String) -> Bool {
        guard var other = Self.address(text) else { return false }
        // An IPv4 peer seen on a dual-stack socket (::ffff:a.b.c.d) is that IPv4 address.
        if other.count == 16, bytes.count == 4, other[..<12].elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) {
            other = Array(other[12...])
        }
        guard other.count == bytes.count else { return false }
        var remaining = prefix
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    static func address(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
