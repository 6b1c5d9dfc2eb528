import Clibgit2
import Foundation
import GroveBasics

/// How far a clone or fetch has come.
public struct TransferProgress: Sendable, Equatable {
    public let receivedObjects: Int
    public let totalObjects: Int
    public let indexedDeltas: Int
    public let totalDeltas: Int
    public let receivedBytes: Int
}

/// Called from inside libgit2 while objects arrive; return false to cancel the transfer.
public typealias TransferProgressHandler = (TransferProgress) -> Bool

/// State shared with libgit2's C callbacks for one remote operation, passed as the payload.
final class RemoteCallbackContext {
    let progress: TransferProgressHandler?
    /// Where credentials come from; nil installs no credential callback (libgit2's defaults).
    let credentials: CredentialSession?
    /// Per-ref results the remote sent back during a push: ref name → rejection reason.
    var pushStatuses: [String: String?] = [:]

    init(progress: TransferProgressHandler?, credentials: CredentialSession? = nil) {
        self.progress = progress
        self.credentials = credentials
    }

    /// Fills `callbacks` to report to this context. The context must outlive the call that uses them.
    func install(into callbacks: inout git_remote_callbacks) {
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        if progress != nil {
            callbacks.transfer_progress = { stats, payload in
                guard let stats, let payload else { return 0 }
                let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
                let value = TransferProgress(
                    receivedObjects: Int(stats.pointee.received_objects),
                    totalObjects: Int(stats.pointee.total_objects),
                    indexedDeltas: Int(stats.pointee.indexed_deltas),
                    totalDeltas: Int(stats.pointee.total_deltas),
                    receivedBytes: Int(stats.pointee.received_bytes))
                return context.progress?(value) == false ? GIT_EUSER.rawValue : 0
            }
        }
        if credentials != nil {
            callbacks.credentials = { out, url, usernameFromURL, allowed, payload in
                guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
                let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
                guard let session = context.credentials else { return GIT_PASSTHROUGH.rawValue }
                return session.acquire(
                    out, url: url.map { String(cString: $0) } ?? "",
                    usernameFromURL: usernameFromURL.map { String(cString: $0) }, allowed: allowed)
            }
        }
        callbacks.push_update_reference = { refname, status, payload in
            guard let refname, let payload else { return 0 }
            let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
            context.pushStatuses[String(cString: refname)] = status.map { String(cString: $0) }
            return 0
        }
    }

    /// Runs a transport call against `url`, turning its failure into a `RemoteError` (with no
    /// secret in it) when it is about the remote; other failures stay `GitError`s.
    func transport<T>(_ url: RemoteURL, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GitError {
            let classified = RemoteError(
                classifying: error, url: url, authenticationFailed: credentials?.exhausted ?? false,
                secrets: credentials?.secrets ?? [])
            if let classified { throw classified }
            throw error
        }
    }
}

/// What a fetch learned about the remote besides its refs.
public struct FetchResult: Sendable, Equatable {
    /// The remote's default branch (what its HEAD names), short: `main`; nil for an empty remote.
    public let defaultBranch: String?

    public init(defaultBranch: String?) {
        self.defaultBranch = defaultBranch
    }
}

