import CofferCore
@testable import CofferStore
import Foundation
import Synchronization
import Testing

/// The store on its own: a real SQLite file in a temporary folder.
@Suite("Store")
struct StoreTests {
    static func store() throws -> Store {
        try Store.forTesting(folder: FileManager.default.temporaryDirectory.appendingPathComponent("coffer-store-\(UUID().uuidString)"))
    }

    @Test("Every audit field is bounded where the entry is made, on a character boundary")
    func auditBounds() async throws {
        let store = try Self.store()
        let huge = String(repeating: "é", count: 50_000)
        let entry = AuditRecord(time: 1, event: huge, outcome: .denied, principal: huge, serial: huge, source: huge,
                                requestID: huge, detail: huge)
        #expect(entry.event.utf8.count <= AuditRecord.limits.event && entry.event.hasSuffix("..."))
        #expect(entry.source!.utf8.count <= AuditRecord.limits.source)
        #expect(entry.detail!.utf8.count <= AuditRecord.limits.detail)
        #expect(entry.size < 4096)
        try await store.write { try $0.appendAudit(entry) }
        let stored = try store.readNow { try $0.audit(after: 0, limit: 10) }
        #expect(stored.count == 1 && stored[0].principal == entry.principal)
        try store.close()
    }

    @Test("verify lists IAM names that differ only by case")
    func lookalikes() async throws {
        let store = try Self.store()
        try await store.write { transaction in
            try transaction.insertUser(UserRecord(name: "bob", userID: "AIDA1", path: "/", created: 1))
            try transaction.insertUser(UserRecord(name: "Bob", userID: "AIDA2", path: "/", created: 1))
            try transaction.insertUser(UserRecord(name: "carol", userID: "AIDA3", path: "/", created: 1))
        }
        #expect(try store.readNow { try $0.userNamedIgnoringCase("BOB") } != nil)
        #expect(try store.readNow { try $0.userNamedIgnoringCase("dave") } == nil)
        let report = try store.verify(deep: false)
        #expect(report.lookalikes == ["users: Bob, bob"])
        #expect(!report.isDamaged)
        try store.close()
    }

    @Test("A decision's reads suspend on a cluster node; a write between a value's read and its use reads it again")
    func decisionReads() async throws {
        let store = try Self.store()
        var rounds = 0
        let bobExists = try await store.resolving { () throws -> Bool in
            rounds += 1
            let exists = try store.decisionRead("user\u{0}bob") { try $0.user(named: "bob") != nil }
            if rounds == 2 || !store.isCluster {
                // Between this value's read and the decision's end, another request adds bob.
                try store.writeNow { try $0.insertUser(UserRecord(name: "bob", userID: "AIDA7", path: "/", created: 1)) }
            }
            _ = try store.decisionRead("user\u{0}carol") { try $0.user(named: "carol") != nil }
            return exists
        }
        if store.isCluster {
            // 1: bob's read pending. 2: bob (absent); the write; carol's read pending. 3: bob's value
            // is older than the write: read again. 4: both at hand — or, when the node hears its own
            // write's notification between carol's read and round 4 (it moves the words again), one
            // more value read again.
            #expect((4...6).contains(rounds), "\(rounds) rounds")
            #expect(bobExists)
        } else {
            #expect(rounds == 1)  // the data folder's reads run in place
            #expect(!bobExists)
        }
        // Outside `resolving`, a decision's read runs in place on either engine.
        #expect(try store.decisionRead("user\u{0}bob") { try $0.user(named: "bob") != nil })
        try store.close()
    }

