import Foundation
import GroveGit

/// The clone cache (`$GROVE_HOME/repos/`): each URL repository is cloned once, bare, and fetched
/// by every later run, so a run over many repositories transfers only what changed. Worktrees
/// and task branches are made in the cached clone, as in any other repository.
///
/// Each entry has a lock file next to it (`<entry>.lock`): two groves syncing one entry take
/// turns, and a clone is made in a temporary directory and renamed into place, so an entry is
/// never seen half-cloned, even after a crash.
public struct RepositoryCache: Sendable {
    public let root: String

    public init(home: GroveHome) {
        root = home.repositories
    }

    /// Where `url`'s clone lives: `<root>/<host>/<path>.git`, with `file` as the host of local
    /// sources. Every component is made safe for a file name, so no URL can point outside the cache.
    public func path(for url: String) -> String {
        let components: [String]
        if let local = RepositoryLocation(url).localPath {
            components = ["file"] + local.split(separator: "/").map(String.init)
        } else {
            let remote = RemoteURL(url)
            var host = remote.host ?? "unknown-host"
            if let port = remote.port { host += "_\(port)" }
            components = [host] + remote.path.split(separator: "/").map(String.init)
        }
        var safe = components.map(Self.safeComponent).filter { !$0.isEmpty }
        if safe.count < 2 { safe.append("repository") }
        if !safe[safe.count - 1].hasSuffix(".git") { safe[safe.count - 1] += ".git" }
        return root + "/" + safe.joined(separator: "/")
    }

    /// A path component with anything but letters, digits and `._-+@~` replaced by `_`, and
    /// `.`/`..` made harmless.
    private static func safeComponent(_ text: String) -> String {
        let allowed = Set("._-+@~")
        let mapped = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || allowed.contains($0)) ? $0 : "_" })
        return mapped.allSatisfy { $0 == "." } ? String(repeating: "_", count: mapped.count) : mapped
    }

    /// What syncing an entry did.
    public struct Synced: Sendable, Equatable {
        public enum Action: String, Sendable, Equatable {
            case cloned, fetched

            /// The action as a task's record and the run's events keep it.
            public var outcome: SyncOutcome {
                switch self {
                case .cloned: .cloned
                case .fetched: .fetched
                }
            }
        }
        public var path: String
        public var action: Action
        /// The remote's default branch as of now (short name); nil when the remote has none.
        public var defaultBranch: String?
    }

    /// Clones `source` into its entry, or fetches the entry when it exists. Blocks (libgit2 and
    /// the network): call it off the cooperative pool. `progress` may cancel the transfer.
    public func sync(_ source: RemoteSource, progress: TransferProgressHandler? = nil) throws -> Synced {
        let path = source.cachePath
        let fileManager = FileManager.default
        try GroveHome.createPrivateDirectory(atPath: (path as NSString).deletingLastPathComponent)
        let lock = try RepositoryLock.waitFor(lockFile: path + ".lock")
        defer { lock.release() }

        if fileManager.fileExists(atPath: path) {
            if let repository = try? Repository.open(at: path), repository.isBare {
                let fetched = try repository.fetch(
                    remote: "origin", credentials: source.credentials, progress: progress)
                return Synced(
                    path: path, action: .fetched,
                    defaultBranch: try fetched.defaultBranch ?? repository.defaultBranch())
            }
            // Not a clone of ours (clones are renamed into place whole): the cache is grove's,
            // with nothing of the user's in it, so replace the entry.
            try fileManager.removeItem(atPath: path)
        }
        let partial = path + ".partial-\(getpid())"
        if fileManager.fileExists(atPath: partial) { try fileManager.removeItem(atPath: partial) }
        do {
            _ = try Repository.clone(
                from: source.url, to: partial, bare: true, credentials: source.credentials, progress: progress)
            try fileManager.moveItem(atPath: partial, toPath: path)
        } catch {
            try? fileManager.removeItem(atPath: partial)
            throw error
        }
        let repository = try Repository.open(at: path)
        return Synced(path: path, action: .cloned, defaultBranch: try repository.defaultBranch())
    }

    /// The base a task of `synced` starts from: `requested`, else the remote's default branch, at
    /// the commit the remote has it now (`refs/remotes/origin/<base>`). The entry's local branch
    /// of that name, which `grove merge` lands into, is created there or fast-forwarded to it;
    /// a local branch holding commits the remote lacks (landed, not pushed) is left as it is.
    public static func resolveBase(_ requested: String?, in synced: Synced, display: String) throws
        -> (name: String, commit: ObjectID)
    {
        let repository = try Repository.open(at: synced.path)
        guard let name = requested ?? synced.defaultBranch else {
            throw CacheError.noDefaultBranch(url: display)
        }
        let tracking = "refs/remotes/origin/\(name)"
        guard let remoteTip = try repository.reference(named: tracking)?.target else {
            let names = try repository.referenceNames(withPrefix: "refs/remotes/origin/").compactMap { name in
                name == "refs/remotes/origin/HEAD" ? nil : String(name.dropFirst("refs/remotes/origin/".count))
            }
            throw CacheError.noSuchBase(base: name, url: display, branches: names)
        }
        let local = try repository.branch(named: name)?.target
        var behind = true
        if let local { behind = try local != remoteTip && repository.isAncestor(local, of: remoteTip) }
        if behind {
            do {
                try repository.updateReference(
                    named: "refs/heads/\(name)", to: remoteTip, expecting: local,
                    message: "grove: fast-forward \(name) to origin/\(name)")
            } catch is ReferenceMovedError {
                // Another grove moved it in between (a merge landing, a parallel run): theirs stands.
            }
        }
        return (name, remoteTip)
    }
}

/// A URL repository that was fetched but cannot give a task its base.
public enum CacheError: Error, Sendable, Equatable, LocalizedError {
    case noDefaultBranch(url: String)
    case noSuchBase(base: String, url: String, branches: [String])

    public var errorDescription: String? {
        switch self {
        case .noDefaultBranch(let url):
            return "\(url) has no default branch (an empty repository?); push a first commit or set `base:`"
        case .noSuchBase(let base, let url, let branches):
            let hint =
                Suggestion.closest(to: base, in: branches).map { "; did you mean \"\($0)\"?" }
                ?? (branches.isEmpty
                    ? "; the repository has no branches" : "; it has: \(branches.prefix(5).joined(separator: ", "))")
            return "base branch \"\(base)\" does not exist in \(url)\(hint)"
        }
    }
}
