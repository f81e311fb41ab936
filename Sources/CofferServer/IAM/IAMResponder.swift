import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Crypto
import Foundation
import Hummingbird
import Logging
import HTTPTypes
import NIOCore
import NIOHTTP1

/// The IAM and STS Query APIs (`POST /`, form-encoded `Action=…`) on the S3 port.
struct QueryAPI: AuthorizationPoint {
    let registry: Registry
    let verifier: SigV4Verifier
    let refusals: RefusalAudit

    enum Service: String { case iam, sts }

    static let iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
    static let stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
    /// Whether a request follows the transport rule: its action carries a code or returns a secret,
    /// or it carries a code whatever its action.
    static func carriesCodeOrSecret(_ action: IAMAction?, _ form: [String: String]) -> Bool {
        (action?.carriesSecret ?? false) || form["TokenCode"] != nil || form["AuthenticationCode1"] != nil
    }

    /// Whether a request is for the Query APIs rather than S3.
    static func accepts(_ request: Request, target: RequestTarget) -> Bool {
        request.method == .post && target.rawPath == "/"
            && (request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false)
    }

    func respond(_ request: Request, target: RequestTarget, requestID: String, context: ConnectionInfo,
                 logger: Logger) async -> Response {
        var service = Service.iam
        var action = "unknown"
        do {
            let body = try await Body.collect(request, limit: 64 * 1024, payload: .unsigned)
            let form = try Self.parseForm(body)
            guard let named = form["Action"] else {
                throw IAMError(.missingParameter, "The request must contain the parameter Action.")
            }
            action = named
            let typed = IAMAction(rawValue: named)
            service = typed?.isSTS ?? false ? .sts : .iam
            // The transport rule comes first: before any key lookup, code check or creation.
            if Self.carriesCodeOrSecret(typed, form), let reason = context.insecureMFAReason {
                throw IAMError(.invalidInput, reason)
            }
            let bodyHash = hexString(SHA256.hash(data: body))
            let authentication: Authentication
            do {
                authentication = try await registry.access.resolving {
                    try verifier.authenticate(request.head, target: target, service: service.rawValue, bodySHA256: bodyHash)
                }
            } catch let error as S3Error {
                throw Self.authError(error)
            }
            // The signature covers the body only through its hash: a request signed for one body
            // must not run another. IAM and STS never take UNSIGNED-PAYLOAD (or aws-chunked).
            guard case .sha256(let signedHash) = authentication.payload else {
                throw IAMError(.accessDenied, "IAM and STS requests must sign the SHA-256 of their body: "
                    + "UNSIGNED-PAYLOAD is not accepted.")
            }
            guard signedHash == bodyHash else {
                throw IAMError(.accessDenied, "The provided 'x-amz-content-sha256' header does not match what was computed.")
            }
            guard let typed else {
                throw IAMError(.invalidAction, "Could not find operation \(named) for version 2010-05-08")
            }
            let call = QueryCall(action: typed, form: form, caller: authentication.credential.principal,
                                 info: Registry.RequestInfo(source: context.source, requestID: requestID))
            // The one authorization point of the Query APIs: nothing below runs for a refused call.
            try await authorize(call, principal: call.caller, connection: context)
            let result = try await dispatch(call)
            return Self.success(action: action, service: service, result: result, requestID: requestID)
        } catch let error as IAMError {
            return Self.failure(error, service: service, requestID: requestID)
        } catch is StoreBusy {
            return Self.failure(IAMError(.serviceUnavailable, "The service is busy: nothing was changed. Please try again."),
                                service: service, requestID: requestID)
        } catch is HTTPParserError {
            return Self.failure(IAMError(.invalidInput, S3Responder.brokenFraming.message), service: service,
                                requestID: requestID)
        } catch let error as S3Error where error.code == .incompleteBody || error.code == .malformedXML {
            return Self.failure(IAMError(.invalidInput, error.message), service: service, requestID: requestID)
        } catch {
            // Never internal text in a response: logged against the request id instead.
            logger.error("internal error", metadata: ["request-id": "\(requestID)", "operation": "\(action)",
                                                      "error": "\(String(reflecting: error))"])
            return Self.failure(IAMError(.serviceFailure, "We encountered an internal error. Please try again."),
                                service: service, requestID: requestID)
        }
    }

    /// A refusal answers `AccessDenied`.
    func answer(to denial: Denial, for call: QueryCall) throws -> any Error { IAMError(.accessDenied, denial.message) }

    func event(of call: QueryCall) -> String { "IAM:\(call.action.rawValue)" }

