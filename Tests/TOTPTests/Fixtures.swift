import Foundation
import TOTP

/// Loads the RFC test vectors kept in the repository's `Data/vectors` folder.
enum Fixtures {
    static let dataFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Data/vectors")

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: dataFolder.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    struct HOTPFile: Decodable {
        struct Vector: Decodable, Sendable { let counter: UInt64; let code: String }
        let secret_hex: String
        let digits: Int
        let vectors: [Vector]
    }

    struct TOTPFile: Decodable {
        struct Seed: Decodable { let hex: String; let base32: String }
        struct Vector: Decodable, Sendable {
            let time: Int64; let step: Int64; let algorithm: String; let code: String
        }
        struct Negative: Decodable, Sendable {
            let note: String; let time: Int64; let algorithm: String; let seed: String; let code: String
        }
        let period: Int64
        let digits: Int
        let seeds: [String: Seed]
        let vectors: [Vector]
        let negative: [Negative]
    }

    static func hotp() throws -> HOTPFile { try load("rfc4226-hotp.json", as: HOTPFile.self) }
    static func totp() throws -> TOTPFile { try load("rfc6238-totp.json", as: TOTPFile.self) }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }
}

