import Clibgit2
import Foundation

extension Repository {
    /// Whether the working tree's file at `path` is exactly `commit`'s version of it (both
    /// absent counts as the same): for telling a checkout cut off half-way from local changes.
    /// Content is hashed the way `git add` would (filters applied); modes are not compared.
    public func workingFileMatches(_ path: String, in commit: ObjectID) throws -> Bool {
        guard let directory = workingDirectory else { return false }
        let full = directory + "/" + path
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) && !isDirectory.boolValue
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let found = git_tree_entry_bypath(&entry, tree, path)
        if found == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return !exists
        }
        try GitError.check(found, "git_tree_entry_bypath")
        defer { git_tree_entry_free(entry) }
        guard exists, let entry, git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return false }
        var oid = git_oid()
        try GitError.check(
            git_repository_hashfile(&oid, pointer, full, GIT_OBJECT_BLOB, path), "git_repository_hashfile")
        return ObjectID(oid) == ObjectID(git_tree_entry_id(entry))
    }

    /// Writes `paths` (files and index entries) from `commit` over whatever is there, removing
    /// those `commit` does not have: puts back files a checkout cut off half-way had written.
    /// Callers make sure nothing of the user's is at these paths.
    public func forceCheckout(_ commit: ObjectID, paths: [String]) throws {
        guard !paths.isEmpty else { return }
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        var options = git_checkout_options()
        try GitError.check(
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy =
            GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_REMOVE_UNTRACKED.rawValue
            | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
        try withStrArray(paths) { list in
            options.paths = list.pointee
            try GitError.check(git_checkout_tree(pointer, tree, &options), "git_checkout_tree")
        }
    }
}
