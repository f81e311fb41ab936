import CofferCore
import CofferIAM
import Foundation
import Crypto
import HTTPTypes
import Testing
@testable import CofferServer

/// The worked examples of AWS's "Signature Version 4 for S3" documentation (examplebucket,
/// AKIAIOSFODNN7EXAMPLE, 2013-05-24): a judge that is not our own code.
@Suite("SigV4 against AWS's published examples")
struct SigV4VectorTests {
    static let accessKey = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let signedAt: Int64 = 1_369_353_600  // 20130524T000000Z
    static let emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func verifier(at now: Int64 = signedAt) -> SigV4Verifier {
        SigV4Verifier(credentials: RegistryCredentialStore(rootAccessKey: Self.accessKey, rootSecretKey: Self.secret, registry: nil), now: { now })
    }

    func request(_ method: HTTPRequest.Method, _ target: String, signed: String, signature: String,
                 headers: [(String, String)]) -> (HTTPRequest, RequestTarget) {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        fields[.authorization] = "AWS4-HMAC-SHA256 Credential=\(Self.accessKey)/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=\(signed),Signature=\(signature)"
        let head = HTTPRequest(method: method, scheme: "https", authority: "examplebucket.s3.amazonaws.com",
                               path: target, headerFields: fields)
        return (head, try! RequestTarget(target))
    }

    @Test("GET Object with a Range header")
    func getObject() async throws {
        let (head, target) = request(.get, "/test.txt", signed: "host;range;x-amz-content-sha256;x-amz-date",
                                     signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                                     headers: [("Range", "bytes=0-9"), ("x-amz-content-sha256", Self.emptySHA),
                                               ("x-amz-date", "20130524T000000Z")])
        let authentication = try verifier().authenticate(head, target: target, service: "s3")
        #expect(authentication.credential.principal.isRoot)
        #expect(authentication.payload == .sha256(Self.emptySHA))
    }

    @Test("PUT Object with a Date header, a storage class and an escaped path")
    func putObject() async throws {
        let (head, target) = request(.put, "/test%24file.text",
                                     signed: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                                     signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
                                     headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                                               ("x-amz-date", "20130524T000000Z"),
                                               ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                                               ("x-amz-content-sha256",
                                                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")])
        _ = try verifier().authenticate(head, target: target, service: "s3")
    }

    @Test("GET Bucket lifecycle: a bare sub-resource is `lifecycle=` in the canonical query")
    func lifecycle() async throws {
        let (head, target) = request(.get, "/?lifecycle", signed: "host;x-amz-content-sha256;x-amz-date",
                                     signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
                                     headers: [("x-amz-content-sha256", Self.emptySHA), ("x-amz-date", "20130524T000000Z")])
        _ = try verifier().authenticate(head, target: target, service: "s3")
    }

    @Test("GET Bucket (list objects): the query is sorted")
    func listObjects() async throws {
        let (head, target) = request(.get, "/?max-keys=2&prefix=J", signed: "host;x-amz-content-sha256;x-amz-date",
                                     signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
                                     headers: [("x-amz-content-sha256", Self.emptySHA), ("x-amz-date", "20130524T000000Z")])
        _ = try verifier().authenticate(head, target: target, service: "s3")
    }

    @Test("Presigned GET (query authentication), valid until expiry, refused after")
    func presigned() async throws {
        let target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        let head = HTTPRequest(method: .get, scheme: "https", authority: "examplebucket.s3.amazonaws.com", path: target)
        let parsed = try RequestTarget(target)
        let authentication = try verifier(at: Self.signedAt + 3600).authenticate(head, target: parsed, service: "s3")
        #expect(authentication.payload == .unsigned)
        #expect(throws: S3Error(.accessDenied, "Request has expired")) {
            _ = try verifier(at: Self.signedAt + 86_401).authenticate(head, target: parsed, service: "s3")
        }
    }

    @Test("A changed byte anywhere is SignatureDoesNotMatch; a skewed clock is RequestTimeTooSkewed")
    func tampering() async throws {
        let (head, target) = request(.get, "/test.txt", signed: "host;range;x-amz-content-sha256;x-amz-date",
                                     signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                                     headers: [("Range", "bytes=0-8"), ("x-amz-content-sha256", Self.emptySHA),
                                               ("x-amz-date", "20130524T000000Z")])
        do {
            _ = try verifier().authenticate(head, target: target, service: "s3")
            Issue.record("a tampered Range must not verify")
        } catch let error as S3Error {
            #expect(error.code == .signatureDoesNotMatch)
        }
        do {
            _ = try verifier(at: Self.signedAt + 901).authenticate(head, target: target, service: "s3")
            Issue.record("a skewed request must not verify")
        } catch let error as S3Error {
            #expect(error.code == .requestTimeTooSkewed)
        }
        #expect(throws: S3Error.self) {
            _ = try verifier().authenticate(head, target: target, service: "iam")
        }
    }

