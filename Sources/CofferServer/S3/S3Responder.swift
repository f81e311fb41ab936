import CofferCore
import CofferEngine
import CofferStore
import Crypto
import Foundation
import CofferIAM
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Turns every HTTP request into one S3 operation: parse once into an `S3Request`, authenticate,
/// dispatch with an exhaustive switch, and render any error the same way.
struct S3Responder: HTTPResponder {
    typealias Context = CofferRequestContext

    let engine: Engine
    let verifier: SigV4Verifier
    let settings: ServerSettings
    let queryAPI: QueryAPI
    let transport: TransportPolicy
    let metrics: CofferMetrics
    let authorizer: S3Authorizer
    /// The in-place path's prepared answers (`PreparedAnswers`); nil on a cluster node.
    var prepared: PreparedAnswers.Cache? = nil

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = RequestID.make()
        let isHead = request.method == .head
        var resource = "/"
        var operation = "unknown"
        var response: Response
        do {
            let target = try RequestTarget(request.head.path ?? "/", virtualHostBucket: RequestTarget.virtualHostBucket(
                authority: request.head.authority, domain: settings.domain))
            resource = String(target.rawPath)
            if let probe = await probeResponse(request, target: target) {
                response = probe
            } else if QueryAPI.accepts(request, target: target) {
                operation = "QueryAPI"
                response = await queryAPI.respond(request, target: target, requestID: requestID,
                                                  context: transport.context(for: request, peer: context.remoteAddress,
                                                                             requestID: requestID),
                                                  logger: context.logger)
            } else {
                let s3 = try S3Request(method: request.method.rawValue, target: target, headers: request.headers)
                operation = s3.operation.rawValue
                let connection = transport.context(for: request, peer: context.remoteAddress, requestID: requestID)
                // The transport rule comes first: before any key lookup, code check or write.
                if request.headers[S3Call.mfa] != nil, let reason = connection.insecureMFAReason {
                    throw S3Error(.invalidRequest, reason)
                }
                // Verified once: by `InPlaceReads` when it looked at this request first, else here.
                let authentication: Authentication
                if let handedOff = try InPlaceReads.handedOff(request.head, on: context.channel)?.get() {
                    authentication = handedOff
                } else {
                    authentication = try await authorizer.access.resolving { try authenticate(request.head, target: target) }
                }
                // The one authorization point: nothing below runs for a request the policies refuse.
                try await authorizer.authorize(s3, principal: authentication.credential.principal, connection: connection)
                let call = S3Call(request: request, s3: s3, target: target, authentication: authentication,
                                  context: context, requestID: requestID, connection: connection)
                do {
                    response = try await dispatch(call)
                } catch let error as S3Error where error.code == .noSuchKey && !call.principal.isRoot {
                    // A missing key is 404 only to a caller who may list the bucket (AWS): to others
                    // it must not tell that the key does not exist.
                    // (HeadBucket is the request that needs exactly s3:ListBucket on the bucket.)
                    guard try await authorizer.permits(.headBucket(call.bucket), principal: call.principal,
                                                 connection: connection)
                    else { throw S3Error(.accessDenied) }
                    throw error
                }
            }
        } catch let error as S3Error {
            response = S3Response.error(error, resource: resource, requestID: requestID, isHead: isHead)
        } catch BlobError.noSpace {
            response = S3Response.error(S3Error(.insufficientStorage), resource: resource, requestID: requestID,
                                        isHead: isHead)
        } catch is StoreBusy {
            // Another process held the write lock past the busy timeout; nothing was written.
            response = S3Response.error(S3Error(.slowDown), resource: resource, requestID: requestID, isHead: isHead)
        } catch is HTTPParserError {
            // The body's framing broke (a bad chunk size): the client's fault, and the connection
            // is closed after this answer (`ConnectionGuard`).
            response = S3Response.error(Self.brokenFraming, resource: resource, requestID: requestID, isHead: isHead)
        } catch {
            // Never internal text in a response: log it against the request id instead.
            context.logger.error("internal error", metadata: ["request-id": "\(requestID)", "operation": "\(operation)",
                                                              "error": "\(String(reflecting: error))"])
            response = S3Response.error(S3Error(.internalError), resource: resource, requestID: requestID, isHead: isHead)
        }
        metrics.request(operation: operation, status: response.status.code)
        Self.stamp(&response.headers, requestID: requestID)
        return response
    }

    /// The headers every response carries (no handler sets them, so they are appended).
    static func stamp(_ headers: inout HTTPFields, requestID: String) {
        stamp(requestID: requestID) { headers.append(HTTPField(name: $0, value: $1)) }
    }

    /// The same headers, one by one (the in-place answers write them as bytes).
    static func stamp(requestID: String, _ add: (HTTPField.Name, String) -> Void) {
        add(S3Response.requestID, requestID)
        add(S3Response.hostID, requestID)
        add(.server, "Coffer")
    }

    /// GET or HEAD of an object whose whole answer is at hand — a body held in its database row, or
    /// none — answered on the event loop without a task (`InPlaceReads`). A declined request goes on
    /// the general path instead (with the signature check's outcome, when it ran), which also
    /// renders every error: this one only answers successes, with the same status, headers and
    /// body `respond` would give.
    func respondInPlace(_ head: HTTPRequest, peerIP: String?) -> InPlaceReads.Answer {
        guard head.method == .get || head.method == .head, let path = head.path,
              let target = try? RequestTarget(path, virtualHostBucket: RequestTarget.virtualHostBucket(
                authority: head.authority, domain: settings.domain)),
              let s3 = try? S3Request(method: head.method.rawValue, target: target, headers: head.headerFields),
              s3.operation == .getObject || s3.operation == .headObject
        else { return .declined(nil) }
        // The transport rule comes before any key lookup, there. (The connection's context is
        // otherwise made only if a policy's conditions read it.)
        if head.headerFields.has(S3Call.mfa),
           transport.context(for: head, peerIP: peerIP, requestID: "").insecureMFAReason != nil { return .declined(nil) }
        let verified = Result { try authenticate(head, target: target) }
        guard case .success(let authentication) = verified,
              // The same authorization point as the general path; a refusal is answered (and audited) there.
              (try? authorizer.decide(s3, principal: authentication.credential.principal,
                                      connection: transport.context(for: head, peerIP: peerIP, requestID: ""))) != nil
        else { return .declined(verified) }
        let object: ObjectRef, options: ReadOptions, isHead: Bool
        switch s3 {
        case .getObject(let ref, let read): (object, options, isHead) = (ref, read, false)
        case .headObject(let ref, let read): (object, options, isHead) = (ref, read, true)
        default: return .declined(verified)  // routed above to GET or HEAD of an object only
        }
        let answer: PreparedAnswer?
        if let prepared, PreparedAnswers.isPlain(head.headerFields, options) {
            // The same answer for every plain request of this object, until a write touches it.
            answer = prepared.value(for: PreparedAnswers.Key(object, isHead: isHead),
                                    keySlot: Store.objectKeySlot(object.key.text), keep: { $0 != nil }) {
                prepare(object, options, head.headerFields, isHead: isHead)
            }
        } else {
            answer = prepare(object, options, head.headerFields, isHead: isHead)
        }
        guard let answer else { return .declined(verified) }
        metrics.inPlaceRead(operation: s3.operation.rawValue, status: Int(answer.status.code))
        return answer.answer(requestID: RequestID.make(), date: DateHeader.now())
    }

    /// The in-place answer to a GET or HEAD of `object` without the headers every response
    /// carries: nil when it is not a success or its body is not in the row.
    private func prepare(_ object: ObjectRef, _ options: ReadOptions, _ requestHeaders: HTTPFields,
                         isHead: Bool) -> PreparedAnswer? {
        guard let read = try? readObjectNow(object, options, requestHeaders: requestHeaders, isHead: isHead) else { return nil }
        var body: ByteBuffer?
        if !isHead, read.length > 0 {
            guard let inline = read.inlineBytes else { return nil }
            body = ByteBuffer(bytes: inline)
        }
        return PreparedAnswer(HTTPResponse(status: read.status, headerFields: read.headers), body: body)
    }

    /// The request's signature, or — for a request that carries none — the anonymous principal,
    /// which the authorization point lets through only where a bucket policy allows `"*"`.
    func authenticate(_ head: HTTPRequest, target: RequestTarget) throws -> Authentication {
        guard !head.headerFields.has(.authorization), !target.has("X-Amz-Signature"), !target.has("X-Amz-Credential"),
              !target.has("Signature"), !target.has("AWSAccessKeyId")
        else {
            metrics.signatureChecked()
            return try verifier.authenticate(head, target: target, service: "s3")
        }
        // AWS: the response-* overrides need a signed request.
        if target.query.contains(where: { $0.name.hasPrefix("response-") }) {
            throw S3Error(.invalidRequest, "Request specific response headers cannot be used for anonymous GET requests.")
        }
        // An unsigned body may still state its hash; if it does, the body must match it.
        var payload = PayloadHash.unsigned
        if let stated = head.headerFields.value(SigV4Verifier.contentSHA256), stated.utf8.count == 64,
           stated.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
            payload = .sha256(stated)
        }
        return Authentication(credential: Credential(secretKey: "", principal: .anonymous(accountID: settings.accountID)),
                              payload: payload)
    }

    /// `GET /health` and `GET /metrics` without credentials: probes, not buckets.
    private func probeResponse(_ request: Request, target: RequestTarget) async -> Response? {
        guard request.method == .get, target.rawPath == "/health" || target.rawPath == "/metrics",
              request.headers[.authorization] == nil, !target.has("X-Amz-Signature"), !target.has("Signature")
        else { return nil }
        var headers = HTTPFields()
        if target.rawPath == "/health" {
            headers[.contentType] = "text/plain"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        headers[.contentType] = "text/plain; version=0.0.4"
        let text = await metrics.render(store: engine.store, now: Engine.systemMilliseconds())
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The one switch: a new request does not compile until it is routed here. Handlers get the
    /// request's typed values; none reads the query string.
    private func dispatch(_ call: S3Call) async throws -> Response {
        switch call.s3 {
        case .listBuckets: try await listBuckets(call)
        case .createBucket: try await createBucket(call)
        case .deleteBucket: try await deleteBucket(call)
        case .headBucket: try await headBucket(call)
        case .getBucketLocation: try await getBucketLocation(call)
        case .getBucketVersioning: try await getBucketVersioning(call)
        case .putBucketVersioning: try await putBucketVersioning(call)
        case .getBucketAcl: try await getAcl(call, object: nil)
        case .getObjectAcl(let object): try await getAcl(call, object: object)
        case .listObjects(_, let listing): try await listObjects(call, listing, version: 1)
        case .listObjectsV2(_, let listing): try await listObjects(call, listing, version: 2)
        case .listObjectVersions(_, let listing): try await listObjectVersions(call, listing)
        case .deleteObjects: try await deleteObjects(call)
        case .putObject: try await putObject(call)
        case .copyObject(_, let source): try await copyObject(call, from: source)
        case .createMultipartUpload: try await createMultipartUpload(call)
        case .uploadPart(let upload, let part): try await uploadPart(call, upload, part: part, copying: nil)
        case .uploadPartCopy(let upload, let part, let source): try await uploadPart(call, upload, part: part, copying: source)
        case .completeMultipartUpload(let upload): try await completeMultipartUpload(call, upload)
        case .abortMultipartUpload(let upload): try await abortMultipartUpload(call, upload)
        case .listParts(let listing): try await listParts(call, listing)
        case .listMultipartUploads(_, let listing): try await listMultipartUploads(call, listing)
        case .getObject(let object, let options): try await getObject(call, object, options, isHead: false)
        case .headObject(let object, let options): try await getObject(call, object, options, isHead: true)
        case .deleteObject(let object): try await deleteObject(call, object)
        case .getBucketPolicy: try await getBucketPolicy(call)
        case .putBucketPolicy: try await putBucketPolicy(call)
        case .deleteBucketPolicy: try await deleteBucketPolicy(call)
        case .getBucketPolicyStatus: try await getBucketPolicyStatus(call)
        }
    }

    static let copySource = HTTPField.Name("x-amz-copy-source")!
    static let brokenFraming = S3Error(.invalidRequest, "The request body is not valid HTTP/1.1 (a broken chunked encoding?).")
}

/// One authenticated request on its way through a handler.
struct S3Call {
    let request: Request
    /// The request's typed values (`S3Request`): what handlers read.
    let s3: S3Request
    let target: RequestTarget
    let authentication: Authentication
    let context: CofferRequestContext
    let requestID: String
    /// Connection facts for the MFA gate and the audit log.
    let connection: ConnectionInfo

    var bucket: String { target.bucket ?? "" }
    var key: String { target.key ?? "" }
    var principal: Principal { authentication.credential.principal }
    /// `x-amz-mfa`, parsed here at the edge.
    var mfa: PresentedMFA? { request.headers[S3Call.mfa].map(PresentedMFA.init(header:)) }

    static let mfa = HTTPField.Name("x-amz-mfa")!
}

/// Settings the handlers read.
struct ServerSettings: Sendable {
    var region: String
    var accountID: String
    /// The owner's canonical user id (64 hex digits) and display name.
    var ownerID: String
    var ownerName: String
    var inlineLimit: Int
    var maxObjectSize: Int64
    /// With a domain, `bucket.DOMAIN` Host headers select the bucket (virtual-host addressing).
    var domain: String?
}

/// The `Date` header, formatted once a second by each thread (`PerThread`: no lock, no string
/// shared between the event loops).
enum DateHeader {
    private final class Cache {
        var seconds: Int64 = 0
        var text = ""
    }

    private static let cache = PerThread { Cache() }

    static func now() -> String {
        let seconds = Engine.systemMilliseconds() / 1000
        let cache = cache.value
        if cache.seconds != seconds {
            cache.seconds = seconds
            cache.text = HTTPDate.format(milliseconds: seconds * 1000)
        }
        return cache.text
    }
}

/// Request ids: 16 uppercase hex digits, like AWS's. A counter per thread from a random start,
/// passed through a bijective mixer (SplitMix64's finalizer): unpredictable-looking, without a
/// `getrandom` system call per request, and without a counter the event loops both write.
enum RequestID {
    private final class Counter {
        var value = UInt64.random(in: 0...UInt64.max)
    }

    private static let counter = PerThread { Counter() }

    static func make() -> String {
        let counter = counter.value
        counter.value &+= 1
        var value = counter.value
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        value ^= value >> 31
        return String(unsafeUninitializedCapacity: 16) { digits in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 15
                digits[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
            }
            return 16
        }
    }
}
