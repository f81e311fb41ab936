import CofferCore
import CofferEngine
import CofferIAM
import CofferStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's bucket and object pages. Every action is the S3 request it stands for,
/// authorized by `S3Authorizer` and carried out by the engine, MFA Delete gate included: a wrong
/// or replayed code is refused in the API's words.
extension ConsoleResponder {
    /// Rows a page: AWS's console shows 50 to 300; 100 keeps the largest page well inside 50 ms of
    /// server time on this machine (scripts/bench-console).
    static let pageSize = 100

    func buckets(_ call: Call, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try await authorize(.listBuckets, call)
        var rows: [BucketsView.Row] = []
        for bucket in try await engine.listBuckets() {
            rows.append(BucketsView.Row(name: bucket.name, versioning: bucket.versioning.status.wireValue ?? "Not enabled",
                                        mfaDelete: bucket.versioning.mfaDelete.wireValue ?? "Not configured", region: bucket.region,
                                        created: Self.date(bucket.created),
                                        public: (try? await engine.bucketPolicyIsPublic(bucket.name)) ?? false))
        }
        let devices = try await totpDevicesOfRoot(call).map(DeviceOption.init)
        let view = await BucketsView(buckets: rows, mayCreate: mayS3(.createBucket("*"), call), isRoot: call.caller.isRoot,
                               rootDevices: devices, has_rootDevices: !devices.isEmpty, keysOnly: try keysOnly(call),
                               newName: call.form["name"] ?? "", newVersioning: call.form["versioning"] == "Enabled",
                               newMFADelete: call.form["mfaDelete"] == "Enabled", error: error)
        return page(view, call: call, status: status)
    }

    /// CreateBucket, then — when asked — PutBucketVersioning (with MFA Delete: the root, with a
    /// code). Whole or not at all: a refused versioning step removes the new, empty bucket again.
    func createBucket(_ call: Call) async throws -> Response {
        let name = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let versioned = call.form["versioning"] == "Enabled"
        let mfaDelete = versioned && call.form["mfaDelete"] == "Enabled"
        do {
            try BucketName.validate(name)
            try await authorize(.createBucket(name), call)
            if versioned { try await authorize(.putBucketVersioning(name), call) }
            if mfaDelete, !call.caller.isRoot {
                throw Problem(status: .forbidden, message: "Only the root user can turn MFA Delete on, with a code from its MFA device.")
            }
            let mfa = mfaDelete ? try await presentedMFA(call) : nil
            if mfaDelete, mfa == nil {
                throw Problem(status: .badRequest, message: "MFA Delete needs a code from the root user's MFA device: type the code it shows now.")
            }
            _ = try await engine.createBucket(name, region: s3.settings.region)
            if versioned {
                do {
                    try await engine.putVersioning(name, VersioningConfiguration.Request(status: .enabled, mfaDelete: mfaDelete ? true : nil),
                                                   principal: call.caller, mfa: mfa, context: call.connection)
                } catch {
                    try? await engine.deleteBucket(name)
                    throw error
                }
            }
        } catch {
            let words = (error as? S3Error)?.code == .accessDenied && mfaDelete
                ? "the MFA code was not accepted: it is wrong, or it was used already (each code works once). (\(Self.words(error)))"
                : Self.words(error)
            return try await buckets(call, error: "The bucket was not created: " + words, status: Self.status(of: error))
        }
        return Self.redirect("/buckets/\(name)?done=bucket-created")
    }

    /// Whether this caller may make `request` (the authorization point's answer, nothing recorded):
    /// pages offer only the forms their reader may use.
    func mayS3(_ request: S3Request, _ call: Call) async -> Bool {
        (try? await s3.authorizer.permits(request, principal: call.caller, connection: call.connection)) == true
    }

    /// The serials of the root's TOTP devices, for a signed-in root (empty for anyone else).
    func totpDevicesOfRoot(_ call: Call) async throws -> [String] {
        guard call.caller.isRoot else { return [] }
        return try await totpDevices(Registry.rootUser).map(\.serial)
    }

