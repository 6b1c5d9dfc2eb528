import Clibgit2
import Foundation

extension Repository {
    /// Whether `directory` holds nothing but what adding a worktree of this repository there at
    /// `commit` writes — the folder a killed `worktree add` leaves: it is empty, or has only
    /// a `.git` file naming one of this repository's admin entries (`worktrees/<name>`) and
    /// files, folders and symbolic links that are exactly `commit`'s at the same paths (file
    /// content hashed as `git add` would; modes not compared). Anything else — a file of other
    /// content, a path `commit` lacks, a `.git` directory, a socket — is someone's: false.
    /// Symbolic links are never followed. Reads only.
    public func holdsOnlyCheckout(of commit: ObjectID, at directory: String) throws -> Bool {
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return false }
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        return try holdsOnly(tree, directory: directory, relative: "")
    }

    private func holdsOnly(_ tree: OpaquePointer, directory: String, relative: String) throws -> Bool {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        for name in names {
            let full = directory + "/" + name
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { return false }
            let type = info.st_mode & S_IFMT
            if path == ".git" {
                guard type == S_IFREG, isGitFileOfOurs(full) else { return false }
                continue
            }
            var entry: OpaquePointer?
            let found = git_tree_entry_bypath(&entry, tree, path)
            if found == GIT_ENOTFOUND.rawValue {
                git_error_clear()
                return false
            }
            try GitError.check(found, "git_tree_entry_bypath")
            guard let entry else { return false }
            defer { git_tree_entry_free(entry) }
            let mode = git_tree_entry_filemode(entry)
            let id = ObjectID(git_tree_entry_id(entry))
            switch type {
            case S_IFDIR:
                guard mode == GIT_FILEMODE_TREE else { return false }
                guard try holdsOnly(tree, directory: full, relative: path) else { return false }
            case S_IFREG:
                guard mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE else { return false }
                var oid = git_oid()
                try GitError.check(
                    git_repository_hashfile(&oid, pointer, full, GIT_OBJECT_BLOB, path), "git_repository_hashfile")
                guard ObjectID(oid) == id else { return false }
            case S_IFLNK:
                guard mode == GIT_FILEMODE_LINK,
                    let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full)
                else { return false }
                var oid = git_oid()
                let bytes = Array(target.utf8)
                try GitError.check(
                    git_odb_hash(&oid, bytes, bytes.count, GIT_OBJECT_BLOB), "git_odb_hash")
                guard ObjectID(oid) == id else { return false }
            default:
                return false
            }
        }
        return true
    }

    /// A worktree's `.git` file: one `gitdir:` line naming `<common directory>/worktrees/<name>`.
    private func isGitFileOfOurs(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("gitdir: "), !line.contains("\n") else { return false }
        let admin = URL(fileURLWithPath: String(line.dropFirst("gitdir: ".count))).standardizedFileURL
        let worktrees = URL(fileURLWithPath: commonDirectory + "/worktrees").standardizedFileURL
        return admin.deletingLastPathComponent().resolvingSymlinksInPath().path
            == worktrees.resolvingSymlinksInPath().path
    }
}
