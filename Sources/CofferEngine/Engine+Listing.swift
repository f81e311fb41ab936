import CofferCore
import CofferStore

/// A page of a listing: entries in key order, common prefixes, and where to resume.
public struct ListingPage: Sendable, Equatable {
    public var entries: [ObjectVersion] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    /// The last key (or common prefix) returned, when truncated.
    public var nextKey: String?
    /// The last version id returned, when truncated on a version (ListObjectVersions).
    public var nextVersionID: String?
}

/// What to list.
public struct ListingQuery: Sendable, Equatable {
    public var prefix: String
    public var delimiter: String
    public var maxKeys: Int
    /// Resume strictly after this key (marker, start-after, continuation token, key-marker).
    public var afterKey: String?
    /// With `afterKey`: resume after this version of that key (version-id-marker).
    public var afterVersionID: String?

    public init(prefix: String = "", delimiter: String = "", maxKeys: Int = 1000, afterKey: String? = nil,
                afterVersionID: String? = nil) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.maxKeys = maxKeys
        self.afterKey = afterKey
        self.afterVersionID = afterVersionID
    }
}

extension Engine {
    /// ListObjects / ListObjectsV2: current object versions only.
    public func listObjects(bucket name: String, _ query: ListingQuery) async throws -> ListingPage {
        try await store.asyncRead { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            return try Self.walk(query, start: Self.start(for: query, sequence: nil)) { start, limit in
                try transaction.currentObjects(bucketID: bucket.id, from: start, limit: limit)
            }
        }
    }

    /// ListObjectVersions: every version and delete marker, newest first within a key.
    public func listObjectVersions(bucket name: String, _ query: ListingQuery) async throws -> ListingPage {
        try await store.asyncRead { transaction in
            let bucket = try Self.requireBucket(transaction, name)
            var sequence: Int64?
            if let afterKey = query.afterKey, let versionID = query.afterVersionID, !versionID.isEmpty {
                guard VersionID.isWellFormed(versionID) else { throw S3Error.invalidVersionID }
                sequence = try transaction.version(bucketID: bucket.id, key: afterKey, versionID: versionID)?.sequence
                if sequence == nil, let micros = VersionID.micros(of: versionID) {
                    // The marker's version was deleted since the last page: resume by its time,
                    // so the key's older entries are neither skipped nor repeated.
                    sequence = try transaction.sequenceAfterVanished(bucketID: bucket.id, key: afterKey, versionID: versionID,
                                                                     createdMillis: Int64(micros / 1000)) ?? Int64.max
                }
            }
            return try Self.walk(query, start: Self.start(for: query, sequence: sequence)) { start, limit in
                try transaction.allVersions(bucketID: bucket.id, from: start, limit: limit)
            }
        }
    }

    /// Where a scan begins: the later of the prefix and the marker.
    static func start(for query: ListingQuery, sequence: Int64?) -> ScanStart {
        if let afterKey = query.afterKey, !afterKey.isEmpty, !afterKey.utf8.lexicographicallyPrecedes(query.prefix.utf8) {
            if let sequence { return .afterVersion(key: afterKey, sequence: sequence) }
            return .afterKey(afterKey)
        }
        return query.prefix.isEmpty ? .beginning : .atOrAfterBytes(Array(query.prefix.utf8))
    }

    /// Walks rows in key order, rolling keys that contain the delimiter (after the prefix) into
    /// common prefixes and seeking past each one, until `maxKeys` entries and prefixes are taken.
    /// Each fetch is an index seek, so a page costs work in proportion to the page.
    static func walk(_ query: ListingQuery, start initial: ScanStart,
                     fetch: (ScanStart, Int) throws -> [ObjectVersion]) throws -> ListingPage {
        var page = ListingPage()
        guard query.maxKeys > 0 else { return page }
        var start = initial
        var taken = 0
        let prefix = Array(query.prefix.utf8)
        let delimiter = Array(query.delimiter.utf8)
        let marker = query.afterKey.map { Array($0.utf8) }
        scanning: while true {
            let limit = min(1000, query.maxKeys - taken + 1)
            let rows = try fetch(start, limit)
            for row in rows {
                let key = Array(row.key.utf8)
                guard key.starts(with: prefix) else { break scanning }
                if !delimiter.isEmpty, let cut = firstRange(of: delimiter, in: key, from: prefix.count) {
                    let common = Array(key[..<cut])
                    start = .atOrAfterBytes(successor(of: common))
                    // A prefix at or before the marker was returned on an earlier page.
                    if let marker, !marker.lexicographicallyPrecedes(common) { continue scanning }
                    if taken == query.maxKeys {
                        page.isTruncated = true
                        break scanning
                    }
                    let text = String(decoding: common, as: UTF8.self)
                    page.commonPrefixes.append(text)
                    page.nextKey = text
                    page.nextVersionID = nil
                    taken += 1
                    continue scanning
                }
                if taken == query.maxKeys {
                    page.isTruncated = true
                    break scanning
                }
                page.entries.append(row)
                page.nextKey = row.key
                page.nextVersionID = row.versionID
                taken += 1
                start = .afterVersion(key: row.key, sequence: row.sequence)
            }
            if rows.count < limit { break }
        }
        if !page.isTruncated {
            page.nextKey = nil
            page.nextVersionID = nil
        }
        return page
    }

    /// The index of the first occurrence of `needle` in `haystack` at or after `from`, returned as
    /// the end of the match.
    static func firstRange(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        for start in from...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }

    /// The smallest byte string greater than every string that starts with `bytes`.
    static func successor(of bytes: [UInt8]) -> [UInt8] {
        var result = bytes
        while let last = result.last {
            if last < 0xFF {
                result[result.count - 1] = last + 1
                return result
            }
            result.removeLast()
        }
        return [0xFF]
    }
}