    /// The root's only MFA devices are security keys: the pages say that MFA Delete needs a TOTP device.
    func keysOnly(_ call: Call) async throws -> Bool {
        guard call.caller.isRoot else { return false }
        let devices = try await enabledDevices(Registry.rootUser)
        return !devices.isEmpty && devices.allSatisfy { $0.kind == .securityKey }
    }

    /// The second factor from a form's device and code (nil without a code).
    func presentedMFA(_ call: Call) async throws -> PresentedMFA? {
        guard let code = call.form["code"]?.trimmingCharacters(in: .whitespaces), !code.isEmpty else { return nil }
        try requireSecureTransport(call)
        var serial = call.form["serial"] ?? ""
        if serial.isEmpty { serial = try await totpDevices(call.caller.userName).first?.serial ?? "" }
        return PresentedMFA(serial: serial, code: code)
    }

    /// The bucket's page. After a refused save, `typed` holds what the person submitted (the
    /// policy text, the versioning choices): the form shows it again beside the error, not the
    /// stored values.
    func bucket(_ call: Call, _ name: String, error: String? = nil, status: HTTPResponse.Status = .ok,
                typed: [String: String]? = nil, warnPublic: Bool = false) async throws -> Response {
        try await authorize(.getBucketVersioning(name), call)
        let bucket = try await engine.bucket(name)
        var storedPolicy = ""
        if await mayS3(.getBucketPolicy(name), call) {
            storedPolicy = (try? await engine.bucketPolicy(name)) ?? ""
        }
        let devices = try await totpDevicesOfRoot(call).map(DeviceOption.init)
        let chosenStatus = typed?["status"].map { $0 == "Suspended" ? VersioningStatus.suspended : .enabled }
            ?? bucket.versioning.status
        let chosenMFA = typed?["mfaDelete"].map { $0 == "Enabled" } ?? (bucket.versioning.mfaDelete == .enabled)
        let view = BucketView(
            title: "Bucket \(name)", bucket: name, policy: typed?["policy"] ?? storedPolicy, hasPolicy: !storedPolicy.isEmpty,
            versioning: bucket.versioning.status.wireValue ?? "Not enabled",
            mfaDelete: bucket.versioning.mfaDelete.wireValue ?? "Not configured",
            enabled: chosenStatus == .enabled, suspended: chosenStatus == .suspended, unversioned: chosenStatus == .unversioned,
            mfaOn: chosenMFA, rootDevices: devices, has_rootDevices: !devices.isEmpty,
            mayVersioning: await mayS3(.putBucketVersioning(name), call), mayPolicy: await mayS3(.putBucketPolicy(name), call),
            mayDeletePolicy: await mayS3(.deleteBucketPolicy(name), call),
            public: Engine.isPublic(policy: storedPolicy), warnPublic: warnPublic,
            mayEmpty: await mayS3(.deleteObject(ObjectRef(bucket: name, key: ObjectKey("*"), versionID: "*")), call),
            mayDeleteBucket: await mayS3(.deleteBucket(name), call), mfaOnNow: bucket.versioning.mfaDelete == .enabled,
            keysOnly: try await keysOnly(call), error: error)
        return page(view, call: call, status: status)
    }

    func putVersioning(_ call: Call, _ name: String) async throws -> Response {
        do {
            try await authorize(.putBucketVersioning(name), call)
            let current = try await engine.bucket(name).versioning
            let status: VersioningConfiguration.Request.Status = call.form["status"] == "Suspended" ? .suspended : .enabled
            let wantsMFA = call.form["mfaDelete"] == "Enabled"
            // Only a change of MFA Delete names it (an unchanged "Disabled" on a bucket never configured stays unset).
            let mfaDelete: Bool? = wantsMFA == (current.mfaDelete == .enabled) ? (current.mfaDelete == .notConfigured ? nil : wantsMFA) : wantsMFA
            try await engine.putVersioning(name, VersioningConfiguration.Request(status: status, mfaDelete: mfaDelete),
                                           principal: call.caller, mfa: try presentedMFA(call), context: call.connection)
        } catch {
            return try await bucket(call, name, error: "The versioning configuration was not saved: " + Self.words(error),
                                    status: Self.status(of: error), typed: call.form.filter { ["status", "mfaDelete"].contains($0.key) })
        }
        return Self.redirect("/buckets/\(name)?done=versioning-saved")
    }

