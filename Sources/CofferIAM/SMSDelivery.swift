import CofferCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One text message on its way to a phone. `to` and `body` (which holds the code) go to the
/// delivery only: never to a log, an audit row or an error.
public struct SMSMessage: Sendable, Equatable {
    public var id: String
    /// E.164.
    public var to: String
    public var body: String
    /// `enable` or `sign-in`.
    public var purpose: String
    /// Unix ms.
    public var created: Int64

    public init(id: String, to: String, body: String, purpose: String, created: Int64) {
        self.id = id
        self.to = to
        self.body = body
        self.purpose = purpose
        self.created = created
    }

    /// The message as JSON: what the webhook posts and the outbox stores.
    public var json: [UInt8] {
        let object: [String: Any] = ["id": id, "to": to, "body": body, "purpose": purpose,
                                     "created": HTTPDate.iso8601(milliseconds: created)]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}

/// Where SMS messages go: an HTTP webhook (a relay to an SMS provider) or an outbox folder.
/// `deliver` returns once the message is handed over, or throws within 10 seconds.
public protocol SMSDelivery: Sendable {
    /// `webhook` or `outbox`: for the log, the audit and `/metrics`.
    var name: String { get }
    func deliver(_ message: SMSMessage) async throws
}

/// Why a message could not be handed over, in words without the number or the code.
public struct SMSDeliveryError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// One file per message in a folder (mode 0600 in a folder of mode 0700): for demonstrations,
/// tests and sites with no SMS provider, where an operator reads the code off the host
/// (`coffer admin sms-outbox`) and passes it on. Each file is written whole, then renamed into
/// place: a reader never sees half a message.
public struct SMSOutbox: SMSDelivery {
    public let folder: URL
    public var name: String { "outbox" }

    public init(folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    public func deliver(_ message: SMSMessage) async throws {
        let time = String(max(0, message.created))
        let name = String(repeating: "0", count: max(0, 13 - time.count)) + time + "-\(message.id).json"
        let temporary = folder.appendingPathComponent(".\(name).tmp").path
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw SMSDeliveryError("the outbox folder cannot be written") }
        let bytes = message.json
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0, rename(temporary, folder.appendingPathComponent(name).path) == 0 else {
            unlink(temporary)
            throw SMSDeliveryError("the outbox folder cannot be written")
        }
    }

    /// The latest `count` messages, newest first (file names sort by time).
    public static func latest(in folder: URL, count: Int) throws -> [SMSMessage] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted(by: >).prefix(max(0, count))
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let id = object["id"] as? String, let to = object["to"] as? String, let body = object["body"] as? String
            else { return nil }
            let created = Int64(name.prefix(13)) ?? 0
            return SMSMessage(id: id, to: to, body: body, purpose: object["purpose"] as? String ?? "", created: created)
        }
    }
}
