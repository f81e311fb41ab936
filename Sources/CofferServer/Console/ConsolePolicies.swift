import CofferCore
import CofferIAM
import CofferPolicy
import Foundation
import HTTPTypes
import Hummingbird

/// Managed policies: a JSON editor whose errors say where (line and column), AWS's MFA example
/// policies one click away, and a simulator beside it that evaluates the text being edited the
/// way the authorization point will.
extension ConsoleResponder {
    struct PolicyTemplate {
        var id: String
        var title: String
        var text: String
    }

    /// AWS's documented MFA examples (IAM User Guide, "Example policies").
    static let policyTemplates: [PolicyTemplate] = [
        PolicyTemplate(id: "force-mfa", title: "Manage your own MFA; nothing else until signed in with MFA", text: """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AllowViewAccountInfo",
              "Effect": "Allow",
              "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
              "Resource": "*"
            },
            {
              "Sid": "AllowManageOwnVirtualMFADevice",
              "Effect": "Allow",
              "Action": ["iam:CreateVirtualMFADevice"],
              "Resource": "arn:aws:iam::*:mfa/*"
            },
            {
              "Sid": "AllowManageOwnUserMFA",
              "Effect": "Allow",
              "Action": ["iam:DeactivateMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                         "iam:ResyncMFADevice", "iam:ChangePassword"],
              "Resource": "arn:aws:iam::*:user/${aws:username}"
            },
            {
              "Sid": "DenyAllExceptListedIfNoMFA",
              "Effect": "Deny",
              "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                            "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "iam:ChangePassword",
                            "iam:GetAccountPasswordPolicy", "sts:GetSessionToken"],
              "Resource": "*",
              "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            }
          ]
        }
        """),
        PolicyTemplate(id: "delete-needs-mfa", title: "Deleting objects and versions needs MFA", text: """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AllowObjects",
              "Effect": "Allow",
              "Action": ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
              "Resource": "*"
            },
            {
              "Sid": "DeleteOnlyWithMFA",
              "Effect": "Allow",
              "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
              "Resource": "*",
              "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            }
          ]
        }
        """),
        PolicyTemplate(id: "recent-mfa", title: "Permanent deletes only within an hour of MFA sign-in", text: """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "DenyVersionDeletesWithoutRecentMFA",
              "Effect": "Deny",
              "Action": "s3:DeleteObjectVersion",
              "Resource": "*",
              "Condition": {"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}
            },
            {
              "Sid": "DenyVersionDeletesWithoutMFA",
              "Effect": "Deny",
              "Action": "s3:DeleteObjectVersion",
              "Resource": "*",
              "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            }
          ]
        }
        """),
    ]

    func policies(_ call: Call) async throws -> Response {
        try await authorize(.listPolicies, [:], call)
        let listed = try await registry.policies.listPolicies(scope: .all, onlyAttached: false, pathPrefix: "/", marker: nil, maxItems: 500)
        let rows = listed.items.map { policy in
            PoliciesView.Row(name: policy.name, arnQuery: Self.q(policy.arn), type: policy.isAWS ? "AWS managed" : "Customer managed",
                             attached: String(policy.attachmentCount), updated: Self.date(policy.updated))
        }
        return await page(PoliciesView(policies: rows, mayCreate: may(.createPolicy, ["PolicyName": "*"], call)), call: call)
    }

