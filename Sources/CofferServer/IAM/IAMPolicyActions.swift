import CofferCore
import CofferIAM
import CofferPolicy
import CofferStore
import Foundation

/// The results of the policy, group and simulator actions.
extension QueryAPI {
    func inlinePolicy(_ call: QueryCall, owner: PolicyOwner, ownerElement: String) async throws -> Result {
        let name = try call.required("PolicyName")
        let document = try await registry.policies.inlinePolicy(owner, name: name)
        let ownerName = try call.required(ownerElement)
        return { xml in
            xml.element(ownerElement, ownerName)
            xml.element("PolicyName", name)
            // IAM sends documents URL-encoded (RFC 3986); the SDKs decode them.
            xml.element("PolicyDocument", Percent.encode(document))
        }
    }

    func inlinePolicyNames(_ call: QueryCall, owner: PolicyOwner) async throws -> Result {
        let names = try await registry.policies.inlinePolicyNames(owner)
        return { xml in
            xml.element("PolicyNames") { xml in for name in names { xml.element("member", name) } }
            xml.element("IsTruncated", false)
        }
    }

    func attachedPolicies(_ call: QueryCall, owner: PolicyOwner) async throws -> Result {
        let attached = try await registry.policies.attachedPolicies(owner)
        return { xml in
            xml.element("AttachedPolicies") { xml in
                for policy in attached {
                    xml.element("member") { xml in
                        xml.element("PolicyName", policy.name)
                        xml.element("PolicyArn", policy.arn)
                    }
                }
            }
            xml.element("IsTruncated", false)
        }
    }

