import Clibgit2

/// What happened to one ref of a push.
public struct PushResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case pushed
        case upToDate
        /// Refused, locally (non-fast-forward, fetch first) or by the remote (its reason).
        case rejected(reason: String)
    }

    /// The refspec as given, e.g. `refs/heads/fix:refs/heads/fix`.
    public let refspec: String
    /// The remote ref it updates.
    public let destination: String
    public let outcome: Outcome
}

extension Repository {
    /// Pushes `refspecs` (`src:dst` with full ref names, `+` to force, `:dst` to delete) to a
    /// configured remote or a URL/path, and reports each ref. Like `git push`, a ref that would
    /// not fast-forward is rejected on its own while the others go through; rejections by the
    /// remote (hooks, races) are reported per ref too. Throws only when the push as a whole
    /// fails: `RemoteError` when the remote cannot be found, reached or authenticated against.
    /// Credentials in the URL, and `credentials`, go through the callback as for a clone.
    public func push(to remoteOrURL: String, refspecs: [String], credentials: Credentials = .none) throws
        -> [PushResult]
    {
        let (remote, remoteURL) = try openRemote(remoteOrURL, forPush: true)
        defer { git_remote_free(remote) }
        let session = remoteURL.isLocal ? nil : CredentialSession(credentials.filling(from: remoteURL))
        let context = RemoteCallbackContext(progress: nil, credentials: session)
        var callbacks = git_remote_callbacks()
        try GitError.check(
            git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)), "git_remote_init_callbacks")
        context.install(into: &callbacks)

        return try withExtendedLifetime(context) {
            let remoteHeads = try context.transport(remoteURL) { try listRemoteHeads(remote, callbacks: &callbacks) }
            // The push connects again: offer first what got this connection through.
            session?.accept()
            var results: [String: PushResult] = [:]
            var toPush: [(spec: String, destination: String)] = []
            for spec in refspecs {
                let parsed = ParsedRefspec(spec)
                if let verdict = try precheck(parsed, remoteTip: remoteHeads[parsed.destination]) {
                    results[spec] = PushResult(refspec: spec, destination: parsed.destination, outcome: verdict)
                } else {
                    toPush.append((spec, parsed.destination))
                }
            }
            if !toPush.isEmpty {
                var options = git_push_options()
                try GitError.check(
                    git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
                options.callbacks = callbacks
                try context.transport(remoteURL) {
                    try withStrArray(toPush.map(\.spec)) { specs in
                        try GitError.check(git_remote_push(remote, specs, &options), "git_remote_push")
                    }
                }
                for (spec, destination) in toPush {
                    let outcome: PushResult.Outcome
                    if let status = context.pushStatuses[destination], let reason = status {
                        outcome = .rejected(reason: reason)
                    } else {
                        outcome = .pushed
                    }
                    results[spec] = PushResult(refspec: spec, destination: destination, outcome: outcome)
                }
            }
            return refspecs.compactMap { results[$0] }
        }
    }

    /// The remote's refs and where they point (`git ls-remote`).
    private func listRemoteHeads(_ remote: OpaquePointer, callbacks: inout git_remote_callbacks) throws
        -> [String: ObjectID]
    {
        try GitError.check(git_remote_connect(remote, GIT_DIRECTION_PUSH, &callbacks, nil, nil), "git_remote_connect")
        defer { git_remote_disconnect(remote) }
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try GitError.check(git_remote_ls(&heads, &count, remote), "git_remote_ls")
        var result: [String: ObjectID] = [:]
        for index in 0..<count {
            guard let head = heads?[index] else { continue }
            result[String(cString: head.pointee.name)] = ObjectID(head.pointee.oid)
        }
        return result
    }

    /// Decides a ref's fate before sending anything, as git does: nil means "push it".
    private func precheck(_ spec: ParsedRefspec, remoteTip: ObjectID?) throws -> PushResult.Outcome? {
        guard spec.destination.hasPrefix("refs/") else {
            return .rejected(reason: "destination \(spec.destination) is not a full ref name (refs/...)")
        }
        guard let source = spec.source else {
            // Deleting a ref the remote does not have: the wanted state already holds. git agrees
            // for a full ref name (`git push origin :refs/heads/x` succeeds, "deleting a
            // non-existent ref" is only a warning), and cleanup must not fail on it.
            return remoteTip == nil ? .upToDate : nil
        }
        // Both ends must be full ref names: libgit2 1.5.1's push resolves the source with
        // git_reference_name_to_id only (a commit id or `main` fails the whole push with "no such
        // reference") and refuses a short destination ("not a valid reference"). Refuse such a
        // ref on its own, like any other bad ref, so the rest of the push still goes through.
        guard let local = (try? reference(named: source))?.target else {
            return .rejected(reason: "src refspec \(source) does not match any")
        }
        guard let remoteTip else { return nil }
        if remoteTip == local { return .upToDate }
        if spec.force { return nil }
        guard hasObject(remoteTip) else { return .rejected(reason: "fetch first") }
        return try isAncestor(remoteTip, of: local) ? nil : .rejected(reason: "non-fast-forward")
    }

    /// Whether the object database holds `id`.
    public func hasObject(_ id: ObjectID) -> Bool {
        var database: OpaquePointer?
        guard git_repository_odb(&database, pointer) == 0, let database else { return false }
        defer { git_odb_free(database) }
        var oid = id.oid
        return git_odb_exists(database, &oid) == 1
    }
}

/// `[+]src:dst`, with `dst` defaulting to `src`; an empty `src` deletes `dst`.
struct ParsedRefspec {
    let force: Bool
    let source: String?
    let destination: String

    init(_ text: String) {
        force = text.hasPrefix("+")
        let body = force ? String(text.dropFirst()) : text
        if let colon = body.firstIndex(of: ":") {
            let source = String(body[..<colon])
            self.source = source.isEmpty ? nil : source
            destination = String(body[body.index(after: colon)...])
        } else {
            source = body
            destination = body
        }
    }
}