    /// The editor: a new policy (`/policies/new`, optionally from a template) or an existing one
    /// (`/policies/view?arn=`). After a refused save or a simulation, `typed` is what was submitted.
    func policyEditor(_ call: Call, typed: [String: String]? = nil, error: String? = nil, status: HTTPResponse.Status = .ok,
                      simulation: PolicyEditorView.Simulation? = nil) async throws -> Response {
        let arn = typed?["arn"] ?? call.query["arn"] ?? ""
        var view = PolicyEditorView(
            title: "Create policy",
            templates: Self.policyTemplates.map { PolicyEditorView.Template(id: $0.id, title: $0.title) },
            mfaModes: [("mfa", "A console session signed in with MFA"), ("session", "A session without MFA"),
                       ("key", "A long-term access key (no MFA keys at all)")].map {
                PolicyEditorView.Mode(value: $0.0, words: $0.1, selected: (typed?["mfa"] ?? "mfa") == $0.0)
            },
            action: typed?["action"] ?? "s3:DeleteObjectVersion", resource: typed?["resource"] ?? "arn:aws:s3:::example-bucket/*",
            mfaAge: typed?["mfaAge"] ?? "60", simulation: simulation, error: error)
        if arn.isEmpty {
            try await authorize(.createPolicy, ["PolicyName": typed?["name"] ?? "*"], call)
            let template = Self.policyTemplates.first { $0.id == call.query["template"] }
            view.isNew = true
            view.name = typed?["name"] ?? ""
            view.description = typed?["description"] ?? template?.title ?? ""
            view.policy = typed?["policy"] ?? template?.text ?? Self.policyTemplates[1].text
            view.mayEdit = true
        } else {
            try await authorize(.getPolicy, ["PolicyArn": arn], call)
            let policy = try await registry.policies.getPolicy(arn: arn)
            let stored = try await registry.policies.policyVersion(arn: arn, versionID: policy.defaultVersion).version.document
            view.title = "Policy \(policy.name)"
            view.name = policy.name
            view.arn = arn
            view.arnQuery = Self.q(arn)
            view.description = policy.description
            view.policy = typed?["policy"] ?? stored
            view.version = policy.defaultVersion
            view.attached = String(policy.attachmentCount)
            view.isAWS = policy.isAWS
            view.mayEdit = policy.isAWS ? false : await may(.createPolicyVersion, ["PolicyArn": arn], call)
            view.mayDelete = policy.isAWS ? false : await may(.deletePolicy, ["PolicyArn": arn], call)
        }
        return page(view, call: call, status: status)
    }

    func submitPolicy(_ call: Call) async throws -> Response {
        let arn = call.form["arn"] ?? ""
        let text = call.form["policy"] ?? ""
        if call.form["do"] == "simulate" {
            do {
                return try await policyEditor(call, typed: call.form, simulation: try simulate(text, call))
            } catch {
                return try await policyEditor(call, typed: call.form, error: "Not simulated: " + Self.policyWords(error),
                                              status: Self.status(of: error))
            }
        }
        do {
            if arn.isEmpty {
                let name = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
                try await authorize(.createPolicy, ["PolicyName": name], call)
                let created = try await registry.policies.createPolicy(name: name, path: nil, document: text,
                                                                       description: call.form["description"])
                return Self.redirect("/policies/view?arn=\(Self.q(created.arn))&done=iam-policy-saved")
            }
            try await authorize(.createPolicyVersion, ["PolicyArn": arn], call)
            // A policy keeps at most five versions: the oldest one not in use makes room (AWS's
            // console asks; here the editor says so beside the button).
            let (versions, current) = try await registry.policies.policyVersions(arn: arn)
            if versions.count >= 5, let oldest = versions.filter({ $0.versionID != current }).min(by: { $0.created < $1.created }) {
                try await authorize(.deletePolicyVersion, ["PolicyArn": arn], call)
                try await registry.policies.deletePolicyVersion(arn: arn, versionID: oldest.versionID)
            }
            _ = try await registry.policies.createPolicyVersion(arn: arn, document: text, setAsDefault: true)
        } catch {
            return try await policyEditor(call, typed: call.form, error: "The policy was not saved: " + Self.policyWords(error),
                                          status: Self.status(of: error))
        }
        return Self.redirect("/policies/view?arn=\(Self.q(arn))&done=iam-policy-saved")
    }

    /// A malformed document's error with where it is, said first.
    static func policyWords(_ error: any Error) -> String {
        if let error = error as? IAMError, error.code == .malformedPolicyDocument {
            return error.message.replacingOccurrences(of: "Syntax errors in policy: ", with: "") + " (MalformedPolicyDocument)"
        }
        if let error = error as? PolicyError { return error.message }
        return words(error)
    }

