import CofferCore
import CofferStore
import Foundation
import QRCode
import TOTP

/// What CreateVirtualMFADevice returns — the only time the seed leaves Coffer.
public struct NewVirtualDevice: Sendable {
    public var serial: String
    /// The seed as Base32 text (AWS sends these bytes base64-encoded, as a blob).
    public var base32Seed: String
    /// A QR code PNG of `otpauth://totp/Coffer:NAME@ACCOUNT?secret=…&issuer=Coffer`.
    public var qrPNG: [UInt8]
    public var tags: [(key: String, value: String)]
}

extension Registry {
    /// Where a request comes from, for the audit log.
    public struct RequestInfo: Sendable {
        public var source: String?
        public var requestID: String?
        public init(source: String?, requestID: String?) {
            self.source = source
            self.requestID = requestID
        }
    }
}

/// MFA devices: virtual devices (created with their seed), hardware tokens, enabling, resyncing,
/// deactivating and deleting them, their tags. Every code goes through the one verifier.
public struct MFADevices: RegistryPart {
    public let core: RegistryCore

    /// `arn:aws:iam::ACCOUNT:mfa{path}{name}`.
    func virtualSerial(name: String, path: String) -> String { "arn:aws:iam::\(accountID):mfa\(path)\(name)" }

    // MARK: Create and delete

    /// CreateVirtualMFADevice: a 40-byte random seed (64 Base32 characters, like AWS), sealed at rest.
    public func createVirtualDevice(_ caller: Principal, name: String, path: String?, tags: [(String, String)],
                                    info: RequestInfo) async throws -> NewVirtualDevice {
        try Names.validateDeviceName(name)
        let path = path ?? "/"
        try Names.validatePath(path)
        try Self.validateTags(tags)
        let serial = virtualSerial(name: name, path: path)
        guard serial.utf8.count <= 256 else {  // else no later call could name it (SerialNumber is 9–256)
            throw IAMError.validation("path", "Member must be short enough that the device's serial number "
                + "(arn:aws:iam::ACCOUNT:mfa + path + name) has at most 256 characters")
        }
        let seed = SecureRandom.bytes(40)
        let uri = KeyURI(issuer: "Coffer", account: "\(name)@\(accountID)", secret: seed)
        let png = try PNG.encode(QRCode(encoding: uri.uri, level: .medium), scale: 6)
        let device = DeviceRecord(serial: serial, kind: .virtual, name: name, path: path,
                                  sealedSeed: try masterKey.seal(seed, context: serial), algorithm: "SHA1", digits: 6,
                                  period: 30, created: now(), creator: caller.userName)
        let entry = audit("CreateVirtualMFADevice", caller, info, serial: serial)
        try await store.write { transaction in
            guard try transaction.device(serial) == nil else {
                throw IAMError(.entityAlreadyExists, "MFADevice entity at the same path and name already exists.")
            }
            if !caller.isRoot, try transaction.unassignedDeviceCount(creator: caller.userName) >= Registry.maxUnassignedDevicesPerUser {
                throw IAMError(.limitExceeded, "Cannot exceed quota for unassigned virtual MFA devices per user: "
                    + "\(Registry.maxUnassignedDevicesPerUser). Enable or delete one first.")
            }
            try transaction.insertDevice(device)
            for (key, value) in tags { try transaction.setTag(serial: serial, key: key, value: value) }
            try transaction.appendAudit(entry)
        }
        return NewVirtualDevice(serial: serial, base32Seed: Base32.encode(seed, padding: false), qrPNG: png,
                                tags: tags.map { (key: $0.0, value: $0.1) })
    }

    /// The setup of a virtual device still being assigned — unassigned, created by `caller` —
    /// shown again to its creator when the wizard's codes were refused, so that a wrong code pair
    /// does not throw the QR code away. Nil for any other device: once assigned (or for anyone
    /// else), the seed never leaves Coffer again.
    public func pendingSetup(_ caller: Principal, serial: String) async throws -> NewVirtualDevice? {
        guard let device = try await device(serial: serial), device.kind == .virtual, device.userName == nil,
              device.creator == caller.userName
        else { return nil }
        let seed = try masterKey.open(device.sealedSeed, context: serial)
        let uri = KeyURI(issuer: "Coffer", account: "\(device.name)@\(accountID)", secret: seed)
        let png = try PNG.encode(QRCode(encoding: uri.uri, level: .medium), scale: 6)
        return NewVirtualDevice(serial: serial, base32Seed: Base32.encode(seed, padding: false), qrPNG: png, tags: [])
    }

