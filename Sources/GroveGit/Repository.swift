import Clibgit2
import Foundation
import GroveBasics

/// An open git repository (or one linked worktree of it). Owns its `git_repository` handle.
///
/// libgit2 objects may be used by one thread at a time: open one `Repository` per thread or
/// task and do not share it; it is deliberately not `Sendable`.
public final class Repository {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_repository_free(pointer)
    }

    /// Opens the repository at `path` or at the nearest directory above it that is one, like
    /// `git -C path`. A linked worktree's path opens that worktree.
    public static func open(at path: String) throws -> Repository {
        Git.ensureInitialized()
        let absolute = absolutePath(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw RepositoryOpenError.missing(path: absolute)
        }
        guard isDirectory.boolValue else { throw RepositoryOpenError.notADirectory(path: absolute) }
        var out: OpaquePointer?
        let result = git_repository_open_ext(&out, absolute, 0, nil)
        if result < 0 {
            throw RepositoryOpenError(path: absolute, error: GitError.last("git_repository_open_ext", code: result))
        }
        guard let out else { throw RepositoryOpenError.notARepository(path: absolute) }
        return Repository(owning: out)
    }

    /// Opens the working tree at exactly `path` — a main checkout or a linked worktree — and
    /// never a repository above it: for a task's worktree whose `.git` was deleted, `open(at:)`
    /// would find an enclosing repository (a dotfiles repository at `$HOME`, say), and grove
    /// must never stage, commit or reset there. Throws `RepositoryOpenError` otherwise.
    public static func openWorkingTree(at path: String) throws -> Repository {
        Git.ensureInitialized()
        let absolute = absolutePath(path)
        var out: OpaquePointer?
        let result = git_repository_open_ext(&out, absolute, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
        if result < 0 {
            throw RepositoryOpenError(path: absolute, error: GitError.last("git_repository_open_ext", code: result))
        }
        guard let out else { throw RepositoryOpenError.notARepository(path: absolute) }
        let repository = Repository(owning: out)
        guard let directory = repository.workingDirectory, canonicalPath(directory) == canonicalPath(absolute) else {
            throw RepositoryOpenError.notARepository(path: absolute)
        }
        return repository
    }

    /// Creates a new empty repository (used by tests and the clone cache).
    public static func create(at path: String, bare: Bool = false) throws -> Repository {
        Git.ensureInitialized()
        let repository = try make("git_repository_init") {
            git_repository_init(&$0, absolutePath(path), bare ? 1 : 0)
        }
        return Repository(owning: repository)
    }

    /// The git directory: `.git/` of a main checkout, `.git/worktrees/<name>/` of a linked worktree.
    public var gitDirectory: String { String(cString: git_repository_path(pointer)).withoutTrailingSlash }

    /// The directory shared by the main checkout and all its worktrees (refs, objects, `worktrees/`).
    public var commonDirectory: String {
        String(cString: git_repository_commondir(pointer)).withoutTrailingSlash
    }

    /// The working directory; nil for a bare repository.
    public var workingDirectory: String? {
        git_repository_workdir(pointer).map { String(cString: $0).withoutTrailingSlash }
    }

    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }

    /// True when this handle is a linked worktree rather than the main checkout.
    public var isLinkedWorktree: Bool { git_repository_is_worktree(pointer) == 1 }

    /// True when the repository has no commit at HEAD yet.
    public var isHeadUnborn: Bool { git_repository_head_unborn(pointer) == 1 }
}

/// Why a repository could not be opened, with what to do about it.
public enum RepositoryOpenError: Error, Sendable, Equatable, LocalizedError {
    case missing(path: String)
    case notADirectory(path: String)
    case notARepository(path: String)
    case unsupportedExtension(path: String, name: String)
    case notOwned(path: String)
    case other(path: String, GitError)

    init(path: String, error: GitError) {
        let lowered = error.message.lowercased()
        // libgit2 1.5.1 reports a repository of another user as GIT_EOWNER only when the config
        // has some safe.directory entry; with none at all, the lookup's ENOTFOUND ("config value
        // 'safe.directory' was not found") comes out instead, and read as "not a repository".
        if error.code == GIT_EOWNER.rawValue || lowered.contains("'safe.directory' was not found") {
            self = .notOwned(path: path)
        } else if error.isNotFound {
            self = .notARepository(path: path)
        } else if lowered.contains("unsupported extension name") {
            let name = error.message.split(separator: " ").last.map(String.init) ?? "unknown"
            self = .unsupportedExtension(path: path, name: name)
        } else {
            self = .other(path: path, error)
        }
    }

    public var errorDescription: String? {
        switch self {
        case .missing(let path):
            return "\(path) does not exist; check the path"
        case .notADirectory(let path):
            return "\(path) is a file, not a repository; give the repository's directory"
        case .notARepository(let path):
            return "\(path) is not inside a git repository; run `git init` there or give another path"
        case .unsupportedExtension(let path, let name):
            if name.lowercased().contains("worktreeconfig") {
                return "\(path) uses extensions.worktreeConfig (set by `git sparse-checkout` or"
                    + " `git config --worktree`), which libgit2 1.5.1 cannot read; if you do not need"
                    + " per-worktree config, run `git -C \(path) config --unset extensions.worktreeConfig`"
            }
            if name.lowercased().contains("relativeworktrees") {
                return "\(path) has worktrees with relative paths (`git worktree add --relative-paths`),"
                    + " which libgit2 1.5.1 cannot read; run `git -C \(path) worktree repair --no-relative-paths`"
                    + " then `git -C \(path) config --unset extensions.relativeWorktrees`"
            }
            return "\(path) uses the git extension \(name), which libgit2 1.5.1 cannot read;"
                + " remove it with `git -C \(path) config --unset \(name)` if the repository does not need it"
        case .notOwned(let path):
            return "\(path) is owned by another user; if you trust it, run"
                + " `git config --global --add safe.directory \(path)`"
        case .other(let path, let error):
            return "cannot open the repository at \(path): \(error.description)"
        }
    }
}

/// Calls a libgit2 function that hands back an owned object through its first argument.
func make(
    _ function: String, _ body: (inout OpaquePointer?) -> Int32
) throws -> OpaquePointer {
    var out: OpaquePointer?
    git_error_clear()  // some calls fail without setting an error: never report a stale one
    try GitError.check(body(&out), function)
    guard let out else {
        throw GitError(
            function: function, code: -1, errorClass: GIT_ERROR_NONE, message: "\(function) returned nothing")
    }
    return out
}
