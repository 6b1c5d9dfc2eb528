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
    ///
    /// `leases` (by destination ref) push a ref with force only if the remote has it where the
    /// caller expects (`--force-with-lease`): otherwise it is rejected with `stale info`. The
    /// remote's refs are listed and the push is sent over one connection, and the remote checks
    /// each ref's old id when it updates it, so a ref moved by someone else in between is refused
    /// by the remote rather than replaced.
    ///
    /// A local repository with a working tree (a clone of a clone), which libgit2 cannot push
    /// into, is pushed into by grove itself (`CheckoutPush`): the same checks, then a branch
    /// checked out there is refused or moved as its `receive.denyCurrentBranch` says.
    public func push(
        to remoteOrURL: String, refspecs: [String], credentials: Credentials = .none,
        leases: [String: PushLease] = [:]
    ) throws -> [PushResult] {
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
            // The push goes over this connection; should the transport ask again, offer first
            // what got it through.
            defer { git_remote_disconnect(remote) }
            session?.accept()
            var results: [String: PushResult] = [:]
            var toPush: [(spec: String, sent: String, destination: String)] = []
            for spec in refspecs {
                var parsed = ParsedRefspec(spec)
                let remoteTip = remoteHeads[parsed.destination]
                if let lease = leases[parsed.destination] {
                    if let stale = try leaseProblem(lease, parsed, remoteTip: remoteTip) {
                        results[spec] = PushResult(refspec: spec, destination: parsed.destination, outcome: stale)
                        continue
                    }
                    parsed.force = remoteTip != nil
                }
                if let verdict = try precheck(parsed, remoteTip: remoteTip) {
                    results[spec] = PushResult(refspec: spec, destination: parsed.destination, outcome: verdict)
                } else {
                    toPush.append((spec, parsed.text, parsed.destination))
                }
            }
            if !toPush.isEmpty, let target = CheckoutPush.target(remoteURL) {
                // libgit2 cannot push into a repository with a working tree: grove does.
                for pushed in try target.push(from: self, toPush, listed: remoteHeads) {
                    results[pushed.spec] = PushResult(
                        refspec: pushed.spec, destination: pushed.destination, outcome: pushed.outcome)
                    if pushed.outcome == .pushed {
                        let source = ParsedRefspec(pushed.spec).source
                        try updateTrackingReference(
                            of: remote, for: pushed.destination,
                            to: try source.flatMap { try reference(named: $0)?.target })
                    }
                }
            } else if !toPush.isEmpty {
                var options = git_push_options()
                try GitError.check(
                    git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
                options.callbacks = callbacks
                _ = try context.transport(remoteURL) {
                    try withStrArray(toPush.map(\.sent)) { specs in
                        try GitError.check(git_remote_push(remote, specs, &options), "git_remote_push")
                    }
                }
                for (spec, _, destination) in toPush {
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

    /// After a push grove made itself, moves the remote-tracking ref that follows `destination`
    /// (`refs/remotes/origin/main` for `refs/heads/main`) as `git push` does: to `tip`, or away
    /// when the ref was deleted (nil). A URL remote has none.
    private func updateTrackingReference(of remote: OpaquePointer, for destination: String, to tip: ObjectID?)
        throws
    {
        for index in 0..<git_remote_refspec_count(remote) {
            guard let spec = git_remote_get_refspec(remote, index), git_refspec_direction(spec) == GIT_DIRECTION_FETCH,
                git_refspec_src_matches(spec, destination) == 1
            else { continue }
            var buffer = git_buf()
            defer { git_buf_dispose(&buffer) }
            try GitError.check(git_refspec_transform(&buffer, spec, destination), "git_refspec_transform")
            guard let name = buffer.ptr.map({ String(cString: $0) }) else { continue }
            if let tip {
                var oid = tip.oid
                var out: OpaquePointer?
                try GitError.check(
                    git_reference_create(&out, pointer, name, &oid, 1, "update by push"), "git_reference_create")
                git_reference_free(out)
            } else if let existing = try reference(named: name)?.target {
                try? deleteReference(named: name, expecting: existing)
            }
        }
    }

    /// The remote's refs and where they point (`git ls-remote`).
    private func listRemoteHeads(_ remote: OpaquePointer, callbacks: inout git_remote_callbacks) throws
        -> [String: ObjectID]
    {
        try GitError.check(git_remote_connect(remote, GIT_DIRECTION_PUSH, &callbacks, nil, nil), "git_remote_connect")
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

    /// Why a leased ref must not be pushed (the remote's ref is not where the lease expects it);
    /// nil when it may be, with force. A remote already at the local tip is left to `precheck`.
    private func leaseProblem(_ lease: PushLease, _ spec: ParsedRefspec, remoteTip: ObjectID?) throws
        -> PushResult.Outcome?
    {
        if let source = spec.source, let local = (try? reference(named: source))?.target, local == remoteTip {
            return nil
        }
        switch (lease, remoteTip) {
        case (.absent, nil): return nil
        case (.at(let expected), let actual?) where actual == expected: return nil
        case (.absent, let actual?):
            return .rejected(reason: "stale info: the remote has \(spec.destination) at \(actual.short), expected none")
        case (.at(let expected), nil):
            return .rejected(reason: "stale info: the remote has no \(spec.destination), expected \(expected.short)")
        case (.at(let expected), let actual?):
            return .rejected(
                reason: "stale info: the remote has \(spec.destination) at \(actual.short), expected \(expected.short)")
        }
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

/// Where a `--force-with-lease` push expects the remote's ref: absent, or at a commit.
public enum PushLease: Sendable, Equatable {
    case absent
    case at(ObjectID)
}

/// `[+]src:dst`, with `dst` defaulting to `src`; an empty `src` deletes `dst`.
struct ParsedRefspec {
    var force: Bool
    let source: String?
    let destination: String

    /// The refspec as libgit2 takes it.
    var text: String { (force ? "+" : "") + (source ?? "") + ":" + destination }

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