    /// DeleteVirtualMFADevice: `DeleteConflict` while assigned.
    public func deleteVirtualDevice(_ caller: Principal, serial: String, info: RequestInfo) async throws {
        try Names.validateSerial(serial)
        let entry = audit("DeleteVirtualMFADevice", caller, info, serial: serial)
        try await store.write { transaction in
            guard let device = try transaction.device(serial), device.kind == .virtual else {
                throw IAMError(.noSuchEntity, "VirtualMFADevice with serial number \(serial) doesn't exist.")
            }
            guard device.userName == nil else {
                throw IAMError(.deleteConflict, "MFA VirtualDevice in use. Must deactivate first.")
            }
            try transaction.deleteDevice(serial)
            try transaction.appendAudit(entry)
        }
    }

    // MARK: Enable, resync, deactivate

    /// EnableMFADevice with two consecutive codes. A device belongs to at most one user; at most 8
    /// per user. Once the root has an enabled device, changing the root's devices needs an
    /// MFA-authenticated session (or `coffer admin` on the host): a stolen root key alone cannot.
    public func enableDevice(_ caller: Principal, userName: String, serial: String, code1: String, code2: String,
                             info: RequestInfo) async throws {
        let context = try pairRequest("EnableMFADevice", caller, userName: userName, serial: serial, code1: code1,
                                      code2: code2, info: info)
        try await pairWrite(context) { transaction in
            let user = try self.requireUser(userName, caller: caller, in: transaction)
            try self.requireRootMFA(caller, target: user, action: "EnableMFADevice", in: transaction)
            guard var device = try transaction.device(serial) else {
                throw IAMError(.noSuchEntity, "MFA Device with serial number \(serial) does not exist.")
            }
            guard device.userName == nil else { throw IAMError(.entityAlreadyExists, "MFA Device is already in use.") }
            // Before any code is judged: a stranger's wrong codes must not throttle someone
            // else's pending device.
            guard caller.isRoot || (device.creator != nil && device.creator == caller.userName) else {
                throw IAMError(.accessDenied, "Only the root or the creator of an unassigned MFA device may enable it.")
            }
            try self.requireDeviceRoom(user: user, in: transaction)
            device = try self.verifier.checkPair(device: device, first: code1, second: code2, context: context)
            device.userName = user
            device.enabled = self.now()
            try transaction.updateDevice(device)
            try transaction.appendAudit(self.audit("EnableMFADevice", caller, info, serial: serial, detail: "user \(user)"))
        }
    }

    /// ResyncMFADevice: two consecutive codes re-learn the device's drift.
    public func resyncDevice(_ caller: Principal, userName: String, serial: String, code1: String, code2: String,
                             info: RequestInfo) async throws {
        let context = try pairRequest("ResyncMFADevice", caller, userName: userName, serial: serial, code1: code1,
                                      code2: code2, info: info)
        try await pairWrite(context) { transaction in
            let user = try self.requireUser(userName, caller: caller, in: transaction)
            try self.requireRootMFA(caller, target: user, action: "ResyncMFADevice", in: transaction)
            guard var device = try transaction.device(serial), device.userName == user else {
                throw IAMError(.noSuchEntity, "MFA Device with serial number \(serial) not found for user \(user).")
            }
            device = try self.verifier.checkPair(device: device, first: code1, second: code2, context: context)
            try transaction.updateDevice(device)
            try transaction.appendAudit(self.audit("ResyncMFADevice", caller, info, serial: serial,
                                                   detail: "drift \(device.drift) steps"))
        }
    }

    /// DeactivateMFADevice: for the root only (IAM users cannot deactivate their own, as on AWS);
    /// the root's own devices need an MFA-authenticated session.
    public func deactivateDevice(_ caller: Principal, userName: String?, serial: String, info: RequestInfo) async throws {
        try Names.validateSerial(serial)
        let entry = audit("DeactivateMFADevice", caller, info, serial: serial)
        try await store.write { transaction in
            let user = try self.requireUser(userName, caller: caller, in: transaction)
            try self.requireRootMFA(caller, target: user, action: "DeactivateMFADevice", in: transaction)
            guard let device = try transaction.device(serial), device.userName == user else {
                throw IAMError(.noSuchEntity, "MFA Device with serial number \(serial) not found for user \(user).")
            }
            try transaction.appendAudit(entry)
            try self.unassign(device, because: "its MFA device was deactivated", in: transaction)
        }
    }

