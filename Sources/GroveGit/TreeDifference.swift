import Clibgit2

/// What changed between two trees, found by descending only into subtrees whose ids differ:
/// a commit that edits three files of a 15,000-file tree costs three paths' worth of tree reads,
/// where libgit2's tree-to-tree diff walks every entry of both trees.
enum TreeDifference {
    /// A path is a file on one side and a directory on the other: callers that only handle
    /// content changes leave such a pair to libgit2.
    struct TypeChange: Error {}

    /// A tree entry: its object and mode.
    struct Entry: Equatable {
        var id: git_oid
        var mode: git_filemode_t

        init(id: git_oid, mode: git_filemode_t) {
            self.id = id
            self.mode = mode
        }

        init(_ entry: OpaquePointer) {
            self.init(id: git_tree_entry_id(entry).pointee, mode: git_tree_entry_filemode(entry))
        }

        var isTree: Bool { mode == GIT_FILEMODE_TREE }

        static func == (left: Entry, right: Entry) -> Bool {
            var leftID = left.id
            var rightID = right.id
            return left.mode == right.mode && git_oid_equal(&leftID, &rightID) != 0
        }
    }

    /// What changed under one name of a directory.
    indirect enum Change {
        /// A file, executable, symlink or submodule: added (`old` nil), deleted (`new` nil) or changed.
        case leaf(old: Entry?, new: Entry?)
        /// A directory with changes inside (added or deleted whole: every leaf in it).
        case directory([String: Change])
    }

    /// The changes from tree `old` to tree `new` (nil: the empty tree), by name; throws
    /// `TypeChange` when a name is a file on one side and a directory on the other.
    static func changes(from old: git_oid?, to new: git_oid?, in repo: OpaquePointer) throws -> [String: Change] {
        let oldEntries = try entries(of: old, in: repo)
        let newEntries = try entries(of: new, in: repo)
        var changes: [String: Change] = [:]
        for name in Set(oldEntries.keys).union(newEntries.keys) {
            let before = oldEntries[name]
            let after = newEntries[name]
            if let before, let after {
                if before == after { continue }
                if before.isTree != after.isTree { throw TypeChange() }
            }
            if before?.isTree == true || after?.isTree == true {
                changes[name] = .directory(try self.changes(from: before?.id, to: after?.id, in: repo))
            } else {
                changes[name] = .leaf(old: before, new: after)
            }
        }
        return changes
    }

    /// Every changed path (`dir/sub/file`), sorted.
    static func paths(from old: git_oid?, to new: git_oid?, in repo: OpaquePointer) throws -> [String] {
        var paths: [String] = []
        func collect(_ changes: [String: Change], prefix: String) {
            for (name, change) in changes {
                switch change {
                case .leaf: paths.append(prefix + name)
                case .directory(let inner): collect(inner, prefix: prefix + name + "/")
                }
            }
        }
        collect(try changes(from: old, to: new, in: repo), prefix: "")
        return paths.sorted()
    }

    /// A tree's entries by name (none for nil).
    private static func entries(of id: git_oid?, in repo: OpaquePointer) throws -> [String: Entry] {
        guard var id else { return [:] }
        let tree = try make("git_tree_lookup") { git_tree_lookup(&$0, repo, &id) }
        defer { git_tree_free(tree) }
        let count = git_tree_entrycount(tree)
        var entries: [String: Entry] = [:]
        entries.reserveCapacity(count)
        for position in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, position), let name = git_tree_entry_name(entry) else {
                throw GitError(
                    function: "git_tree_entry_byindex", code: -1, errorClass: GIT_ERROR_NONE,
                    message: "unreadable tree entry")
            }
            entries[String(cString: name)] = Entry(entry)
        }
        return entries
    }
}
