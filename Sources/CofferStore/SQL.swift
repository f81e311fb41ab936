import Foundation
import GRDB

/// One connection the store's SQL runs on, inside a transaction the engine opened: SQLite's
/// (GRDB) or PostgreSQL's. `StoreTransaction` writes its SQL once, in the dialect both accept
/// (`?` and `?NNN` parameters, `ON CONFLICT … DO UPDATE/NOTHING`, `RETURNING`, `lower()` for
/// case-insensitive names); the PostgreSQL connection numbers the parameters its own way.
protocol SQLConnection {
    /// Runs one statement. `onRow` sees each result row (valid only during the call) and returns
    /// false to stop early. Returns how many rows the statement changed (0 for a query).
    @discardableResult
    func run(_ sql: String, _ arguments: [DatabaseValue], onRow: (SQLRow) throws -> Bool) throws -> Int

    /// Runs a statement whose answer nobody reads. PostgreSQL's connection sends it without
    /// waiting: it fails, if at all, at the next statement that is waited for (the COMMIT at the
    /// latest), so only statements whose failure the transaction body does not handle itself
    /// may be sent this way. SQLite's runs it at once.
    func send(_ sql: String, _ arguments: [DatabaseValue]) throws

    /// Whether this is PostgreSQL (the few statements that differ: see `StoreTransaction.insertVersion`).
    var isPostgres: Bool { get }
}

extension SQLConnection {
    var isPostgres: Bool { false }

    func send(_ sql: String, _ arguments: [DatabaseValue]) throws {
        try run(sql, arguments) { _ in true }
    }
}

/// A result row, read by position or by column name with GRDB's conversions (`DatabaseValueConvertible`).
/// A non-optional read of NULL or of a value of another kind is a programming error, as in GRDB.
/// An optional read is the same subscript with `T` an `Optional` (GRDB's `Optional` conformance
/// decodes NULL as nil), so there is one subscript per key kind, as in GRDB: a second one returning
/// `T?` made every optional read ambiguous.
public struct SQLRow {
    enum Storage {
        case sqlite(Row)
        case values([DatabaseValue], columns: [String])
    }

    let storage: Storage

    init(sqlite row: Row) { storage = .sqlite(row) }
    init(values: [DatabaseValue], columns: [String]) { storage = .values(values, columns: columns) }

    /// A copy that outlives the statement (a SQLite cursor's row is reused for the next one).
    func copy() -> SQLRow {
        if case .sqlite(let row) = storage { return SQLRow(sqlite: row.copy()) }
        return self
    }

    @inline(__always)
    func value(at index: Int) -> DatabaseValue {
        switch storage {
        case .sqlite(let row): return row[index] as DatabaseValue
        case .values(let values, _): return values[index]
        }
    }

    func value(named name: String) -> DatabaseValue {
        switch storage {
        case .sqlite(let row): return row[name] as DatabaseValue? ?? .null
        case .values(let values, let columns):
            guard let index = columns.firstIndex(of: name) else { return .null }
            return values[index]
        }
    }

    public func hasNull(atIndex index: Int) -> Bool { value(at: index).isNull }

    public subscript<T: DatabaseValueConvertible>(_ index: Int) -> T {
        Self.decode(value(at: index), column: "\(index)")
    }

    public subscript<T: DatabaseValueConvertible>(_ name: String) -> T {
        Self.decode(value(named: name), column: name)
    }

    private static func decode<T: DatabaseValueConvertible>(_ value: DatabaseValue, column: String) -> T {
        guard let decoded = T.fromDatabaseValue(value) else {
            preconditionFailure("column \(column): \(value.isNull ? "NULL" : "a value") is not a \(T.self)")
        }
        return decoded
    }
}

/// A type read from one row (the store's records).
protocol SQLRecord {
    init(row: SQLRow)
}

/// The statements `StoreTransaction` runs, over whichever connection the engine gave it.
struct SQLDatabase {
    let connection: any SQLConnection

    typealias Arguments = [(any DatabaseValueConvertible)?]

    private static func values(_ arguments: Arguments) -> [DatabaseValue] {
        arguments.map { $0?.databaseValue ?? .null }
    }

    /// Runs a statement; the number of rows it changed.
    @discardableResult
    func execute(sql: String, arguments: Arguments = []) throws -> Int {
        try connection.run(sql, Self.values(arguments)) { _ in true }
    }

    /// Runs a statement whose answer (rows, count) nobody reads and whose failure the caller
    /// does not handle: on PostgreSQL it fails, if at all, at the next statement waited for.
    func send(sql: String, arguments: Arguments = []) throws {
        try connection.send(sql, Self.values(arguments))
    }

    /// The first column of the first row (nil when there is no row or it is NULL).
    func one<T: DatabaseValueConvertible>(_ type: T.Type, sql: String, arguments: Arguments = []) throws -> T? {
        var result: T?
        try connection.run(sql, Self.values(arguments)) { row in
            result = row[0] as T?
            return false
        }
        return result
    }

    /// The first column of every row, NULLs left out.
    func all<T: DatabaseValueConvertible>(_ type: T.Type, sql: String, arguments: Arguments = []) throws -> [T] {
        var result: [T] = []
        try connection.run(sql, Self.values(arguments)) { row in
            if let value = row[0] as T? { result.append(value) }
            return true
        }
        return result
    }

    func row(sql: String, arguments: Arguments = []) throws -> SQLRow? {
        var result: SQLRow?
        try connection.run(sql, Self.values(arguments)) { row in
            result = row.copy()
            return false
        }
        return result
    }

    func rows(sql: String, arguments: Arguments = []) throws -> [SQLRow] {
        var result: [SQLRow] = []
        try connection.run(sql, Self.values(arguments)) { row in
            result.append(row.copy())
            return true
        }
        return result
    }

    /// Calls `body` with each row, decoded in place (no copy).
    func each(sql: String, arguments: Arguments = [], _ body: (SQLRow) throws -> Void) throws {
        try connection.run(sql, Self.values(arguments)) { row in
            try body(row)
            return true
        }
    }

    func record<R: SQLRecord>(_ type: R.Type, sql: String, arguments: Arguments = []) throws -> R? {
        var result: R?
        try connection.run(sql, Self.values(arguments)) { row in
            result = R(row: row)
            return false
        }
        return result
    }

    func records<R: SQLRecord>(_ type: R.Type, sql: String, arguments: Arguments = []) throws -> [R] {
        var result: [R] = []
        try connection.run(sql, Self.values(arguments)) { row in
            result.append(R(row: row))
            return true
        }
        return result
    }
}

/// SQLite through GRDB: every statement is prepared once per connection (GRDB's statement cache).
struct SQLiteConnection: SQLConnection {
    let db: Database

    @discardableResult
    func run(_ sql: String, _ arguments: [DatabaseValue], onRow: (SQLRow) throws -> Bool) throws -> Int {
        let statement = try db.cachedStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
        while let row = try cursor.next() {
            if try !onRow(SQLRow(sqlite: row)) { break }
        }
        return statement.isReadonly ? 0 : db.changesCount
    }
}

extension StoreTransaction {
    /// A transaction over a SQLite connection.
    init(db: Database) { self.init(sql: SQLDatabase(connection: SQLiteConnection(db: db))) }
}

extension SQLRow {
    /// The row's column names and values, in order (a copy between engines).
    var columnsAndValues: [(String, DatabaseValue)] {
        switch storage {
        case .sqlite(let row): return row.columnNames.map { ($0, row[$0] as DatabaseValue) }
        case .values(let values, let columns): return Array(zip(columns, values))
        }
    }
}