    /// Decides whether the caller may make this call: the guards that are not policies first
    /// (STS calls are never subject to policies; session credentials made without MFA cannot
    /// call IAM; the root is not subject to identity policies), then the caller's policies.
    /// Throws `Denial` (or the error of a resource that cannot be named). `principal` is the call's caller.
    func check(_ call: QueryCall, principal: Principal, connection: ConnectionInfo) async throws {
        let action = call.action
        guard !action.isPolicyExempt else { return }
        if principal.isSession, !principal.isConsole, !principal.mfaAuthenticated {
            throw Denial(message: "\(action.rawValue) is not allowed with session credentials that were not obtained with MFA.",
                         reason: "session credentials without MFA", action: action.policyAction, resource: "*")
        }
        guard !principal.isRoot else { return }
        let resource = try await action.resource(call, registry: registry)
        do {
            try await registry.access.resolving {
                try registry.access.authorize(principal, action: action.policyAction, resource: resource, bucket: nil,
                                              service: .iam) {
                    ConditionKeys.global(principal, connection: ConditionKeys.Connection(
                        secureTransport: connection.secureTransport, sourceIP: connection.sourceIP,
                        userAgent: connection.userAgent), now: registry.verifier.now())
                }
            }
        } catch let denial as Denial where action == .changePassword && !denial.isExplicit {
            // AllowUsersToChangePassword lets every IAM user change their own password without
            // a policy (AWS) — but not past an explicit Deny.
            guard try await registry.passwords.passwordPolicy()?.allowUsersToChangePassword ?? false else { throw denial }
        }
    }

    /// Authentication failures in the Query protocol's words.
    static func authError(_ error: S3Error) -> IAMError {
        switch error.code {
        case .signatureDoesNotMatch:
            IAMError(.accessDenied, "The request signature we calculated does not match the signature you provided.")
        case .invalidAccessKeyId: IAMError(.accessDenied, "The security token included in the request is invalid.")
        case .expiredToken: IAMError(.accessDenied, "The security token included in the request is expired")
        default: IAMError(.accessDenied, error.message)
        }
    }

    // MARK: Wire

    static func parseForm(_ body: [UInt8]) throws -> [String: String] {
        var form: [String: String] = [:]
        let text = String(decoding: body, as: UTF8.self)
        for item in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Percent.decode(parts[0], plusAsSpace: true),
                  let value = Percent.decode(parts.count > 1 ? parts[1] : "", plusAsSpace: true)
            else { throw IAMError(.invalidInput, "The request body is not valid form encoding.") }
            form[name] = value
        }
        return form
    }

    static func success(action: String, service: Service, result: ((inout XMLWriter) -> Void)?, requestID: String) -> Response {
        var writer = XMLWriter()
        writer.document("\(action)Response", namespace: service == .iam ? iamNamespace : stsNamespace) { xml in
            if let result { xml.element("\(action)Result") { result(&$0) } }
            xml.element("ResponseMetadata") { $0.element("RequestId", requestID) }
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
        return S3Response.xml(writer, headers: headers)
    }

    static func failure(_ error: IAMError, service: Service, requestID: String) -> Response {
        var writer = XMLWriter()
        writer.document("ErrorResponse", namespace: service == .iam ? iamNamespace : stsNamespace) { xml in
            xml.element("Error") { xml in
                xml.element("Type", error.code.type)
                xml.element("Code", error.code.rawValue)
                xml.element("Message", error.message)
            }
            xml.element("RequestId", requestID)
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
        return S3Response.xml(writer, status: error.httpStatus, headers: headers)
    }
}

/// One Query API call.
struct QueryCall: Sendable {
    let action: IAMAction
    let form: [String: String]
    let caller: Principal
    let info: Registry.RequestInfo

    func required(_ name: String) throws -> String {
        guard let value = form[name], !value.isEmpty else {
            throw IAMError.validation(name.prefix(1).lowercased() + name.dropFirst(), "Member must not be null")
        }
        return value
    }

    /// A boolean parameter: `true` or `false`; nil when absent.
    func boolean(_ name: String) throws -> Bool? {
        switch form[name] {
        case nil: return nil
        case "true"?: return true
        case "false"?: return false
        default:
            throw IAMError.validation(name.prefix(1).lowercased() + name.dropFirst(), "Member must be true or false")
        }
    }

    func maxItems() throws -> Int {
        guard let text = form["MaxItems"] else { return 100 }
        guard let value = Int(text), (1...1000).contains(value) else {
            throw IAMError.validation("maxItems", "Member must have value between 1 and 1000")
        }
        return value
    }

    /// `Name.member.1.Key`, `Name.member.1.Value`, … as pairs.
    func tags(_ name: String = "Tags") -> [(String, String)] {
        var tags: [(String, String)] = []
        var index = 1
        while let key = form["\(name).member.\(index).Key"] {
            tags.append((key, form["\(name).member.\(index).Value"] ?? ""))
            index += 1
        }
        return tags
    }

    func list(_ name: String) -> [String] {
        var values: [String] = []
        var index = 1
        while let value = form["\(name).member.\(index)"] {
            values.append(value)
            index += 1
        }
        return values
    }
}
