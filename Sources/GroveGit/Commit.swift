import Clibgit2
import Foundation

/// A snapshot of a commit's metadata.
public struct Commit: Sendable, Hashable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    public let message: String
    public let author: Signature
    public let committer: Signature

    /// The first line of the message.
    public var summary: String { String(message.prefix { $0 != "\n" }) }
}

extension Repository {
    /// Reads a commit's metadata.
    public func commit(_ id: ObjectID) throws -> Commit {
        let object = try lookupCommit(id)
        defer { git_commit_free(object) }
        var parents: [ObjectID] = []
        for index in 0..<git_commit_parentcount(object) {
            if let parent = git_commit_parent_id(object, index) { parents.append(ObjectID(parent)) }
        }
        return Commit(
            id: id,
            tree: ObjectID(git_commit_tree_id(object)),
            parents: parents,
            message: git_commit_message(object).map { String(cString: $0) } ?? "",
            author: Signature(git_commit_author(object)),
            committer: Signature(git_commit_committer(object)))
    }

    /// The caller frees the result with `git_commit_free`.
    func lookupCommit(_ id: ObjectID) throws -> OpaquePointer {
        var oid = id.oid
        return try make("git_commit_lookup") { git_commit_lookup(&$0, pointer, &oid) }
    }

    /// The caller frees the result with `git_tree_free`.
    func lookupTree(ofCommit id: ObjectID) throws -> OpaquePointer {
        let commit = try lookupCommit(id)
        defer { git_commit_free(commit) }
        return try make("git_commit_tree") { git_commit_tree(&$0, commit) }
    }

    /// Commits everything in this working tree — modifications, new files and deletions,
    /// skipping what `.gitignore` ignores — on top of HEAD, moving HEAD's branch (or, with
    /// `updatingHead: false`, no ref at all: a snapshot). Returns nil (and commits nothing) when
    /// the tree already matches HEAD.
    public func commitAll(
        message: String, author: Signature? = nil, committer: Signature? = nil, updatingHead: Bool = true
    ) throws -> ObjectID? {
        let updateRef = updatingHead ? "HEAD" : nil
        guard !isBare else {
            throw GitError(
                function: "commitAll", code: -1, errorClass: GIT_ERROR_REPOSITORY,
                message: "cannot commit in a bare repository at \(gitDirectory)")
        }
        let index = try make("git_repository_index") { git_repository_index(&$0, pointer) }
        defer { git_index_free(index) }
        // Pick up writes other tools (the git CLI, the task's agent) made to the index file.
        try GitError.check(git_index_read(index, 1), "git_index_read")
        guard git_index_has_conflicts(index) == 0 else {
            throw GitError(
                function: "commitAll", code: GIT_EUNMERGED.rawValue, errorClass: GIT_ERROR_INDEX,
                message: "the index of \(workingDirectory ?? gitDirectory) has unresolved conflicts;"
                    + " resolve them (git add) or abort the merge first")
        }
        // add_all asks about each path it is about to add, update or remove: none asked means
        // the index already matched the files, and the index file need not be written again
        // (hashing and writing a 15,000-entry index is a good part of concluding a task).
        final class Touched { var count = 0 }
        let touched = Touched()
        try withExtendedLifetime(touched) {
            _ = try withStrArray(["*"]) { pathspec in
                // In libgit2 1.5.1 add_all also removes entries whose files are gone.
                try GitError.check(
                    git_index_add_all(
                        index, pathspec, GIT_INDEX_ADD_DEFAULT.rawValue,
                        { _, _, payload in
                            payload.map { Unmanaged<Touched>.fromOpaque($0).takeUnretainedValue().count += 1 }
                            return 0
                        }, Unmanaged.passUnretained(touched).toOpaque()),
                    "git_index_add_all")
            }
        }
        var treeID = git_oid()
        try GitError.check(git_index_write_tree(&treeID, index), "git_index_write_tree")
        let parentID = try headCommit()
        let unchanged = try parentID.map { try commit($0).tree == ObjectID(treeID) } ?? false
        if touched.count > 0 || !unchanged {
            try GitError.check(git_index_write(index), "git_index_write")
        }
        if unchanged { return nil }

        let tree = try make("git_tree_lookup") { git_tree_lookup(&$0, pointer, &treeID) }
        defer { git_tree_free(tree) }
        let identity = try defaultSignature()
        let authorRaw = try (author ?? identity).makeRaw()
        defer { git_signature_free(authorRaw) }
        let committerRaw = try (committer ?? identity).makeRaw()
        defer { git_signature_free(committerRaw) }

        var newID = git_oid()
        if let parentID {
            let parent = try lookupCommit(parentID)
            defer { git_commit_free(parent) }
            var parents: [OpaquePointer?] = [parent]
            try GitError.check(
                git_commit_create(&newID, pointer, updateRef, authorRaw, committerRaw, nil, message, tree, 1, &parents),
                "git_commit_create")
        } else {
            try GitError.check(
                git_commit_create(&newID, pointer, updateRef, authorRaw, committerRaw, nil, message, tree, 0, nil),
                "git_commit_create")
        }
        return ObjectID(newID)
    }
}

/// Lends `strings` to libgit2 as a `git_strarray` for the duration of `body`.
@discardableResult
func withStrArray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws -> T) rethrows -> T {
    let duplicates = strings.map { strdup($0) }
    defer { for duplicate in duplicates { free(duplicate) } }
    var pointers: [UnsafeMutablePointer<CChar>?] = duplicates
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}
