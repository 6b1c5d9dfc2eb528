import Clibgit2
import Foundation

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
    /// Per-ref results the remote sent back during a push: ref name → rejection reason.
    var pushStatuses: [String: String?] = [:]

    init(progress: TransferProgressHandler?) {
        self.progress = progress
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
        callbacks.push_update_reference = { refname, status, payload in
            guard let refname, let payload else { return 0 }
            let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
            context.pushStatuses[String(cString: refname)] = status.map { String(cString: $0) }
            return 0
        }
    }
}

extension Repository {
    /// Clones `source` — a URL or a local path — into `path`, bare or with a checkout of the
    /// default branch. Local paths and `file://` URLs use libgit2's local clone (objects
    /// hard-linked): its `file://` transport is ~20× slower than git's. A local clone copies
    /// the object directory instead of transferring objects, so `progress` is never called for
    /// it; `local: false` sends a local source through the transport (a pack, with progress).
    public static func clone(
        from source: String, to path: String, bare: Bool = false, local: Bool = true,
        progress: TransferProgressHandler? = nil
    ) throws -> Repository {
        Git.ensureInitialized()
        let localSource = RepositoryLocation(source).localPath
        let context = RemoteCallbackContext(progress: progress)
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
        let url = localSource ?? source
        let repository = try withExtendedLifetime(context) {
            try make("git_clone") { git_clone(&$0, url, destination, &options) }
        }
        return Repository(owning: repository)
    }

    /// Fetches `remote` (default `origin`) with pruning, updating its remote-tracking refs.
    public func fetch(remote name: String = "origin", progress: TransferProgressHandler? = nil) throws {
        let remote = try make("git_remote_lookup") { git_remote_lookup(&$0, pointer, name) }
        defer { git_remote_free(remote) }
        let context = RemoteCallbackContext(progress: progress)
        var options = git_fetch_options()
        try GitError.check(
            git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        options.prune = GIT_FETCH_PRUNE
        context.install(into: &options.callbacks)
        _ = try withExtendedLifetime(context) {
            try GitError.check(git_remote_fetch(remote, nil, &options, "fetch"), "git_remote_fetch")
        }
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

    /// Opens the remote called `remoteOrURL`, or an anonymous remote for a URL or path.
    /// The caller frees it with `git_remote_free`.
    func openRemote(_ remoteOrURL: String) throws -> OpaquePointer {
        var remote: OpaquePointer?
        let result = git_remote_lookup(&remote, pointer, remoteOrURL)
        if result == 0, let remote { return remote }
        if result != GIT_ENOTFOUND.rawValue && result != GIT_EINVALIDSPEC.rawValue {
            try GitError.check(result, "git_remote_lookup")
        }
        let url = RepositoryLocation(remoteOrURL).localPath ?? remoteOrURL
        return try make("git_remote_create_anonymous") { git_remote_create_anonymous(&$0, pointer, url) }
    }
}