    /// The text in the editor, evaluated for one action on one resource by a user with the chosen
    /// kind of credentials — the same evaluation the authorization point makes.
    func simulate(_ text: String, _ call: Call) throws -> PolicyEditorView.Simulation {
        let action = (call.form["action"] ?? "").trimmingCharacters(in: .whitespaces)
        let resource = (call.form["resource"] ?? "").trimmingCharacters(in: .whitespaces)
        guard action.contains(":"), action.utf8.count <= 128, !resource.isEmpty, resource.utf8.count <= 2048 else {
            throw Problem(status: .badRequest, message: "Name an action (service:Action) and a resource ARN (or *).")
        }
        let document = try PolicyDocument(json: Array(text.utf8), kind: .identity, maxSize: 131_072)
        let mode = call.form["mfa"] ?? "mfa"
        let age = max(0, min(Int64(call.form["mfaAge"] ?? "") ?? 60, 129_600))
        let now = engine.now()
        let principal = Principal(userName: "simulated-user", isSession: mode != "key", isConsole: mode != "key",
                                  mfaAuthenticated: mode == "mfa", mfaAuthenticatedAt: mode == "mfa" ? now - age * 1000 : nil,
                                  path: "/", userID: "AIDASIMULATEDUSER000", accountID: registry.accountID)
        let keys = ConditionKeys.global(principal, connection: ConditionKeys.Connection(secureTransport: true, sourceIP: nil,
                                                                                        userAgent: nil), now: now)
        let budget = WorkBudget(steps: WorkBudget.perEvaluation)
        let evaluation = registry.access.evaluate(principal, action: action, resource: resource,
                                                  identity: [PolicySource(id: "editor", kind: .none, document: document, text: text)],
                                                  resourcePolicy: nil, budget: budget, keys: { keys })
        let spans = PolicyDocument.statementPositions(text)
        let matched = evaluation.matched.map { match -> String in
            var words = "statement \(match.index)" + (match.sid.map { " (\($0))" } ?? "")
            if match.index <= spans.count {
                let span = spans[match.index - 1]
                words += ", lines \(span.start.line)–\(span.end.line)"
            }
            return words
        }
        let decision: String
        switch evaluation.decision {
        case .allowed: decision = "Allowed"
        case .explicitDeny: decision = "Denied: a Deny statement matches (explicit deny)"
        case .implicitDeny: decision = "Denied: no statement allows it (implicit deny)"
        }
        return PolicyEditorView.Simulation(decision: decision, allowed: evaluation.decision == .allowed, matched: matched,
                                           hasMatched: !matched.isEmpty, for: "\(action) on \(resource)")
    }

    func deletePolicy(_ call: Call) async throws -> Response {
        let arn = call.form["arn"] ?? ""
        do {
            let policy = try await registry.policies.getPolicy(arn: arn)
            guard Self.confirmed(call, word: policy.name) else {
                throw Problem(status: .badRequest, message: "To confirm, type the policy's name, \u{201C}\(policy.name)\u{201D}.")
            }
            try await authorize(.deletePolicy, ["PolicyArn": arn], call)
            // Its older versions go first, as AWS's console does (the API wants them gone).
            let (versions, current) = try await registry.policies.policyVersions(arn: arn)
            for version in versions where version.versionID != current {
                try await authorize(.deletePolicyVersion, ["PolicyArn": arn], call)
                try await registry.policies.deletePolicyVersion(arn: arn, versionID: version.versionID)
            }
            try await registry.policies.deletePolicy(arn: arn)
        } catch {
            return try await policyEditor(call, typed: ["arn": arn], error: "The policy was not deleted: " + Self.words(error),
                                          status: Self.status(of: error))
        }
        return Self.redirect("/policies?done=iam-policy-deleted")
    }
}