    func putPolicy(_ call: Call, _ name: String) async throws -> Response {
        let text = call.form["policy"] ?? ""
        // A policy that would make the bucket public is saved only after a warning (Coffer has no
        // Block Public Access to stop it).
        if Engine.isPublic(policy: text), call.form["public"] != "yes",
           !Engine.isPublic(policy: (try? await engine.bucketPolicy(name)) ?? "") {
            return try await bucket(call, name, status: .conflict, typed: ["policy": text], warnPublic: true)
        }
        do {
            try await authorize(.putBucketPolicy(name), call)
            try await engine.putBucketPolicy(name, document: Array((call.form["policy"] ?? "").utf8))
        } catch {
            return try await bucket(call, name, error: "The policy was not saved: " + Self.words(error), status: Self.status(of: error),
                                    typed: ["policy": call.form["policy"] ?? ""])
        }
        return Self.redirect("/buckets/\(name)?done=policy-saved")
    }

    func deletePolicy(_ call: Call, _ name: String) async throws -> Response {
        do {
            try await authorize(.deleteBucketPolicy(name), call)
            try await engine.deleteBucketPolicy(name)
        } catch {
            return try await bucket(call, name, error: Self.words(error), status: Self.status(of: error))
        }
        return Self.redirect("/buckets/\(name)?done=policy-deleted")
    }

    // MARK: Objects

