import CofferCore
import Crypto
import CofferIAM
import Foundation
import HTTPTypes

/// SigV2 query authentication (`AWSAccessKeyId`, `Signature`, `Expires`): the presigned URLs boto3's
/// `generate_presigned_url` and `aws s3 presign` make by default. String to sign:
/// `VERB\nContent-MD5\nContent-Type\nExpires\n` + `x-amz-*` headers + the canonical resource
/// (the path as sent, plus the sub-resources botocore signs, values decoded).
extension SigV4Verifier {
    static let signedSubresources: Set<String> = [
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
        "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
        "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select", "select-type",
        "object-lock",
    ]

    /// Seven days, SigV4's limit for X-Amz-Expires.
    static let maxPresignedLifetime: Int64 = 604_800

    func verifySigV2Query(head: HTTPRequest, target: RequestTarget) throws -> Authentication {
        guard let accessKey = target["AWSAccessKeyId"], let signature = target["Signature"],
              let expiresText = target["Expires"], let expires = Int64(expiresText)
        else {
            throw S3Error(.accessDenied, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
        }
        let current = now()
        guard current <= expires else { throw S3Error(.accessDenied, "Request has expired") }
        // SigV2 carries no signing time, so a URL could live for ever: Coffer caps it at seven
        // days ahead, as SigV4 caps X-Amz-Expires (AWS itself sets no cap on SigV2).
        guard expires - current <= Self.maxPresignedLifetime else {
            throw S3Error(.accessDenied, "Query-string authentication: Expires may be at most 604800 seconds (seven days) "
                + "from now.")
        }
        var amzHeaders: [(String, String)] = []
        for field in head.headerFields where field.name.canonicalName.hasPrefix("x-amz-") {
            amzHeaders.append((field.name.canonicalName, Self.collapse(field.value)))
        }
        amzHeaders.sort { $0.0 < $1.0 }
        var resource = target.virtualHostBucket.map { "/\($0)" + target.rawPath } ?? String(target.rawPath)
        // A request on the bucket itself signs `/bucket/` (AWS's canonical resource; botocore adds
        // the slash to a path-style `/bucket` for exactly this reason).
        if target.bucket != nil, target.key == nil, !resource.hasSuffix("/") { resource += "/" }
        let subresources = target.query.filter { Self.signedSubresources.contains($0.name) }
            .sorted { $0.name < $1.name }
            .map { $0.value.isEmpty && !target.rawQuery.contains("\($0.name)=") ? $0.name : "\($0.name)=\($0.value)" }
        if !subresources.isEmpty { resource += "?" + subresources.joined(separator: "&") }
        let stringToSign = "\(head.method.rawValue)\n\(head.headerFields[.contentMD5] ?? "")\n"
            + "\(head.headerFields[.contentType] ?? "")\n\(expiresText)\n"
            + amzHeaders.map { "\($0.0):\($0.1)\n" }.joined() + resource
        guard let credential = try credentials.credential(for: accessKey) else {
            throw S3Error(.invalidAccessKeyId, details: [("AWSAccessKeyId", accessKey)])
        }
        let expected = Data(HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(stringToSign.utf8), using: SymmetricKey(data: Array(credential.secretKey.utf8)))).base64EncodedString()
        guard constantTimeEqual(expected.utf8, signature.utf8) else {
            throw S3Error(.signatureDoesNotMatch, details: [("StringToSign", stringToSign)])
        }
        // The same token and expiry checks as SigV4 (the expiry was missing here: a session's keys
        // kept working in SigV2 presigned URLs after it ended).
        try checkSessionToken(credential, presented: target["x-amz-security-token"] ?? head.headerFields[Self.securityToken])
        return Authentication(credential: credential, payload: .unsigned)
    }
}
