import CofferCore
import CofferIAM
import Foundation
import HTTPTypes
import Hummingbird

/// User groups: their members and policies, each change the IAM call it stands for.
extension ConsoleResponder {
    func groups(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok, newName: String = "") async throws -> Response {
        try await authorize(.listGroups, [:], call)
        let page = try await registry.policies.listGroups(marker: call.query["after"], maxItems: 100)
        let view = await GroupsView(newName: newName, mayCreate: may(.createGroup, ["GroupName": "*"], call),
                              groups: page.items.map { GroupsView.Row(name: $0.name, created: Self.date($0.created)) },
                              more: page.marker.map(Self.q), error: error)
        return self.page(view, call: call, status: status)
    }

    func createGroup(_ call: Call) async throws -> Response {
        let name = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            try await authorize(.createGroup, ["GroupName": name], call)
            _ = try await registry.policies.createGroup(name: name, path: nil)
        } catch {
            return try await groups(call, error: "The group was not created: " + Self.words(error), status: Self.status(of: error),
                                    newName: name)
        }
        return Self.redirect("/groups/\(Self.q(name))?done=group-created")
    }

    func group(_ call: Call, _ name: String, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try await authorize(.getGroup, ["GroupName": name], call)
        let (group, users) = try await registry.policies.getGroup(name: name)
        let members = users.map(\.name)
        let attached = await !may(.listAttachedGroupPolicies, ["GroupName": name], call) ? []
            : try registry.policies.attachedPolicies(.group(name)).map { GroupView.Policy(name: $0.name, arn: $0.arn, group: name) }
        let policies = await !may(.listPolicies, [:], call) ? []
            : try registry.policies.listPolicies(scope: .all, onlyAttached: false, pathPrefix: "/", marker: nil, maxItems: 200)
                .items.map { NamedArn(name: $0.name, arn: $0.arn) }
        let others = await !may(.listUsers, [:], call) ? []
            : try registry.users.listUsers(call.caller, marker: nil, maxItems: 1000).items.map(\.name).filter { !members.contains($0) }
        let mayEdit = await may(.addUserToGroup, ["GroupName": name], call)
            ? await may(.removeUserFromGroup, ["GroupName": name], call) : false
        let view = GroupView(
            title: "Group \(name)", name: name, arnJoints: Self.joints(registry.policies.groupArn(group)),
            created: Self.date(group.created), members: members, hasMembers: !members.isEmpty,
            others: others, hasOthers: !others.isEmpty, mayEdit: mayEdit, attached: attached, policies: policies,
            mayAttach: policies.isEmpty ? false : await may(.attachGroupPolicy, ["GroupName": name, "PolicyArn": "*"], call),
            mayDetach: await may(.detachGroupPolicy, ["GroupName": name, "PolicyArn": "*"], call),
            mayDelete: await may(.deleteGroup, ["GroupName": name], call), error: error)
        return page(view, call: call, status: status)
    }

    /// Adds one user, or removes the users selected.
    func groupMembers(_ call: Call, _ name: String) async throws -> Response {
        do {
            if call.form["change"] == "add" {
                let user = call.form["user"] ?? ""
                try await authorize(.addUserToGroup, ["GroupName": name, "UserName": user], call)
                try await registry.policies.addUser(user, toGroup: name)
            } else {
                let users = call.selected
                guard !users.isEmpty else { throw Problem(status: .badRequest, message: "Select at least one user to remove.") }
                for user in users {
                    try await authorize(.removeUserFromGroup, ["GroupName": name, "UserName": user], call)
                    try await registry.policies.removeUser(user, fromGroup: name)
                }
            }
        } catch {
            return try await group(call, name, error: "The group's users were not changed: " + Self.words(error),
                                   status: Self.status(of: error))
        }
        return Self.redirect("/groups/\(Self.q(name))?done=group-updated")
    }

    func groupAttach(_ call: Call, _ name: String, attach: Bool) async throws -> Response {
        let arn = call.form["arn"] ?? ""
        if !attach {
            let policyName = String(arn.split(separator: "/").last ?? Substring(arn))
            let detach = Confirmation(
                heading: "Detach policy", text: "Detach \(policyName) from group \(name)? What it allows the group's users stops at once.",
                action: "/groups/\(Self.q(name))/detach", fields: [("arn", arn)], word: nil, button: "Detach policy",
                back: "/groups/\(Self.q(name))")
            if let page = unconfirmed(detach, call) { return page }
        }
        do {
            try await authorize(attach ? .attachGroupPolicy : .detachGroupPolicy, ["GroupName": name, "PolicyArn": arn], call)
            if attach { try await registry.policies.attachPolicy(.group(name), arn: arn) }
            else { try await registry.policies.detachPolicy(.group(name), arn: arn) }
        } catch {
            return try await group(call, name, error: Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/groups/\(Self.q(name))?done=\(attach ? "policy-attached" : "policy-detached")")
    }

    /// As AWS's console does: the group's users are removed from it and its policies detached
    /// (each step its own authorized call), then the group goes — after its name is typed.
    func deleteGroup(_ call: Call, _ name: String) async throws -> Response {
        do {
            guard Self.confirmed(call, word: name) else {
                throw Problem(status: .badRequest, message: "To confirm, type the group's name, \u{201C}\(name)\u{201D}.")
            }
            try await authorize(.deleteGroup, ["GroupName": name], call)
            for user in try await registry.policies.getGroup(name: name).users {
                try await authorize(.removeUserFromGroup, ["GroupName": name, "UserName": user.name], call)
                try await registry.policies.removeUser(user.name, fromGroup: name)
            }
            for policy in try await registry.policies.attachedPolicies(.group(name)) {
                try await authorize(.detachGroupPolicy, ["GroupName": name, "PolicyArn": policy.arn], call)
                try await registry.policies.detachPolicy(.group(name), arn: policy.arn)
            }
            for inline in try await registry.policies.inlinePolicyNames(.group(name)) {
                try await authorize(.deleteGroupPolicy, ["GroupName": name, "PolicyName": inline], call)
                try await registry.policies.deleteInlinePolicy(.group(name), name: inline)
            }
            try await registry.policies.deleteGroup(name: name)
        } catch {
            return try await group(call, name, error: "The group was not deleted: " + Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/groups?done=group-deleted")
    }
}