extension Repository {
    /// Clones `source` — a URL or a local path — into `path`, bare or with a checkout of the
    /// default branch. Local paths and `file://` URLs use libgit2's local clone (objects
    /// hard-linked): its `file://` transport is ~20× slower than git's. A local clone copies
    /// the object directory instead of transferring objects, so `progress` is never called for
    /// it; `local: false` sends a local source through the transport (a pack, with progress).
    ///
    /// A network URL is cloned without its credentials (`RemoteURL.withoutCredentials`), so the
    /// clone's `remote.origin.url` holds no secret; they, and `credentials`, reach the server
    /// through the credential callback. Throws `RemoteError` when the remote cannot be found,
    /// reached or authenticated against. The remote's default branch is then
    /// `remoteDefaultBranch()`.
    public static func clone(
        from source: String, to path: String, bare: Bool = false, local: Bool = true,
        credentials: Credentials = .none, progress: TransferProgressHandler? = nil
    ) throws -> Repository {
        Git.ensureInitialized()
        let remoteURL = RemoteURL(source)
        let localSource = RepositoryLocation(source).localPath
        let session = localSource == nil ? CredentialSession(credentials.filling(from: remoteURL)) : nil
        let context = RemoteCallbackContext(progress: progress, credentials: session)
        var options = git_clone_options()
        try GitError.check(
            git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)), "git_clone_options_init")
        options.bare = bare ? 1 : 0
        if localSource != nil {
            options.local = local ? GIT_CLONE_LOCAL : GIT_CLONE_NO_LOCAL
        } else {
            options.local = GIT_CLONE_LOCAL_AUTO
        }
        context.install(into: &options.fetch_opts.callbacks)
        let destination = absolutePath(path)
        let url = localSource ?? remoteURL.withoutCredentials
        let repository = try withExtendedLifetime(context) {
            try context.transport(remoteURL) {
                try make("git_clone") { git_clone(&$0, url, destination, &options) }
            }
        }
        return Repository(owning: repository)
    }

    /// Fetches `remote` (default `origin`) with pruning, updating its remote-tracking refs, and
    /// reports the remote's current default branch (which a fetch, like git's, does not write
    /// into `refs/remotes/<remote>/HEAD`). A URL with credentials in the config is fetched
    /// without them, through the callback, like a clone. Throws `RemoteError` for transport failures.
    @discardableResult
    public func fetch(
        remote name: String = "origin", credentials: Credentials = .none, progress: TransferProgressHandler? = nil
    ) throws -> FetchResult {
        let remote = try make("git_remote_lookup") { git_remote_lookup(&$0, pointer, name) }
        defer { git_remote_free(remote) }
        let remoteURL = try stripCredentials(of: remote)
        let session = remoteURL.isLocal ? nil : CredentialSession(credentials.filling(from: remoteURL))
        let context = RemoteCallbackContext(progress: progress, credentials: session)
        var options = git_fetch_options()
        try GitError.check(
            git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        options.prune = GIT_FETCH_PRUNE
        context.install(into: &options.callbacks)
        _ = try withExtendedLifetime(context) {
            try context.transport(remoteURL) {
                try GitError.check(git_remote_fetch(remote, nil, &options, "fetch"), "git_remote_fetch")
            }
        }
        return FetchResult(defaultBranch: try advertisedDefaultBranch(of: remote))
    }

    /// The branch the remote's HEAD named when it was last listed. libgit2 keeps the list the
    /// server advertised after disconnecting, so this needs no second connection.
    private func advertisedDefaultBranch(of remote: OpaquePointer) throws -> String? {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let result = git_remote_default_branch(&buffer, remote)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try GitError.check(result, "git_remote_default_branch")
        guard let name = buffer.ptr.map({ String(cString: $0) }) else { return nil }
        return name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name
    }

    /// The URL `remote` uses for fetching (or pushing: its `pushurl` when set), parsed. When it
    /// carries credentials, this remote object is pointed at the URL without them, so libgit2
    /// never sees them; the config is left as it is.
    func stripCredentials(of remote: OpaquePointer, forPush: Bool = false) throws -> RemoteURL {
        let fetchURL = RemoteURL(git_remote_url(remote).map { String(cString: $0) } ?? "")
        if fetchURL.hasSecret {
            try GitError.check(
                git_remote_set_instance_url(remote, fetchURL.withoutCredentials), "git_remote_set_instance_url")
        }
        guard forPush, let pushText = git_remote_pushurl(remote).map({ String(cString: $0) }) else { return fetchURL }
        let pushURL = RemoteURL(pushText)
        if pushURL.hasSecret {
            try GitError.check(
                git_remote_set_instance_pushurl(remote, pushURL.withoutCredentials), "git_remote_set_instance_pushurl")
        }
        return pushURL
    }

    /// The default branch of `remote` as this repository last learned it, short (`main`):
    /// where `refs/remotes/<remote>/HEAD` points — libgit2's clone writes it, bare or not, and
    /// fetches leave it alone — or, in a bare repository without it (`git clone --bare`), the
    /// branch HEAD names. nil when neither says. `fetch` reports the remote's current one.
    public func remoteDefaultBranch(remote name: String = "origin") throws -> String? {
        let prefix = "refs/remotes/\(name)/"
        if let head = try reference(named: prefix + "HEAD"), let target = head.symbolicTarget,
            target.hasPrefix(prefix)
        {
            return String(target.dropFirst(prefix.count))
        }
        return isBare ? try headBranchName() : nil
    }

    /// The URL of a configured remote; nil when there is no such remote.
    public func remoteURL(named name: String) throws -> String? {
        var remote: OpaquePointer?
        let result = git_remote_lookup(&remote, pointer, name)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try GitError.check(result, "git_remote_lookup")
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    /// Opens the remote called `remoteOrURL`, or an anonymous remote for a URL or path, and
    /// returns it with its URL; libgit2 gets the URL without credentials (see `RemoteURL`).
    /// The caller frees the remote with `git_remote_free`.
    func openRemote(_ remoteOrURL: String, forPush: Bool = false) throws -> (remote: OpaquePointer, url: RemoteURL) {
        var remote: OpaquePointer?
        let result = git_remote_lookup(&remote, pointer, remoteOrURL)
        if result == 0, let remote {
            do {
                return (remote, try stripCredentials(of: remote, forPush: forPush))
            } catch {
                git_remote_free(remote)
                throw error
            }
        }
        if result != GIT_ENOTFOUND.rawValue && result != GIT_EINVALIDSPEC.rawValue {
            try GitError.check(result, "git_remote_lookup")
        }
        git_error_clear()
        let remoteURL = RemoteURL(remoteOrURL)
        let url = RepositoryLocation(remoteOrURL).localPath ?? remoteURL.withoutCredentials
        let anonymous = try make("git_remote_create_anonymous") { git_remote_create_anonymous(&$0, pointer, url) }
        return (anonymous, remoteURL)
    }
}
