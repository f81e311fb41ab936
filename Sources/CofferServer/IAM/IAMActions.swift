import CofferCore
import CofferIAM
import CofferStore
import Foundation

/// The action switch and each action's result XML.
extension QueryAPI {
    typealias Result = ((inout XMLWriter) -> Void)?

    func dispatch(_ call: QueryCall) async throws -> Result {
        let caller = call.caller
        switch call.action {
        case .getCallerIdentity:
            let user = caller.isRoot ? nil : try await registry.devices.user(named: caller.userName)
            let userID = user?.userID ?? registry.accountID
            let arn = user.map(registry.userArn) ?? registry.arn(of: caller)
            return { xml in
                xml.element("UserId", userID)
                xml.element("Account", registry.accountID)
                xml.element("Arn", arn)
            }
        case .getSessionToken:
            let credentials = try await registry.account.getSessionToken(
                caller, duration: try call.form["DurationSeconds"].map(Self.integer), serial: call.form["SerialNumber"],
                code: call.form["TokenCode"], info: call.info)
            return { xml in
                xml.element("Credentials") { xml in
                    xml.element("AccessKeyId", credentials.accessKey)
                    xml.element("SecretAccessKey", credentials.secret)
                    xml.element("SessionToken", credentials.token)
                    xml.element("Expiration", HTTPDate.iso8601(milliseconds: credentials.expiration))
                }
            }
        case .createUser:
            let user = try await registry.users.createUser(caller, name: try call.required("UserName"), path: call.form["Path"])
            return { xml in xml.element("User") { self.user(user, &$0) } }
        case .getUser:
            let user = try await registry.users.getUser(caller, name: call.form["UserName"])
            return { xml in
                xml.element("User") { xml in
                    if let user {
                        self.user(user, &xml)
                    } else {
                        xml.element("UserId", registry.accountID)
                        xml.element("Arn", registry.rootArn)
                        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: 0))
                    }
                }
            }
        case .listUsers:
            let page = try await registry.users.listUsers(caller, marker: call.form["Marker"], maxItems: try call.maxItems())
            return { xml in
                xml.element("Users") { xml in for user in page.items { xml.element("member") { self.user(user, &$0) } } }
                self.pageTail(page.isTruncated, page.marker, &xml)
            }
        case .deleteUser:
            try await registry.users.deleteUser(caller, name: try call.required("UserName"))
            return nil
        case .createAccessKey:
            let (key, secret) = try await registry.users.createAccessKey(caller, userName: call.form["UserName"])
            return { xml in
                xml.element("AccessKey") { xml in
                    xml.element("UserName", key.userName)
                    xml.element("AccessKeyId", key.accessKey)
                    xml.element("Status", key.status.rawValue)
                    xml.element("SecretAccessKey", secret)
                    xml.element("CreateDate", HTTPDate.iso8601(milliseconds: key.created))
                }
            }
        case .listAccessKeys:
            let keys = try await registry.users.listAccessKeys(caller, userName: call.form["UserName"])
            return { xml in
                xml.element("AccessKeyMetadata") { xml in
                    for key in keys {
                        xml.element("member") { xml in
                            xml.element("UserName", key.userName)
                            xml.element("AccessKeyId", key.accessKey)
                            xml.element("Status", key.status.rawValue)
                            xml.element("CreateDate", HTTPDate.iso8601(milliseconds: key.created))
                        }
                    }
                }
                xml.element("IsTruncated", false)
            }
        case .getAccessKeyLastUsed:
            let key = try call.required("AccessKeyId")
            guard Users.isWellFormedKeyID(key) else {
                throw IAMError.validation("accessKeyId", "Member must satisfy regular expression pattern: [\\w]+ and length 16-128")
            }
            guard let owner = try await registry.users.accessKeyOwner(key) else {
                throw IAMError(.noSuchEntity, "The Access Key with id \(key) cannot be found.")
            }
            let used = try await registry.users.lastUsed(accessKey: key)
            return { xml in
                xml.element("UserName", owner)
                xml.element("AccessKeyLastUsed") { xml in
                    if let used { xml.element("LastUsedDate", HTTPDate.iso8601(milliseconds: used.time / 1000 * 1000)) }
                    xml.element("ServiceName", used?.service ?? "N/A")
                    xml.element("Region", used?.region ?? "N/A")
                }
            }
        case .updateAccessKey:
            try await registry.users.updateAccessKey(caller, userName: call.form["UserName"],
                                               accessKey: try call.required("AccessKeyId"), status: try call.required("Status"))
            return nil
        case .deleteAccessKey:
            try await registry.users.deleteAccessKey(caller, userName: call.form["UserName"], accessKey: try call.required("AccessKeyId"))
            return nil
        case .createVirtualMFADevice:
            let device = try await registry.devices.createVirtualDevice(caller, name: try call.required("VirtualMFADeviceName"),
                                                                path: call.form["Path"], tags: call.tags(), info: call.info)
            return { xml in
                xml.element("VirtualMFADevice") { xml in
                    xml.element("SerialNumber", device.serial)
                    xml.element("Base32StringSeed", Data(device.base32Seed.utf8).base64EncodedString())
                    xml.element("QRCodePNG", Data(device.qrPNG).base64EncodedString())
                    if !device.tags.isEmpty { self.tags(device.tags, &xml) }
                }
            }
        case .enableMFADevice:
            try await registry.devices.enableDevice(caller, userName: try call.required("UserName"),
                                            serial: try call.required("SerialNumber"),
                                            code1: try call.required("AuthenticationCode1"),
                                            code2: try call.required("AuthenticationCode2"), info: call.info)
            return nil
        case .resyncMFADevice:
            try await registry.devices.resyncDevice(caller, userName: try call.required("UserName"),
                                            serial: try call.required("SerialNumber"),
                                            code1: try call.required("AuthenticationCode1"),
                                            code2: try call.required("AuthenticationCode2"), info: call.info)
            return nil
        case .deactivateMFADevice:
            try await registry.devices.deactivateDevice(caller, userName: call.form["UserName"],
                                                serial: try call.required("SerialNumber"), info: call.info)
            return nil
        case .deleteVirtualMFADevice:
            try await registry.devices.deleteVirtualDevice(caller, serial: try call.required("SerialNumber"), info: call.info)
            return nil
        case .listMFADevices:
            let page = try await registry.devices.listDevices(caller, userName: call.form["UserName"], marker: call.form["Marker"],
                                                maxItems: try call.maxItems())
            return { xml in
                xml.element("MFADevices") { xml in
                    for device in page.items {
                        xml.element("member") { xml in
                            xml.element("UserName", device.userName ?? "")
                            xml.element("SerialNumber", device.serial)
                            xml.element("EnableDate", HTTPDate.iso8601(milliseconds: device.enabled ?? 0))
                        }
                    }
                }
                self.pageTail(page.isTruncated, page.marker, &xml)
            }
        case .listVirtualMFADevices:
            let page = try await registry.devices.listVirtualDevices(caller, assignment: call.form["AssignmentStatus"],
                                                       marker: call.form["Marker"], maxItems: try call.maxItems())
            var owners: [String: UserRecord] = [:]
            for name in Set(page.items.compactMap(\.userName)) where name != Registry.rootUser {
                owners[name] = try await registry.devices.user(named: name)
            }
            return { xml in
                xml.element("VirtualMFADevices") { xml in
                    for device in page.items {
                        xml.element("member") { xml in
                            xml.element("SerialNumber", device.serial)
                            if let name = device.userName {
                                xml.element("User") { xml in
                                    if let user = owners[name] {
                                        self.user(user, &xml)
                                    } else {
                                        xml.element("UserId", registry.accountID)
                                        xml.element("Arn", registry.rootArn)
                                        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: 0))
                                    }
                                }
                                xml.element("EnableDate", HTTPDate.iso8601(milliseconds: device.enabled ?? 0))
                            }
                        }
                    }
                }
                self.pageTail(page.isTruncated, page.marker, &xml)
            }
        case .tagMFADevice:
            try await registry.devices.tagDevice(caller, serial: try call.required("SerialNumber"), tags: call.tags())
            return nil
        case .untagMFADevice:
            try await registry.devices.untagDevice(caller, serial: try call.required("SerialNumber"), keys: call.list("TagKeys"))
            return nil
        case .listMFADeviceTags:
            let tags = try await registry.devices.listTags(caller, serial: try call.required("SerialNumber"))
            return { xml in
                self.tags(tags, &xml)
                xml.element("IsTruncated", false)
            }
        case .getAccountSummary:
            let summary = try await registry.account.accountSummary(caller)
            return { xml in
                xml.element("SummaryMap") { xml in
                    for (key, value) in summary {
                        xml.element("entry") { xml in
                            xml.element("key", key)
                            xml.element("value", value)
                        }
                    }
                }
            }
        case .generateCredentialReport:
            try await registry.account.generateCredentialReport(caller)
            return { xml in
                xml.element("State", "COMPLETE")
                xml.element("Description", "The credential report is ready.")
            }
        case .getCredentialReport:
            let report = try await registry.account.credentialReport(caller)
            return { xml in
                xml.element("Content", Data(report.csv.utf8).base64EncodedString())
                xml.element("ReportFormat", "text/csv")
                xml.element("GeneratedTime", HTTPDate.iso8601(milliseconds: report.generated))
            }
        case .putUserPolicy:
            try await registry.policies.putInlinePolicy(.user(try call.required("UserName")), name: try call.required("PolicyName"),
                                               document: try call.required("PolicyDocument"))
            return nil
        case .putGroupPolicy:
            try await registry.policies.putInlinePolicy(.group(try call.required("GroupName")), name: try call.required("PolicyName"),
                                               document: try call.required("PolicyDocument"))
            return nil
        case .getUserPolicy:
            return try await inlinePolicy(call, owner: .user(try call.required("UserName")), ownerElement: "UserName")
        case .getGroupPolicy:
            return try await inlinePolicy(call, owner: .group(try call.required("GroupName")), ownerElement: "GroupName")
        case .deleteUserPolicy:
            try await registry.policies.deleteInlinePolicy(.user(try call.required("UserName")), name: try call.required("PolicyName"))
            return nil
        case .deleteGroupPolicy:
            try await registry.policies.deleteInlinePolicy(.group(try call.required("GroupName")), name: try call.required("PolicyName"))
            return nil
        case .listUserPolicies:
            return try await inlinePolicyNames(call, owner: .user(try call.required("UserName")))
        case .listGroupPolicies:
            return try await inlinePolicyNames(call, owner: .group(try call.required("GroupName")))
        case .createPolicy:
            let policy = try await registry.policies.createPolicy(name: try call.required("PolicyName"), path: call.form["Path"],
                                                         document: try call.required("PolicyDocument"),
                                                         description: call.form["Description"])
            return { xml in xml.element("Policy") { self.policy(policy, &$0) } }
        case .getPolicy:
            let policy = try await registry.policies.getPolicy(arn: try call.required("PolicyArn"))
            return { xml in xml.element("Policy") { self.policy(policy, &$0) } }
        case .getPolicyVersion:
            let (version, isDefault) = try await registry.policies.policyVersion(arn: try call.required("PolicyArn"),
                                                                  versionID: try call.required("VersionId"))
            return { xml in xml.element("PolicyVersion") { self.policyVersion(version, isDefault: isDefault, &$0) } }
        case .createPolicyVersion:
            let version = try await registry.policies.createPolicyVersion(arn: try call.required("PolicyArn"),
                                                                 document: try call.required("PolicyDocument"),
                                                                 setAsDefault: call.form["SetAsDefault"] == "true")
            let isDefault = call.form["SetAsDefault"] == "true"
            return { xml in
                xml.element("PolicyVersion") { xml in
                    xml.element("VersionId", version.versionID)
                    xml.element("IsDefaultVersion", isDefault)
                    xml.element("CreateDate", HTTPDate.iso8601(milliseconds: version.created))
                }
            }
        case .deletePolicyVersion:
            try await registry.policies.deletePolicyVersion(arn: try call.required("PolicyArn"), versionID: try call.required("VersionId"))
            return nil
        case .listPolicyVersions:
            let (versions, defaultVersion) = try await registry.policies.policyVersions(arn: try call.required("PolicyArn"))
            return { xml in
                xml.element("Versions") { xml in
                    for version in versions {
                        xml.element("member") { xml in
                            xml.element("VersionId", version.versionID)
                            xml.element("IsDefaultVersion", version.versionID == defaultVersion)
                            xml.element("CreateDate", HTTPDate.iso8601(milliseconds: version.created))
                        }
                    }
                }
                xml.element("IsTruncated", false)
            }
        case .setDefaultPolicyVersion:
            try await registry.policies.setDefaultPolicyVersion(arn: try call.required("PolicyArn"), versionID: try call.required("VersionId"))
            return nil
        case .deletePolicy:
            try await registry.policies.deletePolicy(arn: try call.required("PolicyArn"))
            return nil
        case .listPolicies:
            guard let scope = Registry.PolicyScope(rawValue: call.form["Scope"] ?? "All") else {
                throw IAMError.validation("scope", "Member must satisfy enum value set: [All, AWS, Local]")
            }
            let page = try await registry.policies.listPolicies(scope: scope, onlyAttached: call.form["OnlyAttached"] == "true",
                                                 pathPrefix: call.form["PathPrefix"] ?? "/", marker: call.form["Marker"],
                                                 maxItems: try call.maxItems())
            return { xml in
                xml.element("Policies") { xml in for policy in page.items { xml.element("member") { self.policy(policy, &$0) } } }
                self.pageTail(page.isTruncated, page.marker, &xml)
            }
        case .attachUserPolicy:
            try await registry.policies.attachPolicy(.user(try call.required("UserName")), arn: try call.required("PolicyArn"))
            return nil
        case .attachGroupPolicy:
            try await registry.policies.attachPolicy(.group(try call.required("GroupName")), arn: try call.required("PolicyArn"))
            return nil
        case .detachUserPolicy:
            try await registry.policies.detachPolicy(.user(try call.required("UserName")), arn: try call.required("PolicyArn"))
            return nil
        case .detachGroupPolicy:
            try await registry.policies.detachPolicy(.group(try call.required("GroupName")), arn: try call.required("PolicyArn"))
            return nil
        case .listAttachedUserPolicies:
            return try await attachedPolicies(call, owner: .user(try call.required("UserName")))
        case .listAttachedGroupPolicies:
            return try await attachedPolicies(call, owner: .group(try call.required("GroupName")))
        case .createGroup:
            let group = try await registry.policies.createGroup(name: try call.required("GroupName"), path: call.form["Path"])
            return { xml in xml.element("Group") { self.group(group, &$0) } }
        case .getGroup:
            let (group, users) = try await registry.policies.getGroup(name: try call.required("GroupName"))
            return { xml in
                xml.element("Group") { self.group(group, &$0) }
                xml.element("Users") { xml in for user in users { xml.element("member") { self.user(user, &$0) } } }
                xml.element("IsTruncated", false)
            }
        case .listGroups:
            let page = try await registry.policies.listGroups(marker: call.form["Marker"], maxItems: try call.maxItems())
            return { xml in
                xml.element("Groups") { xml in for group in page.items { xml.element("member") { self.group(group, &$0) } } }
                self.pageTail(page.isTruncated, page.marker, &xml)
            }
        case .deleteGroup:
            try await registry.policies.deleteGroup(name: try call.required("GroupName"))
            return nil
        case .addUserToGroup:
            try await registry.policies.addUser(try call.required("UserName"), toGroup: try call.required("GroupName"))
            return nil
        case .removeUserFromGroup:
            try await registry.policies.removeUser(try call.required("UserName"), fromGroup: try call.required("GroupName"))
            return nil
        case .listGroupsForUser:
            let groups = try await registry.policies.groups(ofUser: try call.required("UserName"))
            return { xml in
                xml.element("Groups") { xml in for group in groups { xml.element("member") { self.group(group, &$0) } } }
                xml.element("IsTruncated", false)
            }
        case .createLoginProfile:
            let profile = try await registry.passwords.createLoginProfile(user: try call.required("UserName"),
                                                                password: try call.required("Password"),
                                                                resetRequired: call.form["PasswordResetRequired"] == "true")
            return { xml in xml.element("LoginProfile") { self.loginProfile(profile, &$0) } }
        case .getLoginProfile:
            // Without UserName: the caller's own (AWS).
            let profile = try await registry.passwords.loginProfile(user: call.form["UserName"] ?? call.caller.userName)
            return { xml in xml.element("LoginProfile") { self.loginProfile(profile, &$0) } }
        case .updateLoginProfile:
            try await registry.passwords.updateLoginProfile(user: try call.required("UserName"), password: call.form["Password"],
                                                  resetRequired: try call.boolean("PasswordResetRequired"))
            return nil
        case .deleteLoginProfile:
            try await registry.passwords.deleteLoginProfile(user: try call.required("UserName"))
            return nil
        case .changePassword:
            try await registry.passwords.changePassword(call.caller, old: try call.required("OldPassword"),
                                              new: try call.required("NewPassword"), info: call.info)
            return nil
        case .getAccountPasswordPolicy:
            guard let policy = try await registry.passwords.passwordPolicy() else {
                throw IAMError(.noSuchEntity, "The Password Policy with domain name \(registry.accountID) cannot be found.")
            }
            return { xml in xml.element("PasswordPolicy") { self.passwordPolicy(policy, &$0) } }
        case .updateAccountPasswordPolicy:
            var policy = PasswordPolicy()
            if let text = call.form["MinimumPasswordLength"] {
                guard let value = Int(text) else {
                    throw IAMError.validation("minimumPasswordLength", "Member must have value between 6 and 128")
                }
                policy.minimumLength = value
            }
            policy.requireSymbols = try call.boolean("RequireSymbols") ?? false
            policy.requireNumbers = try call.boolean("RequireNumbers") ?? false
            policy.requireUppercase = try call.boolean("RequireUppercaseCharacters") ?? false
            policy.requireLowercase = try call.boolean("RequireLowercaseCharacters") ?? false
            policy.allowUsersToChangePassword = try call.boolean("AllowUsersToChangePassword") ?? false
            policy.hardExpiry = try call.boolean("HardExpiry")
            for (name, parameter) in [("MaxPasswordAge", "maxPasswordAge"), ("PasswordReusePrevention", "passwordReusePrevention")] {
                guard let text = call.form[name] else { continue }
                guard let value = Int(text) else { throw IAMError.validation(parameter, "Member must be an integer") }
                if name == "MaxPasswordAge" { policy.maxAge = value } else { policy.reusePrevention = value }
            }
            try await registry.passwords.updatePasswordPolicy(policy)
            return nil
        case .deleteAccountPasswordPolicy:
            try await registry.passwords.deletePasswordPolicy()
            return nil
        case .simulatePrincipalPolicy:
            return try await simulate(call, principalArn: try call.required("PolicySourceArn"))
        case .simulateCustomPolicy:
            return try await simulate(call, principalArn: nil)
        }
    }

    func user(_ user: UserRecord, _ xml: inout XMLWriter) {
        xml.element("Path", user.path)
        xml.element("UserName", user.name)
        xml.element("UserId", user.userID)
        xml.element("Arn", registry.userArn(user))
        xml.element("CreateDate", HTTPDate.iso8601(milliseconds: user.created))
    }

    func tags(_ tags: [(key: String, value: String)], _ xml: inout XMLWriter) {
        xml.element("Tags") { xml in
            for tag in tags {
                xml.element("member") { xml in
                    xml.element("Key", tag.key)
                    xml.element("Value", tag.value)
                }
            }
        }
    }

    func pageTail(_ truncated: Bool, _ marker: String?, _ xml: inout XMLWriter) {
        xml.element("IsTruncated", truncated)
        if truncated, let marker { xml.element("Marker", marker) }
    }

    static func integer(_ text: String) throws -> Int {
        guard let value = Int(text) else { throw IAMError.validation("durationSeconds", "Member must be an integer") }
        return value
    }
}