    /// `coffer admin deactivate-mfa`: AWS's "contact support" path for a lost root device.
    public func adminDeactivate(serial: String, operator name: String) async throws -> String {
        try await store.write { transaction in
            guard let device = try transaction.device(serial), let user = device.userName else {
                throw IAMError(.noSuchEntity, "No enabled MFA device with serial number \(serial).")
            }
            try self.unassign(device, because: "its MFA device was deactivated on the host", in: transaction)
            try transaction.appendAudit(AuditRecord(time: self.now(), event: "AdminDeactivateMFADevice", outcome: .done,
                                                    principal: "admin:\(name)", serial: serial, source: "host",
                                                    detail: "was enabled for \(user)"))
            return user
        }
    }

    /// Deactivation: the device leaves its user — a security key, bound to its user, is deleted
    /// (as on AWS), and so is an SMS device (its number is all it is) — and the user's console sessions end: whoever holds a lost device signs in no longer.
    func unassign(_ device: DeviceRecord, because reason: String, in transaction: StoreTransaction) throws {
        guard let user = device.userName else { return }
        if device.kind == .securityKey || device.kind == .sms {
            // A new number means a new device (the number is what the device is).
            try transaction.deleteDevice(device.serial)
        } else {
            var device = device
            device.userName = nil
            device.enabled = nil
            try transaction.updateDevice(device)
        }
        try console.endConsoleSessions(user: user, because: reason, in: transaction)
    }

    /// What enable and resync check before any code: who may, and the shapes of serial and codes.
    func pairRequest(_ action: String, _ caller: Principal, userName: String, serial: String, code1: String, code2: String,
                     info: RequestInfo) throws -> DeviceVerifier.Context {
        try Names.validateSerial(serial)
        try Names.validateCode(code1, parameter: "authenticationCode1")
        try Names.validateCode(code2, parameter: "authenticationCode2")
        return context(action, caller, info)
    }

    /// Refuses changes to the root's devices by plain root keys once the root has an enabled device.
    func requireRootMFA(_ caller: Principal, target: String, action: String, in transaction: StoreTransaction) throws {
        guard target == Registry.rootUser else { return }
        guard caller.isRoot else { throw IAMError(.noSuchEntity, "The user with name \(target) cannot be found.") }
        guard !caller.mfaAuthenticated else { return }
        let rootHasDevice = try !transaction.devices(user: Registry.rootUser, assigned: nil, kind: nil, after: nil, limit: 1).isEmpty
        guard rootHasDevice else { return }
        throw IAMError(.accessDenied, "\(action) on the root's MFA devices requires root credentials authenticated with "
            + "MFA (sts get-session-token with a code of an enabled root device) or `coffer admin` on the host: "
            + "the root's access keys alone are not enough once the root has an enabled MFA device.")
    }

    /// A write that checks a pair of codes: a failed check rolls the write back and is recorded on
    /// its own; it surfaces as `InvalidAuthenticationCode`.
    func pairWrite(_ context: DeviceVerifier.Context, _ body: @escaping @Sendable (StoreTransaction) throws -> Void) async throws {
        do {
            try await MFAFailureRecorder.write(store, body)
        } catch let error as DeviceVerifier.CheckError {
            switch error.failure {
            case .malformed:
                throw IAMError.validation("authenticationCode", "Member must have length 6 and satisfy regular expression pattern: [\\d]+")
            case .smsDevice:
                throw IAMError(.invalidInput, "\(error.serial) is an SMS device: it is assigned in the console, where the "
                    + "code sent to its phone is typed back, and it has no clock to resynchronize.")
            default:
                throw IAMError(.invalidAuthenticationCode, "Authentication code for device is not valid.")
            }
        }
    }

    // MARK: Listing

