/// A phone number in E.164: `+`, then 8 to 15 digits, the first not 0. What people type — spaces,
/// dots, dashes and parentheses, and a trunk prefix written `(0)` — is removed; anything else is refused. Never logged whole:
/// `masked` is what pages, audit rows, answers and logs show.
public struct PhoneNumber: Sendable, Equatable {
    /// `+` and the digits.
    public let e164: String

    /// The longest input looked at (a number with generous punctuation fits easily).
    public static let maxInput = 64

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maxInput else { return nil }
        var digits: [UInt8] = []
        var sawPlus = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            // "+44 (0)20 …": the (0) is the trunk prefix dialled inside the country, never part of the
            // international number (left in, one phone would count as two for the per-number limits).
            if byte == UInt8(ascii: "("), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "0"),
               bytes[index + 1] == UInt8(ascii: ")") {
                index += 2
                continue
            }
            switch byte {
            case UInt8(ascii: "+"):
                // Only first, before any digit.
                guard !sawPlus, digits.isEmpty else { return nil }
                sawPlus = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard sawPlus else { return nil }
                digits.append(byte)
            case UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"):
                continue
            default:
                return nil
            }
        }
        guard sawPlus, (8...15).contains(digits.count), digits[0] != UInt8(ascii: "0") else { return nil }
        e164 = "+" + String(decoding: digits, as: UTF8.self)
    }

    /// `+`, a bullet for each hidden digit, the last four digits: `+•••••••1234`.
    public var masked: String { Self.mask(e164) }

    /// The masked form of an E.164 text (what a stored device shows without opening the number).
    public static func mask(_ e164: String) -> String {
        let digits = e164.utf8.count - 1
        guard digits > 4 else { return "+••••" }
        return "+" + String(repeating: "•", count: digits - 4) + String(e164.suffix(4))
    }

    /// The words a refused number gets.
    public static let rule = "Type the phone number in international form: + then the country code and the number, "
        + "8 to 15 digits in all (for example +44 20 7946 0958). Spaces, dots, dashes and parentheses are fine."
}