    /// A prefix's page: folders (common prefixes) and objects, or — with `versions=1` — every
    /// version and delete marker; `pageSize` rows a page.
    func objects(_ call: Call, _ name: String, error: String? = nil, status: HTTPResponse.Status = .ok,
                 view: [String: String]? = nil) async throws -> Response {
        let query = view ?? call.query
        let prefix = query["prefix"] ?? ""
        let versions = query["versions"] == "1"
        guard prefix.utf8.count <= S3Request.maxKeyLength else {
            throw Problem(status: .badRequest, message: "The prefix is longer than an object key may be.")
        }
        // "Find objects by prefix": within the folder shown, as in S3's console.
        let find = query["find"] ?? ""
        guard (prefix + find).utf8.count <= S3Request.maxKeyLength else {
            throw Problem(status: .badRequest, message: "The prefix is longer than an object key may be.")
        }
        let listed = prefix + find
        let after = query["after"], afterVersion = query["afterVersion"]
        let trail = Self.trail(query["trail"])
        let pageNumber = max(1, min(Int(query["page"] ?? "") ?? 1, 1_000_000))
        let list = S3Responder.ListParameters(prefix: listed, delimiter: "/", maxKeys: Self.pageSize)
        if versions {
            try await authorize(.listObjectVersions(name, VersionListing(list: list, keyMarker: after, versionIDMarker: afterVersion)), call)
        } else {
            try await authorize(.listObjectsV2(name, ObjectListing(list: list, marker: after, continuationToken: nil,
                                                                   startAfter: after, fetchOwner: false)), call)
        }
        let bucket = try await engine.bucket(name)
        let listing = ListingQuery(prefix: listed, delimiter: "/", maxKeys: Self.pageSize, afterKey: after,
                                   afterVersionID: versions ? afterVersion : nil)
        let result = versions ? try await engine.listObjectVersions(bucket: name, listing)
            : try await engine.listObjects(bucket: name, listing)
        let mfaDeleteOn = versions && bucket.versioning.mfaDelete == .enabled
        // The code box only where a code can help: MFA Delete accepts the root's codes alone (AWS).
        let askCode = mfaDeleteOn && call.caller.isRoot
        // After a refused delete, what was selected stays selected (POSTed back to this page).
        let kept = error == nil ? [] : Set(call.selected)
        let rows = result.entries.map { entry in
            let value = versions ? entry.versionID + " " + entry.key : entry.key
            var row = ObjectsView.Row(name: String(entry.key.dropFirst(prefix.count)), keyQuery: Self.q(entry.key),
                                      modified: Self.date(entry.lastModified), value: value, checked: kept.contains(value))
            if versions {
                row.versionID = entry.versionID
                row.versionQuery = Self.q(entry.versionID)
                row.type = entry.isDeleteMarker ? "Delete marker" : "Version"
                row.latest = entry.isLatest
            }
            if entry.isDeleteMarker { row.marker = true } else { row.size = Self.size(entry.size) }
            return row
        }
        let folders = result.commonPrefixes.map { folder in
            ObjectsView.Folder(name: String(folder.dropFirst(prefix.count)), query: Self.q(folder), bucket: name)
        }
        var crumbs: [ObjectsView.Crumb] = []
        var walked = ""
        for part in prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast() {
            walked += part + "/"
            crumbs.append(ObjectsView.Crumb(name: String(part), prefix: Self.q(walked)))
        }
        // An empty listing whose keys are only hidden by delete markers says so, not "nothing here"
        // (only to a caller who may list versions: to others it would tell that hidden ones exist).
        var hiddenByMarkers = false
        if !versions, rows.isEmpty, folders.isEmpty,
           await mayS3(.listObjectVersions(name, VersionListing(list: list, keyMarker: nil, versionIDMarker: nil)), call) {
            let any = ListingQuery(prefix: listed, delimiter: "", maxKeys: 1, afterKey: nil, afterVersionID: nil)
            hiddenByMarkers = try await !engine.listObjectVersions(bucket: name, any).entries.isEmpty
        }
        let devices = try await totpDevicesOfRoot(call).map(DeviceOption.init)
        var view = ObjectsView(
            hiddenByMarkers: hiddenByMarkers, title: "\(name) objects", bucket: name, prefix: prefix, prefixQuery: Self.q(prefix),
            versions: versions, rows: rows, folders: folders, crumbs: crumbs, rootDevices: devices, has_rootDevices: !devices.isEmpty,
            versioning: bucket.versioning.status.wireValue ?? "Not enabled",
            mfaDelete: bucket.versioning.mfaDelete.wireValue ?? "Not configured", askCode: askCode,
            hasRows: !rows.isEmpty, keysOnly: try await keysOnly(call),
            confirmWord: versions ? Self.confirmPermanent : Self.confirmMarker, rootOnly: mfaDeleteOn && !call.caller.isRoot,
            mayUpload: await mayS3(.putObject(ObjectRef(bucket: name, key: ObjectKey(prefix + "*"), versionID: nil)), call),
            mayDelete: await mayS3(.deleteObject(ObjectRef(bucket: name, key: ObjectKey(prefix + "*"), versionID: versions ? "*" : nil)), call),
            find: find, error: error)
        // Paging: page numbers, with the markers of the pages before carried in the links (the
        // last `trailLimit` of them; further back, "First page").
        let base = "/buckets/\(name)/objects?prefix=\(Self.q(prefix))" + (find.isEmpty ? "" : "&find=" + Self.q(find))
            + (versions ? "&versions=1" : "")
        func link(page: Int, at marker: (key: String, version: String?)?, trail: [(key: String, version: String?)]) -> String {
            var link = base
            if page > 1 { link += "&page=\(page)" }
            if let marker {
                link += "&after=" + Self.q(marker.key)
                if versions, let version = marker.version { link += "&afterVersion=" + Self.q(version) }
            }
            if !trail.isEmpty { link += "&trail=" + Self.q(Self.trailText(trail.suffix(Self.trailLimit))) }
            return link
        }
        let shown = rows.count + folders.count
        let first = (pageNumber - 1) * Self.pageSize + 1
        view.range = shown == 0 ? nil : "Showing \(Self.number(first))–\(Self.number(first + shown - 1))"
            + (pageNumber > 1 || result.isTruncated ? " (page \(pageNumber))" : "")
        let current = after.map { (key: $0, version: afterVersion) }
        if result.isTruncated, let next = result.nextKey {
            view.next = link(page: pageNumber + 1, at: (next, result.nextVersionID),
                                  trail: current.map { trail + [$0] } ?? trail + [("", nil)])
        }
        if pageNumber > 1 {
            if let previous = trail.last {
                view.previous = link(page: pageNumber - 1, at: previous.key.isEmpty ? nil : previous,
                                          trail: Array(trail.dropLast()))
            }
            view.firstPage = link(page: 1, at: nil, trail: [])
        }
        return page(view, call: call, status: status)
    }

