import CofferCore
import CofferEngine
import Hummingbird
import HTTPTypes

/// ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation, the versioning pair, and
/// the read-only ACLs common tools ask for.
extension S3Responder {
    func listBuckets(_ call: S3Call) async throws -> Response {
        let buckets = try await engine.listBuckets()
        var writer = XMLWriter()
        writer.document("ListAllMyBucketsResult") { xml in
            owner(&xml)
            xml.element("Buckets") { xml in
                for bucket in buckets {
                    xml.element("Bucket") { xml in
                        xml.element("Name", bucket.name)
                        xml.element("CreationDate", HTTPDate.iso8601(milliseconds: bucket.created))
                        xml.element("BucketRegion", bucket.region)
                    }
                }
            }
        }
        return S3Response.xml(writer)
    }

    func createBucket(_ call: S3Call) async throws -> Response {
        let body = try await Body.collect(call.request, limit: 64 * 1024, payload: call.authentication.payload)
        _ = try await engine.createBucket(call.bucket, region: try Self.bucketRegion(body, default: settings.region))
        var headers = HTTPFields()
        headers[.location] = "/\(call.bucket)"
        return S3Response.empty(.ok, headers: headers)
    }

    /// The region of a `CreateBucketConfiguration` (an empty body: the server's).
    static func bucketRegion(_ body: [UInt8], default region: String) throws -> String {
        guard !body.isEmpty else { return region }
        guard let document = try? XMLParser.parse(body), document.name == "CreateBucketConfiguration" else {
            throw S3Error.malformedXML
        }
        guard let constraint = document.child("LocationConstraint")?.text, !constraint.isEmpty else { return region }
        return constraint
    }

    func deleteBucket(_ call: S3Call) async throws -> Response {
        try await engine.deleteBucket(call.bucket)
        return S3Response.empty(.noContent)
    }

    func headBucket(_ call: S3Call) async throws -> Response {
        let bucket = try await engine.bucket(call.bucket)
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amz-bucket-region")!] = bucket.region
        return S3Response.empty(.ok, headers: headers)
    }

    func getBucketLocation(_ call: S3Call) async throws -> Response {
        let bucket = try await engine.bucket(call.bucket)
        var writer = XMLWriter()
        // us-east-1 is reported as an empty constraint, as AWS does.
        writer.document("LocationConstraint") { xml in
            if bucket.region != "us-east-1" { XMLWriter.escape(bucket.region, into: &xml.text) }
        }
        return S3Response.xml(writer)
    }

    func getBucketVersioning(_ call: S3Call) async throws -> Response {
        let bucket = try await engine.bucket(call.bucket)
        var writer = XMLWriter()
        writer.document("VersioningConfiguration") { xml in
            xml.optional("Status", bucket.versioning.status.wireValue)
            xml.optional("MfaDelete", bucket.versioning.mfaDelete.wireValue)
        }
        return S3Response.xml(writer)
    }

    /// Status is required (`IllegalVersioningConfigurationException`); values other than
    /// Enabled/Suspended and Enabled/Disabled, or other elements (`MFADelete`), are `MalformedXML`.
    func putBucketVersioning(_ call: S3Call) async throws -> Response {
        let body = try await Body.collect(call.request, limit: 64 * 1024, payload: call.authentication.payload)
        _ = try Body.verifyIntegrityHeaders(call.request.headers, body: body)
        try await engine.putVersioning(call.bucket, try Self.versioningRequest(body),
                                       principal: call.principal, mfa: call.mfa,
                                       context: call.connection)
        return S3Response.empty(.ok)
    }

    /// A `VersioningConfiguration` document, read strictly (fuzzed: `coffer-fuzz versioning`).
    static func versioningRequest(_ body: [UInt8]) throws -> VersioningConfiguration.Request {
        guard let document = try? XMLParser.parse(body), document.name == "VersioningConfiguration" else {
            throw S3Error.malformedXML
        }
        guard document.children.allSatisfy({ $0.name == "Status" || $0.name == "MfaDelete" }) else {
            throw S3Error.malformedXML
        }
        guard let statusText = document.child("Status")?.text, !statusText.isEmpty else {
            throw S3Error(.illegalVersioningConfiguration)
        }
        let status: VersioningConfiguration.Request.Status
        switch statusText {
        case "Enabled": status = .enabled
        case "Suspended": status = .suspended
        default: throw S3Error.malformedXML
        }
        var mfaDelete: Bool?
        if let text = document.child("MfaDelete")?.text {
            switch text {
            case "Enabled": mfaDelete = true
            case "Disabled": mfaDelete = false
            default: throw S3Error.malformedXML
            }
        }
        return .init(status: status, mfaDelete: mfaDelete)
    }

    /// The owner with FULL_CONTROL: all Coffer has, and what `aws s3` and other tools expect to read.
    func getAcl(_ call: S3Call, object: ObjectRef?) async throws -> Response {
        if let object {
            _ = try await engine.objectForRead(bucket: object.bucket, key: object.key.text, versionID: object.versionID)
        } else {
            _ = try await engine.bucket(call.bucket)
        }
        var writer = XMLWriter()
        writer.document("AccessControlPolicy") { xml in
            owner(&xml)
            xml.element("AccessControlList") { xml in
                xml.text += "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">"
                xml.element("ID", settings.ownerID)
                xml.element("DisplayName", settings.ownerName)
                xml.text += "</Grantee>"
                xml.element("Permission", "FULL_CONTROL")
                xml.text += "</Grant>"
            }
        }
        return S3Response.xml(writer)
    }

    func owner(_ xml: inout XMLWriter) {
        xml.element("Owner") { xml in
            xml.element("ID", settings.ownerID)
            xml.element("DisplayName", settings.ownerName)
        }
    }
}

/// Bucket policies (`?policy`, `?policyStatus`).
extension S3Responder {
    func getBucketPolicy(_ call: S3Call) async throws -> Response {
        let document = try await engine.bucketPolicy(call.bucket)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: document)))
    }

    func putBucketPolicy(_ call: S3Call) async throws -> Response {
        let body: [UInt8]
        do {
            body = try await Body.collect(call.request, limit: Engine.maxBucketPolicySize,
                                          payload: call.authentication.payload)
        } catch let error as S3Error where error.code == .malformedXML {
            throw S3Error(.malformedPolicy, "Policies cannot exceed \(Engine.maxBucketPolicySize) bytes.")
        }
        _ = try Body.verifyIntegrityHeaders(call.request.headers, body: body)
        try await engine.putBucketPolicy(call.bucket, document: body)
        return S3Response.empty(.noContent)
    }

    func deleteBucketPolicy(_ call: S3Call) async throws -> Response {
        try await engine.deleteBucketPolicy(call.bucket)
        return S3Response.empty(.noContent)
    }

    func getBucketPolicyStatus(_ call: S3Call) async throws -> Response {
        let isPublic = try await engine.bucketPolicyIsPublic(call.bucket)
        var writer = XMLWriter()
        writer.document("PolicyStatus") { xml in xml.element("IsPublic", isPublic) }
        return S3Response.xml(writer)
    }
}
