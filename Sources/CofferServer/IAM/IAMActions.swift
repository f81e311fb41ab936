import CofferCore
import CofferMFA
import CofferStore
import Foundation

/// The action switch and each action's result XML.
extension QueryAPI {
    typealias Result = ((inout XMLWriter) -> Void)?

    func dispatch(_ call: QueryCall) async throws -> Result {
        let caller = call.caller
        switch call.action {
        case "GetCallerIdentity":
            let user = caller.isRoot ? nil : try registry.user(named: caller.userName)
            let userID = user?.userID ?? registry.accountID
            let arn = user.map(registry.userArn) ?? registry.arn(of: caller)
            return { xml in
                xml.element("UserId", userID)
                xml.element("Account", registry.accountID)
                xml.element("Arn", arn)
            }
        case "GetSessionToken":
            let credentials = try await registry.getSessionToken(
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
        case "CreateUser":
            let user = try await registry.createUser(caller, name: try call.required("UserName"), path: call.form["Path"])
            return { xml in xml.element("User") { self.user(user, &$0) } }
        case "GetUser":
            let user = try registry.getUser(caller, name: call.form["UserName"])
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
        case "ListUsers":
            let page = try registry.listUsers(caller, marker: call.form["Marker"], maxItems: try call.maxItems())
            return { xml in
                xml.element("Users") { xml in for user in page.items { xml.element("member") { self.user(user, &$0) } } }
                self.pageTail(page.isTruncated, page.marker, &xml)
            }
        case "DeleteUser":
            try await registry.deleteUser(caller, name: try call.required("UserName"))
            return nil
        case "CreateAccessKey":
            let (key, secret) = try await registry.createAccessKey(caller, userName: call.form["UserName"])
            return { xml in
                xml.element("AccessKey") { xml in
                    xml.element("UserName", key.userName)
                    xml.element("AccessKeyId", key.accessKey)
                    xml.element("Status", key.status.rawValue)
                    xml.element("SecretAccessKey", secret)
                    xml.element("CreateDate", HTTPDate.iso8601(milliseconds: key.created))
                }
            }
        case "ListAccessKeys":
            let keys = try registry.listAccessKeys(caller, userName: call.form["UserName"])
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
        case "UpdateAccessKey":
            try await registry.updateAccessKey(caller, userName: call.form["UserName"],
                                               accessKey: try call.required("AccessKeyId"), status: try call.required("Status"))
            return nil
        case "DeleteAccessKey":
            try await registry.deleteAccessKey(caller, userName: call.form["UserName"], accessKey: try call.required("AccessKeyId"))
            return nil
        case "CreateVirtualMFADevice":
            let device = try await registry.createVirtualDevice(caller, name: try call.required("VirtualMFADeviceName"),
                                                                path: call.form["Path"], tags: call.tags(), info: call.info)
            return { xml in
                xml.element("VirtualMFADevice") { xml in
                    xml.element("SerialNumber", device.serial)
                    xml.element("Base32StringSeed", Data(device.base32Seed.utf8).base64EncodedString())
                    xml.element("QRCodePNG", Data(device.qrPNG).base64EncodedString())
                    if !device.tags.isEmpty { self.tags(device.tags, &xml) }
                }
            }
        case "EnableMFADevice":
            try await registry.enableDevice(caller, userName: try call.required("UserName"),
                                            serial: try call.required("SerialNumber"),
                                            code1: try call.required("AuthenticationCode1"),
                                            code2: try call.required("AuthenticationCode2"), info: call.info)
            return nil
        case "ResyncMFADevice":
            try await registry.resyncDevice(caller, userName: try call.required("UserName"),
                                            serial: try call.required("SerialNumber"),
                                            code1: try call.required("AuthenticationCode1"),
                                            code2: try call.required("AuthenticationCode2"), info: call.info)
            return nil
        case "DeactivateMFADevice":
            try await registry.deactivateDevice(caller, userName: call.form["UserName"],
                                                serial: try call.required("SerialNumber"), info: call.info)
            return nil
        case "DeleteVirtualMFADevice":
            try await registry.deleteVirtualDevice(caller, serial: try call.required("SerialNumber"), info: call.info)
            return nil
        case "ListMFADevices":
            let page = try registry.listDevices(caller, userName: call.form["UserName"], marker: call.form["Marker"],
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
        case "ListVirtualMFADevices":
            let page = try registry.listVirtualDevices(caller, assignment: call.form["AssignmentStatus"],
                                                       marker: call.form["Marker"], maxItems: try call.maxItems())
            let owners = try Dictionary(uniqueKeysWithValues: Set(page.items.compactMap(\.userName))
                .filter { $0 != Registry.rootUser }.compactMap { name in try registry.user(named: name).map { (name, $0) } })
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
        case "TagMFADevice":
            try await registry.tagDevice(caller, serial: try call.required("SerialNumber"), tags: call.tags())
            return nil
        case "UntagMFADevice":
            try await registry.untagDevice(caller, serial: try call.required("SerialNumber"), keys: call.list("TagKeys"))
            return nil
        case "ListMFADeviceTags":
            let tags = try registry.listTags(caller, serial: try call.required("SerialNumber"))
            return { xml in
                self.tags(tags, &xml)
                xml.element("IsTruncated", false)
            }
        case "GetAccountSummary":
            let summary = try registry.accountSummary(caller)
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
        case "GenerateCredentialReport":
            try await registry.generateCredentialReport(caller)
            return { xml in
                xml.element("State", "COMPLETE")
                xml.element("Description", "The credential report is ready.")
            }
        case "GetCredentialReport":
            let report = try registry.credentialReport(caller)
            return { xml in
                xml.element("Content", Data(report.csv.utf8).base64EncodedString())
                xml.element("ReportFormat", "text/csv")
                xml.element("GeneratedTime", HTTPDate.iso8601(milliseconds: report.generated))
            }
        default:
            throw IAMError(.invalidAction, "Could not find operation \(call.action) for version 2010-05-08")
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
