/// Where a cluster's metadata lives: `postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]…]/DATABASE`,
/// libpq's form for several hosts. A node uses the first host that accepts a connection and is
/// not a standby (read-only), and moves to the next when that one fails or becomes read-only.
/// The password may instead come from `PGPASSWORD`. The description never shows it.
public struct PostgresTarget: Sendable, CustomStringConvertible, Equatable {
    public struct Host: Sendable, Equatable {
        public var name: String
        public var port: Int
    }

    public var hosts: [Host]
    public var user: String
    public var password: String?
    public var database: String
    /// A schema of its own inside the database (the tests' isolation: one per store); nil: `public`.
    public var schema: String?

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(hosts: [Host], user: String, password: String?, database: String) {
        self.hosts = hosts
        self.user = user
        self.password = password
        self.database = database
    }

    public init(url: String, environment: [String: String] = [:]) throws {
        func invalid(_ why: String) -> Invalid {
            Invalid(description: "--database \(Self.redacted(url)): \(why); expected postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]...]/DATABASE")
        }
        guard url.utf8.count <= 4096 else { throw invalid("too long") }
        var rest = Substring(url)
        if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else {
            throw invalid("not a postgres:// address")
        }
        guard let at = rest.lastIndex(of: "@") else { throw invalid("no USER@") }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("no /DATABASE") }
        let hostList = rest[..<slash]
        var database = rest[rest.index(after: slash)...]
        if let query = database.firstIndex(of: "?") { database = database[..<query] }
        guard !database.isEmpty else { throw invalid("no database name") }
        if let colon = credentials.firstIndex(of: ":") {
            user = Self.percentDecoded(credentials[..<colon])
            password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
        } else {
            user = Self.percentDecoded(credentials)
            password = environment["PGPASSWORD"]
        }
        guard !user.isEmpty else { throw invalid("no user") }
        self.database = Self.percentDecoded(database)
        hosts = []
        for item in hostList.split(separator: ",", omittingEmptySubsequences: false) {
            var name = item
            var port = 5432
            if let colon = item.lastIndex(of: ":"), !item.hasSuffix("]") {
                guard let parsed = Int(item[item.index(after: colon)...]), (1...65535).contains(parsed) else {
                    throw invalid("port of \(item) is not 1-65535")
                }
                port = parsed
                name = item[..<colon]
            }
            if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
            guard !name.isEmpty else { throw invalid("an empty host") }
            hosts.append(Host(name: String(name), port: port))
        }
        guard !hosts.isEmpty, hosts.count <= 16 else { throw invalid("1 to 16 hosts") }
    }

    public var description: String {
        "postgres://\(user)@\(hosts.map { "\($0.name):\($0.port)" }.joined(separator: ","))/\(database)"
    }

    /// The address with any password replaced, for messages.
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"),
              let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
