/// Dates as S3 writes them: RFC 7231 IMF-fixdate in headers, ISO 8601 with milliseconds in XML.
/// Civil-calendar arithmetic (days from 1970-01-01), no formatter objects on the hot path.
public enum HTTPDate {
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    public static func format(milliseconds: Int64) -> String {
        let seconds = floorDivide(milliseconds, 1000)
        let days = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(days: days)
        let secondOfDay = Int(seconds - days * 86_400)
        let weekday = Int(((days % 7) + 7) % 7)
        let yearText = String(year)  // four digits from 1000 to 9999; any other year as it is
        // Written as bytes, not interpolated: this runs for every object answer (Last-Modified).
        return String(unsafeUninitializedCapacity: 25 + yearText.utf8.count) { output in
            var at = 0
            func put(_ text: String) {
                for byte in text.utf8 {
                    output[at] = byte
                    at += 1
                }
            }
            func pair(_ value: Int) {  // 0...99, two digits
                output[at] = UInt8(truncatingIfNeeded: 0x30 + value / 10)
                output[at + 1] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                at += 2
            }
            put(weekdays[weekday]); put(", "); pair(day); put(" "); put(months[month - 1]); put(" "); put(yearText)
            put(" "); pair(secondOfDay / 3600); put(":"); pair(secondOfDay / 60 % 60); put(":"); pair(secondOfDay % 60)
            put(" GMT")
            return at
        }
    }

    /// `2009-10-12T17:50:30.000Z`
    public static func iso8601(milliseconds: Int64) -> String {
        let seconds = floorDivide(milliseconds, 1000)
        let millis = milliseconds - seconds * 1000
        let days = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(days: days)
        let secondOfDay = seconds - days * 86_400
        let fraction = String(millis + 1000).dropFirst()
        return "\(year)-\(two(month))-\(two(day))T\(two(Int(secondOfDay / 3600))):\(two(Int(secondOfDay / 60 % 60))):\(two(Int(secondOfDay % 60))).\(fraction)Z"
    }

    /// Parses IMF-fixdate (and the obsolete RFC 850 / asctime forms loosely); milliseconds, or nil.
    /// Input is hostile: every number is at most four digits, the year within 1…9999, so the
    /// arithmetic below cannot overflow (a trap here would be a remote kill).
    public static func parse(_ text: String) -> Int64? {
        guard text.utf8.count <= 64 else { return nil }
        // Take the numbers and the month name in order: day, month, year, hour, minute, second.
        var numbers: [Int64] = []
        var month: Int?
        var current: [UInt8] = []
        var valid = true
        func flush() {
            defer { current.removeAll(keepingCapacity: true) }
            guard !current.isEmpty else { return }
            if current.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                guard current.count <= 4 else { valid = false; return }
                numbers.append(current.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) })
            } else if let index = months.firstIndex(where: { name in
                name.utf8.elementsEqual(current) { ($0 | 0x20) == ($1 | 0x20) }
            }) {
                month = index + 1
            }
        }
        for byte in text.utf8 {
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            if isLetter || isDigit { current.append(byte) } else { flush() }
        }
        flush()
        guard valid, let month, numbers.count == 5 else { return nil }
        var (day, year, hour, minute, second) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
        if numbers[4] >= 1000 {  // asctime: "Sun Nov  6 08:49:37 1994"
            (year, hour, minute, second) = (numbers[4], numbers[1], numbers[2], numbers[3])
        } else if year < 100 {   // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
            year += year < 70 ? 2000 : 1900
        }
        guard (1...9999).contains(year), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let days = daysFromCivil(year: year, month: Int64(month), day: day)
        return ((days * 86_400) + hour * 3600 + minute * 60 + second) * 1000
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Days since 1970-01-01 → (year, month 1…12, day 1…31), proleptic Gregorian.
    static func civil(days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let mp = (month + 9) % 12
        let dayOfYear = (153 * mp + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
