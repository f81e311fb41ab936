import CofferCore
import HTTPTypes

/// The one S3 router: a request's method, target and copy-source header become the typed
/// `S3Request` in one pass (Garage's `router.rs`), its parameters parsed where the operation is
/// chosen. Everything after it switches over that one type.
extension S3Request {
    /// Sub-resources Coffer does not implement (yet): asking for one is `501 NotImplemented`.
    static let unimplemented: Set<String> = [
        "accelerate", "analytics", "cors", "encryption", "intelligent-tiering", "inventory", "legal-hold",
        "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls", "publicAccessBlock",
        "replication", "requestPayment", "restore", "retention", "select", "tagging", "torrent", "website", "attributes",
        "session", "metadataTable", "renameObject",
    ]

    /// Sub-resources some operation defines: present on a request whose operation does not
    /// define it, one is `501 NotImplemented`, never the base operation (`DELETE /b?versioning`
    /// must not delete the bucket).
    static let subresources: Set<String> = Set(S3Operation.allCases.flatMap(\.subresources))

    /// The parameters S3 operations take with a value: sent empty (`?prefix=`), each is still that
    /// parameter, not a sub-resource.
    static let valueParameters: Set<String> = [
        "prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token", "fetch-owner",
        "start-after", "key-marker", "version-id-marker", "upload-id-marker", "max-uploads", "max-parts",
        "part-number-marker", "uploadId", "partNumber", "versionId", "x-id", "max-buckets", "bucket-region",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
        "X-Amz-Security-Token", "x-amz-security-token", "AWSAccessKeyId", "Signature", "Expires",
    ]

    /// What each known query parameter is, for one lookup per parameter.
    enum ParameterKind { case unimplemented, subresource, value }
    fileprivate static let kinds: [String: ParameterKind] = {
        var kinds: [String: ParameterKind] = [:]
        for name in valueParameters { kinds[name] = .value }
        for name in subresources { kinds[name] = .subresource }
        for name in unimplemented { kinds[name] = .unimplemented }
        return kinds
    }()

    /// Routes and parses a request. Errors: `NotImplemented` for what Coffer does not serve (an
    /// unimplemented or stray sub-resource, an unknown method), else the parameter's own error.
    init(method: String, target: RequestTarget, headers: HTTPFields) throws {
        // Each parameter's kind, looked up once for both checks.
        let kinds = target.query.map { Self.kinds[$0.name] }
        if let unsupported = kinds.firstIndex(of: .unimplemented) {
            throw S3Error(.notImplemented, "Coffer does not implement the '\(target.query[unsupported].name)' sub-resource.")
        }
        let route = Route(method: method, target: target, headers: headers, kinds: kinds)
        guard let bucket = target.bucket else {
            guard method == "GET" else { throw Route.notImplemented(method, "/") }
            try route.select(.listBuckets)
            self = .listBuckets
            return
        }
        guard let key = target.key else {
            self = try route.bucket(bucket)
            return
        }
        self = try route.object(bucket, key)
    }
}

/// One request being routed: the branch that picks an operation calls `select` (the stray
/// sub-resource check) before it parses that operation's parameters.
private struct Route {
    let method: String
    let target: RequestTarget
    let headers: HTTPFields
    /// `S3Request.kinds` of each query parameter, in order.
    let kinds: [S3Request.ParameterKind?]

    /// A sub-resource this operation does not define, or a valueless parameter no operation
    /// takes, is not this operation (a value-carrying unknown parameter is ignored, as AWS does).
    func select(_ operation: S3Operation) throws {
        // The operation's own sub-resources are looked at only when a parameter could be one.
        if let stray = zip(target.query, kinds).first(where: { item, kind in
            (kind == .subresource || (item.value.isEmpty && kind != .value)) && !operation.subresources.contains(item.name)
        })?.0 {
            throw S3Error(.notImplemented,
                          "Coffer does not implement the '\(stray.name)' sub-resource for \(method) \(operation.rawValue).")
        }
    }