    func policy(_ policy: Registry.ManagedPolicy, _ xml: inout XMLWriter) {
        xml.element("PolicyName", policy.name)
        xml.element("PolicyId", policy.policyID)
        xml.element("Arn", policy.arn)
        xml.element("Path", policy.path)
        xml.element("DefaultVersionId", policy.defaultVersion)
        xml.element("AttachmentCount", policy.attachmentCount)
        xml.element("PermissionsBoundaryUsageCount", 0)
        xml.element("IsAttachable", true)
        if !policy.description.isEmpty { xml.element("Description", policy.description) }
        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: policy.created))
        xml.element("UpdateDate", HTTPDate.iso8601(milliseconds: policy.updated))
    }

    func policyVersion(_ version: PolicyVersionRecord, isDefault: Bool, _ xml: inout XMLWriter) {
        xml.element("Document", Percent.encode(version.document))
        xml.element("VersionId", version.versionID)
        xml.element("IsDefaultVersion", isDefault)
        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: version.created))
    }

    func group(_ group: GroupRecord, _ xml: inout XMLWriter) {
        xml.element("Path", group.path)
        xml.element("GroupName", group.name)
        xml.element("GroupId", group.groupID)
        xml.element("Arn", registry.policies.groupArn(group))
        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: group.created))
    }

    func loginProfile(_ profile: LoginProfileRecord, _ xml: inout XMLWriter) {
        xml.element("UserName", profile.userName)
        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: profile.created))
        xml.element("PasswordResetRequired", profile.resetRequired)
    }

    func passwordPolicy(_ policy: PasswordPolicy, _ xml: inout XMLWriter) {
        xml.element("MinimumPasswordLength", policy.minimumLength)
        xml.element("RequireSymbols", policy.requireSymbols)
        xml.element("RequireNumbers", policy.requireNumbers)
        xml.element("RequireUppercaseCharacters", policy.requireUppercase)
        xml.element("RequireLowercaseCharacters", policy.requireLowercase)
        xml.element("AllowUsersToChangePassword", policy.allowUsersToChangePassword)
        xml.element("ExpirePasswords", policy.maxAge != nil)
        if let age = policy.maxAge { xml.element("MaxPasswordAge", age) }
        if let reuse = policy.reusePrevention { xml.element("PasswordReusePrevention", reuse) }
        if let hard = policy.hardExpiry { xml.element("HardExpiry", hard) }
    }

    // MARK: Simulator

    /// SimulatePrincipalPolicy (`principalArn`: a user or group of the account, whose policies
    /// join `PolicyInputList`) and SimulateCustomPolicy (nil: only `PolicyInputList`). Decisions
    /// come from the same evaluation the authorization point makes.
    func simulate(_ call: QueryCall, principalArn: String?) async throws -> Result {
        let actions = call.list("ActionNames")
        guard !actions.isEmpty else { throw IAMError.validation("actionNames", "Member must not be null") }
        guard actions.count <= 1000 else { throw IAMError.validation("actionNames", "Member must have at most 1000 items") }
        var resources = call.list("ResourceArns")
        if resources.isEmpty { resources = ["*"] }
        // Bounded work: at most 100 evaluations (AWS pages its results; Coffer asks for fewer
        // names instead), ARNs of at most 2,048 characters, and one budget of wildcard steps for
        // the whole request.
        guard actions.count * resources.count <= 100 else {
            throw IAMError(.invalidInput, "Simulate at most 100 action and resource pairs per request.")
        }
        guard resources.allSatisfy({ $0.utf8.count <= 2048 }) else {
            throw IAMError.validation("resourceArns", "Member must have length less than or equal to 2048")
        }
        var identity: [PolicySource] = []
        for (index, text) in call.list("PolicyInputList").enumerated() {
            do throws(PolicyError) {
                let document = try PolicyDocument(json: Array(text.utf8), kind: .identity, maxSize: 131_072)
                identity.append(PolicySource(id: "PolicyInputList.\(index + 1)", kind: .none, document: document, text: text))
            } catch {
                throw IAMError(.malformedPolicyDocument, "PolicyInputList.\(index + 1): \(error.message)")
            }
        }
        var principal = Principal(userName: "", accountID: registry.accountID)
        if let principalArn {
            let prefix = "arn:aws:iam::\(registry.accountID):"
            let name = String(principalArn.split(separator: "/").last ?? "")
            if principalArn.hasPrefix(prefix + "user/"), let user = try await registry.devices.user(named: name),
               registry.userArn(user) == principalArn {
                principal = Principal(userName: user.name, path: user.path, userID: user.userID, accountID: registry.accountID)
                identity = try await registry.access.resolving { try registry.access.identityPolicies(user: user.name) }
                    + identity
            } else if principalArn.hasPrefix(prefix + "group/"), let group = try await registry.policies.group(named: name),
                      registry.policies.groupArn(group) == principalArn {
                identity = try await registry.access.groupPolicies(group: group.name) + identity
            } else {
                throw IAMError(.noSuchEntity, "The principal \(principalArn) cannot be found (a user or group of this account).")
            }
        } else if identity.isEmpty {
            throw IAMError.validation("policyInputList", "Member must not be null")
        }
        if let caller = call.form["CallerArn"] {
            let name = String(caller.split(separator: "/").last ?? "")
            if let user = try await registry.devices.user(named: name), registry.userArn(user) == caller {
                principal = Principal(userName: user.name, path: user.path, userID: user.userID, accountID: registry.accountID)
            }
        }
        var resourcePolicy: PolicySource?
        if let text = call.form["ResourcePolicy"] {
            do throws(PolicyError) {
                resourcePolicy = PolicySource(id: "ResourcePolicy", kind: .resource,
                                              document: try PolicyDocument(json: Array(text.utf8), kind: .resource),
                                              text: text)
            } catch {
                throw IAMError(.malformedPolicyDocument, "ResourcePolicy: \(error.message)")
            }
        }
        // The context: what the principal would bring, then the caller's entries (which win).
        var keys = principal.isAnonymous ? [:] : ConditionKeys.global(
            principal, connection: ConditionKeys.Connection(secureTransport: false, sourceIP: nil, userAgent: nil),
            now: registry.verifier.now())
        keys["aws:securetransport"] = nil
        keys["aws:currenttime"] = nil
        keys["aws:epochtime"] = nil
        var entry = 1
        while let name = call.form["ContextEntries.member.\(entry).ContextKeyName"] {
            var values: [String] = []
            var index = 1
            while let value = call.form["ContextEntries.member.\(entry).ContextKeyValues.member.\(index)"] {
                values.append(value)
                index += 1
            }
            keys[name.lowercased()] = values
            entry += 1
        }
        let sources = identity + (resourcePolicy.map { [$0] } ?? [])
        let kinds = Dictionary(sources.map { ($0.id, $0.kind.rawValue) }, uniquingKeysWith: { first, _ in first })
        let positions = Dictionary(sources.map { ($0.id, PolicyDocument.statementPositions($0.text)) },
                                   uniquingKeysWith: { first, _ in first })
        var results: [(action: String, resource: String, evaluation: Evaluation, missing: [String])] = []
        let budget = WorkBudget(steps: 4 * WorkBudget.perEvaluation)
        for action in actions {
            for resource in resources {
                let evaluation = registry.access.evaluate(principal, action: action, resource: resource, identity: identity,
                                                          resourcePolicy: resourcePolicy, budget: budget, keys: { keys })
                guard !budget.exhausted else {
                    throw IAMError(.invalidInput, "The simulation needs more wildcard matching than one request may do: "
                        + "simplify the patterns or the resource names.")
                }
                let missing = registry.access.missingKeys(action: action, resource: resource, principal: principal,
                                                          identity: identity, resourcePolicy: resourcePolicy, keys: keys)
                results.append((action, resource, evaluation, missing))
            }
        }
        return { xml in
            xml.element("EvaluationResults") { xml in
                for result in results {
                    xml.element("member") { xml in
                        xml.element("EvalActionName", result.action)
                        xml.element("EvalResourceName", result.resource)
                        xml.element("EvalDecision", result.evaluation.decision.rawValue)
                        xml.element("MatchedStatements") { xml in
                            for match in result.evaluation.matched {
                                xml.element("member") { xml in
                                    xml.element("SourcePolicyId", match.policy)
                                    xml.element("SourcePolicyType", kinds[match.policy] ?? "none")
                                    let spans = positions[match.policy] ?? []
                                    if match.index <= spans.count {
                                        let span = spans[match.index - 1]
                                        xml.element("StartPosition") { xml in
                                            xml.element("Line", span.start.line)
                                            xml.element("Column", span.start.column)
                                        }
                                        xml.element("EndPosition") { xml in
                                            xml.element("Line", span.end.line)
                                            xml.element("Column", span.end.column)
                                        }
                                    }
                                }
                            }
                        }
                        xml.element("MissingContextValues") { xml in
                            for key in result.missing { xml.element("member", key) }
                        }
                    }
                }
            }
            xml.element("IsTruncated", false)
        }
    }
}