    /// Pages back a paging link remembers.
    static let trailLimit = 20

    /// The markers of the pages before, as one query value: `key!version` pairs (each part
    /// percent-encoded) joined by `*`.
    static func trailText(_ trail: some Sequence<(key: String, version: String?)>) -> String {
        trail.map { q($0.key) + "!" + q($0.version ?? "") }.joined(separator: "*")
    }

    static func trail(_ text: String?) -> [(key: String, version: String?)] {
        guard let text, !text.isEmpty, text.utf8.count <= 64 * 1024 else { return [] }
        return text.split(separator: "*", omittingEmptySubsequences: false).suffix(trailLimit).compactMap { entry in
            let parts = entry.split(separator: "!", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let key = Percent.decode(parts[0]), let version = Percent.decode(parts[1]) else { return nil }
            return (key, version.isEmpty ? nil : version)
        }
    }

    /// A permanent delete refused by MFA Delete, in words for people: no code, a code not accepted
    /// (wrong, or used already: each works once), or a caller who is not the bucket owner. AWS's
    /// words follow in brackets. Nil for anything else.
    func mfaWords(_ error: any Error, _ call: Call, _ name: String, permanent: Bool) async throws -> String? {
        guard permanent, let error = error as? S3Error, error.code == .accessDenied,
              try await engine.bucket(name).versioning.mfaDelete == .enabled
        else { return nil }
        let aws = " (\(error.code.rawValue): \(error.message))"
        guard call.caller.isRoot else {
            return "on a bucket with MFA Delete, only the root user (the bucket owner) can delete versions for good." + aws
        }
        guard try await presentedMFA(call) != nil else {
            return "MFA Delete is on for this bucket: type the code your MFA device shows now." + aws
        }
        return "the MFA code was not accepted. It is wrong, or it was used already (each code works once): "
            + "wait for the next code on your device and try again." + aws
    }

    /// What a person types to confirm a delete (AWS's console asks for the same words).
    static let confirmPermanent = "permanently delete"
    static let confirmMarker = "delete"

    /// The objects page a form came from (its prefix; versions shown for version actions).
    func back(_ call: Call, _ name: String, versions: Bool) -> String {
        "/buckets/\(name)/objects?prefix=\(Self.q(call.form["back"] ?? ""))\(versions ? "&versions=1" : "")"
    }

    func objectKey(_ text: String?) throws -> ObjectKey {
        guard let text, !text.isEmpty else { throw Problem(status: .badRequest, message: "No object key was given.") }
        guard text.utf8.count <= S3Request.maxKeyLength else {
            throw S3Error(.keyTooLong)
        }
        return ObjectKey(text)
    }

    func download(_ call: Call, _ name: String) async throws -> Response {
        let key = try objectKey(call.query["key"])
        let object = ObjectRef(bucket: name, key: key, versionID: call.query["versionId"])
        // Served as an attachment, sandboxed: a stored HTML file never runs as a console page.
        let filename = String(key.text.split(separator: "/").last ?? "download")
        let disposition = "attachment; filename*=UTF-8''" + Percent.encode(filename)
        let options = ReadOptions(partNumber: nil, overrides: [(.contentDisposition, disposition)])
        try await authorize(.getObject(object, options), call)
        let read = try await s3.readObject(object, options, requestHeaders: HTTPFields(), isHead: false)
        var response = try await s3.response(for: read, key: key.text, isHead: false)
        response.headers[.contentSecurityPolicy] = "sandbox; default-src 'none'"
        return response
    }

    /// The objects page's "Delete selected" (markers) and "Permanently delete selected" (named
    /// versions): one DeleteObjects, each entry authorized as the DeleteObject it stands for; on an
    /// MFA Delete bucket the gate wants the code once for the whole request, and nothing is deleted
    /// when it refuses — exactly as the API's `POST ?delete` with `x-amz-mfa`.
    func deleteSelected(_ call: Call, _ name: String) async throws -> Response {
        var entries: [DeleteEntry] = []
        let permanent = call.form["versions"] == "1"
        let view = ["prefix": call.form["back"] ?? "", "versions": permanent ? "1" : ""]
        do {
            guard !call.selected.isEmpty else { throw Problem(status: .badRequest, message: "Select at least one object.") }
            // Intent, typed as AWS's console asks for it: nothing goes on a stray click.
            let word = permanent ? Self.confirmPermanent : Self.confirmMarker
            guard Self.confirmed(call, word: word) else {
                throw Problem(status: .badRequest, message: "To confirm, type \u{201C}\(word)\u{201D} in the box.")
            }
            for value in call.selected {
                if permanent {
                    // "VERSIONID KEY": version ids hold no space; keys may.
                    let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw Problem(status: .badRequest, message: "A selected version is malformed.") }
                    entries.append(DeleteEntry(key: try objectKey(String(parts[1])).text, versionID: String(parts[0])))
                } else {
                    entries.append(DeleteEntry(key: try objectKey(value).text, versionID: nil))
                }
            }
            for entry in entries {
                try await authorize(.deleteObject(ObjectRef(bucket: name, key: ObjectKey(entry.key), versionID: entry.versionID)), call)
            }
            let results = try await engine.deleteObjects(bucket: name, entries: entries, principal: call.caller,
                                                         mfa: try presentedMFA(call), context: call.connection)
            let failures = results.compactMap { result -> String? in
                guard case .failed(let entry, let code, let message) = result else { return nil }
                return "\(entry.key)\(entry.versionID.map { " (version \($0))" } ?? ""): \(message) (\(code))"
            }
            guard failures.isEmpty else {
                throw Problem(status: .conflict, message: failures.prefix(5).joined(separator: "; "))
            }
        } catch {
            return try await objects(call, name, error: (permanent ? "Nothing was permanently deleted: " : "Nothing was deleted: ")
                                     + (try await mfaWords(error, call, name, permanent: permanent) ?? Self.words(error)),
                                     status: Self.status(of: error), view: view)
        }
        return Self.redirect(back(call, name, versions: permanent) + (permanent ? "&done=version-deleted" : "&done=object-deleted"))
    }

