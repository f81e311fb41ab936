import CofferCore
import CofferIAM
import Crypto
import Foundation

/// A presigned GET (SigV4, query form) for the console's "Share with a presigned link": signed
/// with temporary credentials of the signed-in person's console session (`X-Amz-Security-Token`),
/// never with a long-term key, checked by the API like any client's presigned URL.
enum ConsolePresign {
    /// `origin`: `http://host:port` of the S3 API, as the browser reaches it; `now`: Unix ms.
    static func url(origin: String, host: String, bucket: String, key: String, versionID: String?, region: String,
                    credentials: SessionCredentials, now: Int64, expiresIn seconds: Int64) -> String {
        let stamp = HTTPDate.iso8601(milliseconds: now / 1000 * 1000).replacingOccurrences(of: ".000", with: "")
            .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let date = String(stamp.prefix(8))
        let scope = "\(date)/\(region)/s3/aws4_request"
        let path = "/" + Percent.encode(bucket) + "/" + Percent.encode(key, keepSlash: true)
        var query: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKey)/\(scope)"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", String(seconds)),
            ("X-Amz-Security-Token", credentials.token),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let versionID { query.append(("versionId", versionID)) }
        var encoded: [(name: String, value: String)] = []
        for (name, value) in query { encoded.append((Percent.encode(name), Percent.encode(value))) }
        encoded.sort { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        let canonicalQuery: String = encoded.map { (pair: (name: String, value: String)) -> String in pair.name + "=" + pair.value }
            .joined(separator: "&")
        let canonical = "GET\n\(path)\n\(canonicalQuery)\nhost:\(host)\n\nhost\nUNSIGNED-PAYLOAD"
        let hashed = hexString(SHA256.hash(data: Array(canonical.utf8)))
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(hashed)"
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secret).utf8))
        for part in [date, region, "s3", "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = hexString(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key))
        return origin + path + "?" + canonicalQuery + "&X-Amz-Signature=" + signature
    }
}
