import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a cluster keeps object bytes in Ceph RADOS: `rados:POOL[?conf=PATH&id=NAME&namespace=NS]`.
/// Without `conf`, librados reads `CEPH_CONF` or `/etc/ceph/ceph.conf`; without `id`, it connects
/// as `client.admin`; with `namespace`, its objects are in that namespace of the pool (several
/// Coffer clusters can share one pool, each seeing only its own objects).
public struct RadosTarget: Sendable, Equatable, CustomStringConvertible {
    public var pool: String
    public var configFile: String?
    public var clientID: String?
    public var namespace: String?

    public init(url: String) throws {
        guard url.hasPrefix("rados:") else { throw RadosError.badTarget("a RADOS target starts with rados:") }
        let rest = url.dropFirst("rados:".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        pool = String(parts[0])
        guard !pool.isEmpty, pool.utf8.count <= 255, !pool.contains("\0") else {
            throw RadosError.badTarget("rados: needs a pool name, e.g. rados:coffer")
        }
        if parts.count == 2 {
            for item in parts[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, !pair[1].contains("\0") else { throw RadosError.badTarget("cannot read '\(item)'") }
                switch pair[0] {
                case "conf": configFile = String(pair[1])
                case "id": clientID = String(pair[1])
                case "namespace": namespace = String(pair[1])
                default: throw RadosError.badTarget("unknown setting '\(pair[0])' (conf=PATH, id=NAME and namespace=NS are known)")
                }
            }
        }
    }

    public var description: String {
        var query: [String] = []
        if let configFile { query.append("conf=\(configFile)") }
        if let clientID { query.append("id=\(clientID)") }
        if let namespace { query.append("namespace=\(namespace)") }
        return "rados:\(pool)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}

public enum RadosError: Error, CustomStringConvertible {
    case badTarget(String)
    /// librados is not installed (Debian: librados2).
    case missingLibrary(String)
    /// A librados call failed with this (negative) errno.
    case call(String, Int32)

    public var description: String {
        switch self {
        case .badTarget(let message): return message
        case .missingLibrary(let message): return message
        case .call(let name, let code): return "\(name): \(String(cString: strerror(-code))) (\(code))"
        }
    }
}

/// The part of librados Coffer calls, loaded when a node is started with `--blobs rados:…`
/// (`dlopen`), so that building and running Coffer on its data folder needs no Ceph at all.
/// The function types restate `rados/librados.h` (Ceph 16).
final class RadosLibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias CString = UnsafePointer<CChar>

    let create2: @convention(c) (UnsafeMutablePointer<Handle?>, CString?, CString?, UInt64) -> Int32
    let confReadFile: @convention(c) (Handle?, CString?) -> Int32
    let confSet: @convention(c) (Handle?, CString, CString) -> Int32
    let connect: @convention(c) (Handle?) -> Int32
    let shutdown: @convention(c) (Handle?) -> Void
    let ioctxCreate: @convention(c) (Handle?, CString, UnsafeMutablePointer<Handle?>) -> Int32
    let ioctxDestroy: @convention(c) (Handle?) -> Void
    let ioctxSetNamespace: @convention(c) (Handle?, CString?) -> Void
    let read: @convention(c) (Handle?, CString, UnsafeMutablePointer<CChar>, Int, UInt64) -> Int32
    let stat: @convention(c) (Handle?, CString, UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<time_t>) -> Int32
    let createWriteOp: @convention(c) () -> Handle?
    let releaseWriteOp: @convention(c) (Handle?) -> Void
    let writeOpWrite: @convention(c) (Handle?, CString, Int, UInt64) -> Void
    let writeOpWriteFull: @convention(c) (Handle?, CString, Int) -> Void
    let writeOpRemove: @convention(c) (Handle?) -> Void
    let writeOpOperate: @convention(c) (Handle?, Handle?, CString, UnsafeMutablePointer<time_t>?, Int32) -> Int32
    let listOpen: @convention(c) (Handle?, UnsafeMutablePointer<Handle?>) -> Int32
    let listNext: @convention(c) (Handle?, UnsafeMutablePointer<CString?>, UnsafeMutablePointer<CString?>?,
                                  UnsafeMutablePointer<CString?>?) -> Int32
    let listClose: @convention(c) (Handle?) -> Void

    /// Send write ops to a full cluster or pool anyway: they fail at once with ENOSPC or EDQUOT
    /// instead of waiting for space (a removal succeeds).
    static let fullTry: Int32 = 64
    /// For removals: go through even when the pool is full.
    static let fullForce: Int32 = 128

    static let shared: Result<RadosLibrary, RadosError> = {
        do { return .success(try RadosLibrary()) } catch let error as RadosError { return .failure(error) } catch {
            return .failure(.missingLibrary("\(error)"))
        }
    }()

    private init() throws(RadosError) {
        guard let library = dlopen("librados.so.2", RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw RadosError.missingLibrary("cannot load librados (Debian: apt-get install librados2): \(reason)")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(RadosError) -> T {
            guard let address = dlsym(library, name) else { throw RadosError.missingLibrary("librados has no \(name)") }
            return unsafeBitCast(address, to: type)
        }
        create2 = try symbol("rados_create2", as: type(of: create2))
        confReadFile = try symbol("rados_conf_read_file", as: type(of: confReadFile))
        confSet = try symbol("rados_conf_set", as: type(of: confSet))
        connect = try symbol("rados_connect", as: type(of: connect))
        shutdown = try symbol("rados_shutdown", as: type(of: shutdown))
        ioctxCreate = try symbol("rados_ioctx_create", as: type(of: ioctxCreate))
        ioctxDestroy = try symbol("rados_ioctx_destroy", as: type(of: ioctxDestroy))
        ioctxSetNamespace = try symbol("rados_ioctx_set_namespace", as: type(of: ioctxSetNamespace))
        read = try symbol("rados_read", as: type(of: read))
        stat = try symbol("rados_stat", as: type(of: stat))
        createWriteOp = try symbol("rados_create_write_op", as: type(of: createWriteOp))
        releaseWriteOp = try symbol("rados_release_write_op", as: type(of: releaseWriteOp))
        writeOpWrite = try symbol("rados_write_op_write", as: type(of: writeOpWrite))
        writeOpWriteFull = try symbol("rados_write_op_write_full", as: type(of: writeOpWriteFull))
        writeOpRemove = try symbol("rados_write_op_remove", as: type(of: writeOpRemove))
        writeOpOperate = try symbol("rados_write_op_operate", as: type(of: writeOpOperate))
        listOpen = try symbol("rados_nobjects_list_open", as: type(of: listOpen))
        listNext = try symbol("rados_nobjects_list_next", as: type(of: listNext))
        listClose = try symbol("rados_nobjects_list_close", as: type(of: listClose))
    }
}

/// One connection to a RADOS pool. Every call blocks (run it off the event loops); librados's
/// handles are thread-safe, so one pool serves every thread.
///
/// Nothing waits forever: OSD and monitor operations time out after 30 s, and every write op
/// carries `FULL_TRY`, so a full pool (or one over its quota) refuses it at once with ENOSPC or
/// EDQUOT instead of blocking.
public final class RadosPool: @unchecked Sendable {
    let library: RadosLibrary
    private let cluster: RadosLibrary.Handle?
    private let io: RadosLibrary.Handle?
    public let target: RadosTarget

    public init(_ target: RadosTarget) throws {
        self.target = target
        library = try RadosLibrary.shared.get()
        var cluster: RadosLibrary.Handle?
        let name = "client." + (target.clientID ?? "admin")
        var code = library.create2(&cluster, "ceph", name, 0)
        guard code == 0 else { throw RadosError.call("rados_create2", code) }
        code = library.confReadFile(cluster, target.configFile)
        guard code == 0 else {
            library.shutdown(cluster)
            throw RadosError.call("reading the Ceph configuration \(target.configFile ?? "(CEPH_CONF or /etc/ceph/ceph.conf)")", code)
        }
        for (option, value) in [("rados_osd_op_timeout", "30"), ("rados_mon_op_timeout", "30"),
                                ("client_mount_timeout", "15"), ("log_to_stderr", "false"), ("err_to_stderr", "false")] {
            _ = library.confSet(cluster, option, value)
        }
        code = library.connect(cluster)
        guard code == 0 else {
            library.shutdown(cluster)
            throw RadosError.call("connecting to the Ceph cluster", code)
        }
        var io: RadosLibrary.Handle?
        code = library.ioctxCreate(cluster, target.pool, &io)
        guard code == 0 else {
            library.shutdown(cluster)
            throw RadosError.call("opening pool \(target.pool)", code)
        }
        if let namespace = target.namespace { library.ioctxSetNamespace(io, namespace) }
        self.cluster = cluster
        self.io = io
    }

    deinit {
        library.ioctxDestroy(io)
        library.shutdown(cluster)
    }

    /// Writes `bytes` at `offset` of object `oid` (creating it); `replace` first truncates it.
    func write(_ oid: String, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, replace: Bool) throws {
        guard let op = library.createWriteOp() else { throw RadosError.call("rados_create_write_op", -ENOMEM) }
        defer { library.releaseWriteOp(op) }
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(bitPattern: 1)!
        if replace {
            library.writeOpWriteFull(op, base, bytes.count)
        } else {
            library.writeOpWrite(op, base, bytes.count, offset)
        }
        let code = library.writeOpOperate(op, io, oid, nil, RadosLibrary.fullTry)
        guard code == 0 else { throw RadosError.call("write \(oid)", code) }
    }

    /// Removes object `oid`; false when there was none. Goes through on a full pool.
    @discardableResult
    func remove(_ oid: String) throws -> Bool {
        guard let op = library.createWriteOp() else { throw RadosError.call("rados_create_write_op", -ENOMEM) }
        defer { library.releaseWriteOp(op) }
        library.writeOpRemove(op)
        let code = library.writeOpOperate(op, io, oid, nil, RadosLibrary.fullForce)
        if code == -ENOENT { return false }
        guard code == 0 else { throw RadosError.call("remove \(oid)", code) }
        return true
    }

    /// Reads up to `count` bytes of `oid` from `offset` into `buffer`; the count read (short at the
    /// object's end).
    func read(_ oid: String, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let code = library.read(io, oid, base.assumingMemoryBound(to: CChar.self), buffer.count, offset)
        guard code >= 0 else { throw RadosError.call("read \(oid)", code) }
        return Int(code)
    }

    /// Size and modification time (seconds since 1970) of `oid`; nil when it does not exist.
    func stat(_ oid: String) throws -> (size: UInt64, modified: Int)? {
        var size: UInt64 = 0
        var modified = time_t()
        let code = library.stat(io, oid, &size, &modified)
        if code == -ENOENT { return nil }
        guard code == 0 else { throw RadosError.call("stat \(oid)", code) }
        return (size, Int(modified))
    }

    /// Every object name in the pool (in its namespace).
    func objectNames() throws -> [String] {
        var names: [String] = []
        try forEachPage(of: 10_000) { names += $0 }
        return names
    }

    /// The pool's object names (in its namespace), `size` at a time as the listing cursor walks
    /// them: a pool of any size is listed in bounded memory. Objects removed meanwhile may or may
    /// not be listed; objects present throughout are listed once.
    func forEachPage(of size: Int, _ body: ([String]) throws -> Void) throws {
        var context: RadosLibrary.Handle?
        var code = library.listOpen(io, &context)
        guard code == 0 else { throw RadosError.call("list \(target.pool)", code) }
        defer { library.listClose(context) }
        var page: [String] = []
        page.reserveCapacity(max(1, size))
        while true {
            var entry: RadosLibrary.CString?
            code = library.listNext(context, &entry, nil, nil)
            if code == -ENOENT { break }
            guard code == 0 else { throw RadosError.call("list \(target.pool)", code) }
            if let entry { page.append(String(cString: entry)) }
            if page.count >= size {
                try body(page)
                page.removeAll(keepingCapacity: true)
            }
        }
        if !page.isEmpty { try body(page) }
    }
}

/// Where a cluster keeps object bytes (`--blobs`): a folder every node shares, or a RADOS pool
/// (`rados:POOL…`, see `RadosTarget`).
public enum ClusterBlobs: Sendable, Equatable, CustomStringConvertible {
    case folder(URL)
    case rados(RadosTarget)

    public init(_ value: String) throws {
        if value.hasPrefix("rados:") {
            self = .rados(try RadosTarget(url: value))
        } else {
            self = .folder(URL(fileURLWithPath: value, isDirectory: true))
        }
    }

    /// Where this node stages uploads: the shared folder itself, or (with RADOS) a folder of
    /// this machine's temporary directory.
    var stagingFolder: URL {
        switch self {
        case .folder(let url): return url
        case .rados: return FileManager.default.temporaryDirectory.appendingPathComponent("coffer-staging", isDirectory: true)
        }
    }

    public var description: String {
        switch self {
        case .folder(let url): return url.path
        case .rados(let target): return target.description
        }
    }
}