    static func notImplemented(_ method: String, _ what: String) -> S3Error {
        S3Error(.notImplemented, "Coffer does not implement \(method) on this \(what).")
    }

    func bucket(_ bucket: String) throws -> S3Request {
        switch method {
        case "GET":
            if target.has("uploads") {
                try select(.listMultipartUploads)
                return .listMultipartUploads(bucket, UploadsListing(list: try .init(target), keyMarker: target["key-marker"] ?? "",
                                                                    uploadIDMarker: target["upload-id-marker"] ?? "",
                                                                    maxUploads: count("max-uploads")))
            }
            if target.has("policy") { try select(.getBucketPolicy); return .getBucketPolicy(bucket) }
            if target.has("policyStatus") { try select(.getBucketPolicyStatus); return .getBucketPolicyStatus(bucket) }
            if target.has("versioning") { try select(.getBucketVersioning); return .getBucketVersioning(bucket) }
            if target.has("location") { try select(.getBucketLocation); return .getBucketLocation(bucket) }
            if target.has("acl") { try select(.getBucketAcl); return .getBucketAcl(bucket) }
            if target.has("versions") {
                try select(.listObjectVersions)
                let keyMarker = target["key-marker"]
                let versionMarker = target["version-id-marker"]
                if let versionMarker, !versionMarker.isEmpty, keyMarker?.isEmpty ?? true {
                    throw S3Error.invalidArgument("A version-id marker cannot be specified without a key marker.",
                                                  name: "version-id-marker", value: versionMarker)
                }
                return .listObjectVersions(bucket, VersionListing(list: try .init(target), keyMarker: keyMarker,
                                                                  versionIDMarker: versionMarker))
            }
            if target["list-type"] == "2" {
                try select(.listObjectsV2)
                var listing = ObjectListing(list: try .init(target), marker: target["start-after"], continuationToken: nil,
                                            startAfter: target["start-after"], fetchOwner: target["fetch-owner"] == "true")
                if let token = target["continuation-token"], !token.isEmpty {  // empty: the first page
                    guard let key = S3Responder.decodeToken(token) else {
                        throw S3Error.invalidArgument("The continuation token provided is incorrect", name: "continuation-token")
                    }
                    listing.continuationToken = token
                    listing.marker = key
                }
                return .listObjectsV2(bucket, listing)
            }
            try select(.listObjects)
            return .listObjects(bucket, ObjectListing(list: try .init(target), marker: target["marker"], continuationToken: nil,
                                                      startAfter: nil, fetchOwner: true))
        case "HEAD":
            try select(.headBucket)
            return .headBucket(bucket)
        case "PUT":
            if target.has("versioning") { try select(.putBucketVersioning); return .putBucketVersioning(bucket) }
            if target.has("policy") { try select(.putBucketPolicy); return .putBucketPolicy(bucket) }
            if target.has("acl") { throw Self.notImplemented(method, "?acl") }
            try select(.createBucket)
            return .createBucket(bucket)
        case "DELETE":
            if target.has("policy") { try select(.deleteBucketPolicy); return .deleteBucketPolicy(bucket) }
            try select(.deleteBucket)
            return .deleteBucket(bucket)
        case "POST":
            guard target.has("delete") else { throw Self.notImplemented(method, "bucket") }
            try select(.deleteObjects)
            return .deleteObjects(bucket)
        default: throw Self.notImplemented(method, "bucket")
        }
    }