    /// A session's keys, expired at `expiration`.
    struct SessionStore: CredentialStore {
        let expiration: Int64
        func credential(for accessKey: String) throws -> Credential? {
            Credential(secretKey: "session-secret", principal: Principal(userName: "u", isSession: true, accessKey: accessKey),
                       sessionTokenHash: Registry.tokenHash("token"),
                       expiration: expiration)
        }
    }

    @Test("SigV2 presigned URLs: a session's keys stop working when the session expires")
    func sigV2SessionExpiry() throws {
        let expires = Self.signedAt + 3600
        let stringToSign = "GET\n\n\n\(expires)\n/bucket/key"
        let signature = Data(HMAC<Insecure.SHA1>.authenticationCode(for: Array(stringToSign.utf8),
                                                                    using: SymmetricKey(data: Array("session-secret".utf8))))
            .base64EncodedString()
        let query = "AWSAccessKeyId=ASIATESTSESSION00001&Expires=\(expires)&x-amz-security-token=token&Signature="
            + Percent.encode(signature)
        let target = try RequestTarget("/bucket/key?" + query)
        let head = HTTPRequest(method: .get, scheme: nil, authority: "h", path: "/bucket/key?" + query)
        func verifier(sessionEnds: Int64) -> SigV4Verifier {
            SigV4Verifier(credentials: SessionStore(expiration: sessionEnds), now: { Self.signedAt })
        }
        _ = try verifier(sessionEnds: Self.signedAt + 60).authenticate(head, target: target, service: "s3")
        #expect(throws: S3Error(.expiredToken)) {
            _ = try verifier(sessionEnds: Self.signedAt).authenticate(head, target: target, service: "s3")
        }
    }

    @Test("A credential scope is five parts split at slashes: key, 8-digit date, region, service, aws4_request")
    func credentialScopes() throws {
        let scope = try SigV4Verifier.Scope("AKID/20130524/us-east-1/s3/aws4_request", service: "s3", error: .authorizationHeaderMalformed)
        #expect(scope.accessKey == "AKID" && scope.date == "20130524" && scope.region == "us-east-1" && scope.service == "s3")
        #expect(scope.text == "20130524/us-east-1/s3/aws4_request")
        // An empty region is a part (the region check refuses it later).
        #expect(try SigV4Verifier.Scope("AKID/20130524//s3/aws4_request", service: "s3", error: .authorizationHeaderMalformed).region == "")
        for malformed in ["", "AKID", "AKID/20130524/us-east-1/s3", "/20130524/us-east-1/s3/aws4_request",
                          "AKID/2013052/us-east-1/s3/aws4_request", "AKID/20130524/us-east-1/s3/aws4_request/",
                          "AKID/20130524/us-east-1/s3/aws4_request/x", "AKID/20130524/us-east-1/s3/aws4_requesT",
                          "AKID/20130524/us-east-1/iam/aws4_request", "AKID/20130524/us-east-1/s3/aws4_request\u{301}"] {
            #expect(throws: S3Error.self, "\(malformed)") {
                try SigV4Verifier.Scope(malformed, service: "s3", error: .authorizationHeaderMalformed)
            }
        }
    }
}