    @Test("PostgreSQL's statements: parameters numbered, and cast to their values' types when prepared")
    func statementTranslation() {
        #expect(PostgresStatements.numbered("a = ? AND b = '?' AND c = ?3 AND d = ?", casts: ["int8", nil, "text", "bytea"])
                    == "a = $1::int8 AND b = '?' AND c = $3::text AND d = $4::bytea")
        #expect(PostgresStatements.numbered("a = ?2 OR b = ?2", casts: [nil, "int8"]) == "a = $2::int8 OR b = $2::int8")
        #expect(PostgresStatements.numbered("a = ? AND b = ?") == "a = $1 AND b = $2")
    }

    @Test("A statement sent without waiting stays in its transaction: rolled back with it, its failure the transaction's")
    func sentStatements() async throws {
        let store = try Self.store()
        struct Refused: Error {}
        // Each run uses SQL text never run before on any connection, so that its first use
        // (a preparation) must not let a later statement — the ROLLBACK, the COMMIT — overtake it.
        for round in 0..<3 {
            let name = "sent_\(round)_\(UUID().uuidString.prefix(8))"
            await #expect(throws: Refused.self) {
                try await store.write { transaction in
                    try transaction.db.send(sql: "INSERT INTO meta(name, value) VALUES (?, ?) -- \(name)", arguments: [name, "x"])
                    throw Refused()
                }
            }
            #expect(try store.readNow { try $0.setting(name) } == nil)
            try await store.write { transaction in
                try transaction.db.send(sql: "INSERT INTO meta(name, value) VALUES (?, ?) -- kept \(name)", arguments: [name, "y"])
            }
            #expect(try store.readNow { try $0.setting(name) } == "y")
            // A sent statement that fails (a duplicate key) fails the write, though nothing waited for it.
            await #expect(throws: (any Error).self) {
                try await store.write { transaction in
                    try transaction.db.send(sql: "INSERT INTO meta(name, value) VALUES (?, ?) -- again \(name)", arguments: [name, "z"])
                    try transaction.setSetting(name + "-after", "1")
                }
            }
            #expect(try store.readNow { try $0.setting(name) } == "y" && store.readNow { try $0.setting(name + "-after") } == nil)
        }
        try store.close()
    }

    @Test("A write body's settled actions run once, for the attempt that settled, however often a conflict ran it again")
    func settledOnce() async throws {
        let store = try Self.store()
        let attempts = Mutex(0)
        let settled = Mutex(0)
        guard store.isCluster else {
            // The data folder runs a body once; its action runs at once.
            try await store.write { _ in
                attempts.withLock { $0 += 1 }
                Settled.run { settled.withLock { $0 += 1 } }
            }
            #expect(attempts.withLock { $0 } == 1 && settled.withLock { $0 } == 1)
            try store.close()
            return
        }
        try await store.write { transaction in
            try transaction.setSetting("skew_a", "0")
            try transaction.setSetting("skew_b", "0")
        }
        // Write skew: each reads one setting and writes the other, both reading before either writes
        // (on their first attempts). SERIALIZABLE lets only one commit; the other runs again.
        let attemptCount = Counter(), settledCount = Counter()
        let gates = [Gate(), Gate()]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, (read, write)) in [("skew_a", "skew_b"), ("skew_b", "skew_a")].enumerated() {
                group.addTask {
                    let first = Counter()
                    try await store.write { transaction in
                        attemptCount.add()
                        _ = try transaction.setting(read)
                        if first.add() == 1 {
                            gates[index].semaphore.signal()
                            _ = gates[1 - index].semaphore.wait(timeout: .now() + 10)
                        }
                        try transaction.setSetting(write, "1")
                        Settled.run { settledCount.add() }
                    }
                }
            }
            try await group.waitForAll()
        }
        attempts.withLock { $0 = attemptCount.value }
        settled.withLock { $0 = settledCount.value }
        #expect(attempts.withLock { $0 } >= 3)  // one of them ran again
        #expect(settled.withLock { $0 } == 2)  // once per write
        try store.close()
    }

    @Test("Audit rows and throttle-like writes move no cache word; IAM writes move only the access word")
    func words() async throws {
        let store = try Self.store()
        guard !store.isCluster else { return }  // a cluster node's words also move on other nodes' notifications
        let generation = store.engine.generation
        func words() -> [UInt64] { CacheDomain.allCases.map { generation.current($0.rawValue) } }
        let start = words()
        try await store.write { try $0.appendAudit(AuditRecord(time: 1, event: "E", outcome: .denied, principal: "p")) }
        try await store.write { try $0.setSetting("some_setting", "x") }
        #expect(words() == start)
        try await store.write { try $0.insertUser(UserRecord(name: "u", userID: "AIDA9", path: "/", created: 1)) }
        let after = words()
        #expect(after[0] == start[0] && after[1] > start[1] && after[2] == start[2])
        try store.close()
    }

    @Test("An access key's last use: only for a key that exists, never moved back, gone with the key, and no cache word moves")
    func keyUse() async throws {
        let store = try Self.store()
        guard !store.isCluster else { return }  // a cluster node's words also move on notifications
        let generation = store.engine.generation
        func words() -> [UInt64] { CacheDomain.allCases.map { generation.current($0.rawValue) } }
        try await store.write { transaction in
            try transaction.insertUser(UserRecord(name: "u", userID: "AIDA9", path: "/", created: 1))
            try transaction.insertAccessKey(AccessKeyRecord(accessKey: "AKIAUSED", userName: "u", sealedSecret: [1],
                                                            status: .active, created: 1))
        }
        let start = words()
        try await store.write { try $0.recordKeyUse("AKIANOTAKEY", at: 5, service: "s3", region: "r") }
        #expect(try store.readNow { try $0.keyUse("AKIANOTAKEY") } == nil)
        try await store.write { try $0.recordKeyUse("AKIAUSED", at: 10, service: "s3", region: "eu-west-1") }
        try await store.write { try $0.recordKeyUse("AKIAUSED", at: 7, service: "iam", region: "us-east-1") }  // older: ignored
        let used = try store.readNow { try $0.keyUse("AKIAUSED") }
        #expect(used?.time == 10 && used?.service == "s3" && used?.region == "eu-west-1")
        #expect(words() == start)  // the credential caches stay warm
        try await store.write { try $0.deleteAccessKey("AKIAUSED") }
        #expect(try store.readNow { try $0.keyUse("AKIAUSED") } == nil)
        try store.close()
    }
}

/// A semaphore two transactions' threads meet at.
final class Gate: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
}

/// A count several threads add to.
final class Counter: Sendable {
    private let count = Mutex(0)
    @discardableResult func add() -> Int { count.withLock { $0 += 1; return $0 } }
    var value: Int { count.withLock { $0 } }
}
