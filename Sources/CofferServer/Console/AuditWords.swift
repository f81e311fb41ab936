import CofferStore

/// The audit log in words for people: the event's API name stays in small print beside them.
enum AuditWords {
    /// Events people meet most, said plainly; any other API name is split into words.
    static let known: [String: String] = [
        "ConsoleLogin": "Console sign-in",
        "ChangePassword": "Changed own password",
        "CreateVirtualMFADevice": "Created a virtual MFA device",
        "EnableMFADevice": "Assigned an MFA device",
        "ResyncMFADevice": "Resynchronized an MFA device",
        "DeactivateMFADevice": "Removed an MFA device",
        "AdminDeactivateMFADevice": "Removed an MFA device (coffer admin)",
        "DeleteVirtualMFADevice": "Deleted a virtual MFA device",
        "ImportHardwareToken": "Imported a hardware token",
        "CreateUser": "Created a user", "DeleteUser": "Deleted a user",
        "AttachUserPolicy": "Attached a policy", "DetachUserPolicy": "Detached a policy",
        "UpdateLoginProfile": "Set a user's password", "CreateAccessKey": "Created an access key",
        "UpdateAccessKey": "Changed an access key's status", "DeleteAccessKey": "Deleted an access key",
        "CreateBucket": "Created a bucket", "DeleteBucket": "Deleted a bucket",
        "PutBucketVersioning": "Changed bucket versioning", "PutBucketPolicy": "Saved a bucket policy",
        "DeleteBucketPolicy": "Deleted a bucket policy", "DeleteObject": "Deleted an object",
        "DeleteObjects": "Deleted objects", "PutObject": "Uploaded an object",
        "CreateMultipartUpload": "Started an upload", "CompleteMultipartUpload": "Finished an upload",
        "AbortMultipartUpload": "Cancelled an upload", "GetObject": "Read an object",
        "ListObjectVersions": "Listed versions", "Audit": "Read the audit log",
        "SignInSecurityKey": "Console sign-in with a security key", "RegisterSecurityKey": "Registered a security key",
        "SendSMSCode": "Texted an MFA code", "CreateSMSMFADevice": "Started assigning an SMS MFA device",
        "DeleteSMSMFADevice": "Cancelled an unfinished SMS MFA device",
    ]

    /// `Console:CreateUser` → ("Created a user", "CreateUser · console").
    static func event(_ name: String) -> (words: String, api: String) {
        let console = name.hasPrefix("Console:")
        let api = console ? String(name.dropFirst("Console:".count)) : name
        let words = known[api] ?? split(api)
        return (words, console ? api + " · console" : api)
    }

    /// `PutBucketTagging` → "Put bucket tagging" (runs of capitals stay together: `MFA`).
    static func split(_ name: String) -> String {
        var words: [String] = []
        var current = ""
        let scalars = Array(name.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            let upper = scalar.properties.isUppercase
            let nextLower = index + 1 < scalars.count && scalars[index + 1].properties.isLowercase
            let previousUpper = index > 0 && scalars[index - 1].properties.isUppercase
            if upper, !current.isEmpty, !previousUpper || nextLower {
                words.append(current)
                current = ""
            }
            current.unicodeScalars.append(scalar)
        }
        if !current.isEmpty { words.append(current) }
        guard let first = words.first else { return name }
        let rest = words.dropFirst().map { $0.count > 1 && $0.allSatisfy(\.isUppercase) ? $0 : $0.lowercased() }
        return ([first] + rest).joined(separator: " ")
    }

    static func outcome(_ outcome: AuditOutcome) -> String {
        switch outcome {
        case .done: "Done"
        case .passed: "Succeeded"
        case .failed: "Failed"
        case .refused: "Refused"
        case .denied: "Denied by policy"
        }
    }

    /// `arn:aws:iam::123456789012:root` → "root"; `…:user/alice` → "alice"; anything else as is.
    static func principal(_ arn: String) -> String {
        if arn.hasSuffix(":root") { return "root" }
        if let range = arn.range(of: ":user/") { return String(arn[range.upperBound...].split(separator: "/").last ?? "") }
        return arn.isEmpty ? "anonymous" : arn
    }
}