    /// ListMFADevices: the devices enabled for a user (the caller by default).
    public func listDevices(_ caller: Principal, userName: String?, marker: String?, maxItems: Int) async throws -> Page<DeviceRecord> {
        let target = userName ?? caller.userName
        let rows = try await store.asyncRead { transaction in
            let user = try self.requireUser(target, caller: caller, in: transaction)
            return try transaction.devices(user: user, assigned: nil, kind: nil, after: marker, limit: maxItems + 1)
        }
        return Page(rows, maxItems: maxItems) { $0.serial }
    }

    /// ListVirtualMFADevices: by assignment status; never a seed.
    public func listVirtualDevices(_ caller: Principal, assignment: String?, marker: String?, maxItems: Int) async throws
        -> Page<DeviceRecord> {
        let assigned: Bool?
        switch assignment ?? "Any" {
        case "Any": assigned = nil
        case "Assigned": assigned = true
        case "Unassigned": assigned = false
        default: throw IAMError.validation("assignmentStatus", "Member must satisfy enum value set: [Assigned, Unassigned, Any]")
        }
        let rows = try await store.asyncRead {
            try $0.devices(user: nil, assigned: assigned, kind: .virtual, after: marker, limit: maxItems + 1)
        }
        return Page(rows, maxItems: maxItems) { $0.serial }
    }

    public func user(named name: String) async throws -> UserRecord? { try await store.asyncRead { try $0.user(named: name) } }

    // MARK: Tags

    public func tagDevice(_ caller: Principal, serial: String, tags: [(String, String)]) async throws {
        try Self.validateTags(tags)
        try await store.write { transaction in
            guard try transaction.device(serial) != nil else {
                throw IAMError(.noSuchEntity, "MFA device with serial \(serial) cannot be found.")
            }
            let existing = Set(try transaction.tags(serial: serial).map(\.key))
            guard existing.union(tags.map(\.0)).count <= 50 else {
                throw IAMError(.limitExceeded, "Cannot exceed quota for TagsPerMFADevice: 50")
            }
            for (key, value) in tags { try transaction.setTag(serial: serial, key: key, value: value) }
        }
    }

    public func untagDevice(_ caller: Principal, serial: String, keys: [String]) async throws {
        try await store.write { transaction in
            guard try transaction.device(serial) != nil else {
                throw IAMError(.noSuchEntity, "MFA device with serial \(serial) cannot be found.")
            }
            for key in keys { try transaction.removeTag(serial: serial, key: key) }
        }
    }

    public func listTags(_ caller: Principal, serial: String) async throws -> [(key: String, value: String)] {
        return try await store.asyncRead { transaction in
            guard try transaction.device(serial) != nil else {
                throw IAMError(.noSuchEntity, "MFA device with serial \(serial) cannot be found.")
            }
            return try transaction.tags(serial: serial)
        }
    }

    static func validateTags(_ tags: [(String, String)]) throws {
        guard tags.count <= 50 else { throw IAMError(.limitExceeded, "Cannot exceed quota for TagsPerMFADevice: 50") }
        guard Set(tags.map(\.0)).count == tags.count else { throw IAMError(.invalidInput, "Duplicate tag keys found.") }
        for (key, value) in tags {
            guard (1...128).contains(key.count), value.count <= 256, !key.lowercased().hasPrefix("aws:") else {
                throw IAMError(.invalidInput, "Tag keys must be 1 to 128 characters and not start with aws:; values at most 256.")
            }
        }
    }
}

/// What the console shows of IAM, read for it here: the console never opens a store transaction
/// of its own. Each is one consistent snapshot.
extension MFADevices {
    /// A user's assigned MFA devices (at most the quota).
    public func enabledDevices(user: String) async throws -> [DeviceRecord] {
        try await store.asyncRead { try $0.devices(user: user, assigned: true, kind: nil, after: nil, limit: Registry.maxDevicesPerUser) }
    }

    /// Every device, assigned or not, in serial order (`coffer admin devices`): never a seed or number
    /// but in sealed form.
    public func allDevices() async throws -> [DeviceRecord] {
        try await store.asyncRead { try $0.devices(user: nil, assigned: nil, kind: nil, after: nil, limit: 100_000) }
    }

    /// The device with this serial, assigned or not.
    public func device(serial: String) async throws -> DeviceRecord? {
        try await store.asyncRead { try $0.device(serial) }
    }
}