    // MARK: Uploads (the page's script; answers are plain text)

    func plain(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func script(_ body: () async throws -> String) async -> Response {
        do {
            return plain(try await body())
        } catch {
            return plain(Self.words(error), status: Self.status(of: error))
        }
    }

    /// The body of an upload request, streamed to a staged blob (never held in memory).
    func stage(_ call: Call) async throws -> (BlobStager, ObjectUpload) {
        if let length = call.request.headers[.contentLength].flatMap(Int64.init), length > s3.settings.maxObjectSize {
            throw S3Error(.entityTooLarge, details: [("MaxSizeAllowed", "\(s3.settings.maxObjectSize)")])
        }
        let stager = s3.stager()
        let hashed = try await Body.stream(call.request, into: stager, payload: .unsigned,
                                           checksums: try ChecksumRequest(HTTPFields()), limit: s3.settings.maxObjectSize)
        let headers = try await Body.discardingOnFailure(stager) { try S3Responder.storedHeaders(Self.contentType(call.request.headers)) }
        return (stager, ObjectUpload(staged: stager.finish(), size: stager.size, etag: hashed.md5Hex, headers: headers))
    }

    /// Only the file's Content-Type is kept from a console upload.
    static func contentType(_ headers: HTTPFields) -> HTTPFields {
        var kept = HTTPFields()
        if let type = headers[.contentType], !type.isEmpty, type.utf8.count <= 256 { kept[.contentType] = type }
        return kept
    }

    func upload(_ call: Call, _ name: String) async throws -> Response {
        await script {
            let object = ObjectRef(bucket: name, key: try objectKey(call.query["key"]), versionID: nil)
            try await authorize(.putObject(object), call)
            _ = try await engine.bucket(name)
            let (stager, upload) = try await stage(call)
            let outcome = try await Body.discardingOnFailure(stager) {
                try await engine.putObject(bucket: name, key: object.key.text, upload, condition: nil)
            }
            return outcome.versionID ?? "null"
        }
    }

    /// A folder, as S3's console makes one: an empty object whose key ends in `/`, under the
    /// prefix the page shows. The name holds no `/` (one level at a time, as there).
    func createFolder(_ call: Call, _ name: String) async throws -> Response {
        let prefix = call.form["back"] ?? ""
        let folder = (call.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            guard !folder.isEmpty, !folder.contains("/"), folder != ".", folder != ".." else {
                throw Problem(status: .badRequest, message: "A folder name is not empty and holds no \u{201C}/\u{201D}.")
            }
            let object = ObjectRef(bucket: name, key: try objectKey(prefix + folder + "/"), versionID: nil)
            try await authorize(.putObject(object), call)
            let empty = ObjectUpload(staged: s3.stager().finish(),
                                     size: 0, etag: "d41d8cd98f00b204e9800998ecf8427e", headers: try S3Responder.storedHeaders(HTTPFields()))
            _ = try await engine.putObject(bucket: name, key: object.key.text, empty, condition: nil)
        } catch {
            return try await objects(call, name, error: "The folder was not created: " + Self.words(error), status: Self.status(of: error),
                                     view: ["prefix": prefix])
        }
        return Self.redirect("/buckets/\(name)/objects?prefix=\(Self.q(prefix + folder + "/"))&done=folder-created")
    }

    func uploadRef(_ call: Call, _ name: String) throws -> UploadRef {
        UploadRef(bucket: name, key: try objectKey(call.query["key"]), uploadID: call.query["uploadId"] ?? "")
    }

    func createUpload(_ call: Call, _ name: String) async throws -> Response {
        await script {
            let object = ObjectRef(bucket: name, key: try objectKey(call.query["key"]), versionID: nil)
            try await authorize(.createMultipartUpload(object), call)
            return try await engine.createUpload(bucket: name, key: object.key.text,
                                                 headers: try S3Responder.storedHeaders(Self.contentType(call.request.headers)),
                                                 checksumAlgorithm: nil)
        }
    }

    func uploadPart(_ call: Call, _ name: String) async throws -> Response {
        await script {
            let upload = try uploadRef(call, name)
            guard let number = call.query["partNumber"].flatMap({ Int($0) }), (1...10_000).contains(number) else {
                throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                              name: "partNumber", value: String((call.query["partNumber"] ?? "").prefix(20)))
            }
            try await authorize(.uploadPart(upload, part: number), call)
            let (stager, part) = try await stage(call)
            try await Body.discardingOnFailure(stager) {
                try await engine.uploadPart(bucket: name, key: upload.key.text, uploadID: upload.uploadID, number: number, part)
            }
            return part.etag
        }
    }

    func completeUpload(_ call: Call, _ name: String) async throws -> Response {
        await script {
            let upload = try uploadRef(call, name)
            try await authorize(.completeMultipartUpload(upload), call)
            let (_, parts) = try await engine.parts(bucket: name, key: upload.key.text, uploadID: upload.uploadID, after: 0, limit: 10_000)
            let outcome = try await engine.completeUpload(bucket: name, key: upload.key.text, uploadID: upload.uploadID,
                                                          parts: parts.map { CompletedPart(number: $0.number, etag: $0.etag) },
                                                          composite: S3Responder.compositeChecksum)
            return outcome.versionID ?? "null"
        }
    }

    func abortUpload(_ call: Call, _ name: String) async throws -> Response {
        await script {
            let upload = try uploadRef(call, name)
            try await authorize(.abortMultipartUpload(upload), call)
            try await engine.abortUpload(bucket: name, key: upload.key.text, uploadID: upload.uploadID)
            return "aborted"
        }
    }
}