    func object(_ bucket: String, _ key: String) throws -> S3Request {
        /// The operation chosen: no stray sub-resource, and a key of at most 1,024 bytes (checked
        /// before the authorization point matches it).
        func pick(_ operation: S3Operation) throws {
            try select(operation)
            if key.utf8.count > S3Request.maxKeyLength {
                throw S3Error(.keyTooLong, details: [("Size", String(key.utf8.count)), ("MaxSizeAllowed", "1024")])
            }
        }
        let object = ObjectRef(bucket: bucket, key: ObjectKey(key), versionID: target["versionId"])
        func upload() throws -> UploadRef {
            guard let uploadID = target["uploadId"], !uploadID.isEmpty else {
                throw S3Error(.noSuchUpload, details: [("UploadId", "")])
            }
            return UploadRef(bucket: bucket, key: ObjectKey(key), uploadID: uploadID)
        }
        let multipart = target.has("uploadId")
        let copies = headers.has(S3Responder.copySource)
        switch method {
        case "GET":
            if multipart {
                try pick(.listParts)
                return .listParts(PartsListing(upload: try upload(), marker: target["part-number-marker"].flatMap(Int.init) ?? 0,
                                               maxParts: count("max-parts")))
            }
            if target.has("acl") { try pick(.getObjectAcl); return .getObjectAcl(object) }
            try pick(.getObject)
            return .getObject(object, try readOptions())
        case "HEAD":
            try pick(.headObject)
            return .headObject(object, try readOptions())
        case "PUT":
            guard !target.has("acl"), !target.has("uploads") else { throw Self.notImplemented(method, "sub-resource") }
            switch (multipart || target.has("partNumber"), copies) {
            case (true, true): try pick(.uploadPartCopy); return .uploadPartCopy(try upload(), part: try part(), from: try copySource())
            case (true, false): try pick(.uploadPart); return .uploadPart(try upload(), part: try part())
            case (false, true): try pick(.copyObject); return .copyObject(object, from: try copySource())
            case (false, false): try pick(.putObject); return .putObject(object)
            }
        case "POST":
            if target.has("uploads") { try pick(.createMultipartUpload); return .createMultipartUpload(object) }
            guard multipart else { throw Self.notImplemented(method, "object") }
            try pick(.completeMultipartUpload)
            return .completeMultipartUpload(try upload())
        case "DELETE":
            if multipart { try pick(.abortMultipartUpload); return .abortMultipartUpload(try upload()) }
            try pick(.deleteObject)
            return .deleteObject(object)
        default: throw Self.notImplemented(method, "object")
        }
    }

    func part() throws -> Int {
        guard let number = target["partNumber"].flatMap(Int.init) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber")
        }
        return number
    }

    func copySource() throws -> CopySource {
        let (bucket, key, versionID) = try S3Responder.parseCopySource(headers[S3Responder.copySource] ?? "")
        return CopySource(bucket: bucket, key: ObjectKey(key), versionID: versionID)
    }

    func readOptions() throws -> ReadOptions {
        var options = ReadOptions(partNumber: nil, overrides: [])
        if let text = target["partNumber"] {
            guard let number = Int(text), (1...10_000).contains(number) else {
                throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                              name: "partNumber", value: text)
            }
            options.partNumber = number
        }
        for (parameter, value) in target.query where hasBytePrefix(parameter, "response-") {
            if let name = S3Responder.overrides[parameter], !options.overrides.contains(where: { $0.name == name }) {
                options.overrides.append((name, value))
            }
        }
        return options
    }

    /// A bounded count parameter (`max-parts`, `max-uploads`): 0–1,000, 1,000 when absent.
    func count(_ name: String) -> Int { min(max(target[name].flatMap(Int.init) ?? 1000, 0), 1000) }
}

extension S3Operation {
    /// The valueless query parameters (sub-resources) that select this operation.
    var subresources: Set<String> {
        switch self {
        case .getBucketLocation: ["location"]
        case .getBucketVersioning, .putBucketVersioning: ["versioning"]
        case .getBucketAcl, .getObjectAcl: ["acl"]
        case .listObjectVersions: ["versions"]
        case .deleteObjects: ["delete"]
        case .createMultipartUpload, .listMultipartUploads: ["uploads"]
        case .getBucketPolicy, .putBucketPolicy, .deleteBucketPolicy: ["policy"]
        case .getBucketPolicyStatus: ["policyStatus"]
        case .listBuckets, .createBucket, .deleteBucket, .headBucket, .listObjects, .listObjectsV2, .putObject,
             .copyObject, .uploadPart, .uploadPartCopy, .completeMultipartUpload, .abortMultipartUpload, .listParts,
             .getObject, .headObject, .deleteObject:
            []
        }
    }
}
