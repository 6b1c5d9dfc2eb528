import Clibgit2

/// Process-wide libgit2 set-up. Every entry point of GroveGit calls `Git.ensureInitialized()`,
/// so callers never have to remember `git_libgit2_init`.
public enum Git {
    /// Runs once, thread-safely (Swift's lazy `static let`), before the first libgit2 call.
    private static let initialization: Void = {
        git_libgit2_init()
        // Many repositories open at once (stale scans, fleets): cap mapped pack files so we
        // do not run out of file descriptors. libgit2's default is unlimited.
        _ = cgit_opts_set_mwindow_file_limit(128)
        // libgit2 re-hashes every object it reads to check its id; git does not (that is
        // `git fsck`'s job). With SHA-1DC that was a fifth of writing a new worktree's files.
        _ = cgit_opts_enable_strict_hash_verification(0)
    }()

    static func ensureInitialized() {
        _ = initialization
    }

    /// The libgit2 version grove runs against, e.g. "1.5.1".
    public static var libgit2Version: String {
        ensureInitialized()
        var major: Int32 = 0
        var minor: Int32 = 0
        var revision: Int32 = 0
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// Points libgit2's global (per-user) config lookup at `directory` instead of `$HOME`.
    /// Used by tests so the host's `~/.gitconfig` never leaks into results.
    public static func setGlobalConfigDirectory(_ directory: String) throws {
        ensureInitialized()
        try GitError.check(
            cgit_opts_set_search_path(Int32(GIT_CONFIG_LEVEL_GLOBAL.rawValue), directory),
            "git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)")
        try GitError.check(
            cgit_opts_set_search_path(Int32(GIT_CONFIG_LEVEL_XDG.rawValue), directory),
            "git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)")
        try GitError.check(
            cgit_opts_set_search_path(Int32(GIT_CONFIG_LEVEL_SYSTEM.rawValue), directory),
            "git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)")
    }
}
