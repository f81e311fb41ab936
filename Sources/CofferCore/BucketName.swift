/// S3 bucket naming rules (general purpose buckets): 3–63 characters of lowercase letters,
/// digits, '.' and '-'; begins and ends with a letter or digit; no '..', '.-' or '-.'; not an IPv4 address;
/// none of the reserved prefixes and suffixes.
public enum BucketName {
    public static func validate(_ name: String) throws(S3Error) {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { throw invalid(name, "must be 3 to 63 characters long") }
        for byte in bytes {
            let allowed = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
            guard allowed else { throw invalid(name, "may contain only lowercase letters, digits, '.' and '-'") }
        }
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else {
            throw invalid(name, "must begin and end with a letter or digit")
        }
        guard !name.contains("..") else { throw invalid(name, "must not contain two adjacent periods") }
        guard !name.contains(".-"), !name.contains("-.") else {
            throw invalid(name, "must not contain a period next to a hyphen ('.-' or '-.')")
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) {
            throw invalid(name, "must not be formatted as an IP address")
        }
        for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(prefix) {
            throw invalid(name, "must not start with '\(prefix)'")
        }
        for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(suffix) {
            throw invalid(name, "must not end with '\(suffix)'")
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func invalid(_ name: String, _ reason: String) -> S3Error {
        S3Error(.invalidBucketName, "The specified bucket is not valid: the name \(reason).",
                details: [("BucketName", name)])
    }
}
