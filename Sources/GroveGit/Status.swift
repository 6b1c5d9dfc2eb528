import Clibgit2

/// What `git status` would say about a working tree.
public struct WorktreeStatus: Sendable, Equatable {
    public enum Change: String, Sendable, Hashable, Codable {
        case modified, added, deleted, renamed
        case typeChanged = "type_changed"
        case untracked, conflicted
    }

    public struct Entry: Sendable, Hashable {
        public let path: String
        public let change: Change
    }

    /// Every changed path, sorted by path. Ignored files are not listed.
    public let entries: [Entry]

    public var isClean: Bool { entries.isEmpty }

    /// The paths with the given kind of change.
    public func paths(_ change: Change) -> [String] {
        entries.filter { $0.change == change }.map(\.path)
    }
}

extension Repository {
    /// The status of this repository's working tree, untracked files included (recursing into
    /// untracked directories) unless `includeUntracked` is false, ignored files excluded.
    /// Without untracked files it reads only what the index tracks, which is much cheaper in a
    /// large tree.
    public func status(includeUntracked: Bool = true) throws -> WorktreeStatus {
        var options = git_status_options()
        try GitError.check(
            git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        // GIT_STATUS_OPTIONS_INIT means "no untracked files": ask for them explicitly.
        options.flags =
            GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX.rawValue | GIT_STATUS_OPT_SORT_CASE_SENSITIVELY.rawValue
        if includeUntracked {
            options.flags |=
                GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
        }
        let list = try make("git_status_list_new") { git_status_list_new(&$0, pointer, &options) }
        defer { git_status_list_free(list) }
        var entries: [WorktreeStatus.Entry] = []
        for index in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, index) else { continue }
            let flags = entry.pointee.status.rawValue
            guard flags & GIT_STATUS_IGNORED.rawValue == 0 else { continue }
            let delta = entry.pointee.head_to_index ?? entry.pointee.index_to_workdir
            guard let delta, let path = delta.pointee.new_file.path ?? delta.pointee.old_file.path else { continue }
            entries.append(WorktreeStatus.Entry(path: String(cString: path), change: Self.change(flags)))
        }
        return WorktreeStatus(entries: entries.sorted { $0.path < $1.path })
    }

    private static func change(_ flags: UInt32) -> WorktreeStatus.Change {
        func has(_ flag: git_status_t) -> Bool { flags & flag.rawValue != 0 }
        if has(GIT_STATUS_CONFLICTED) { return .conflicted }
        if has(GIT_STATUS_INDEX_NEW) { return .added }
        // Before WT_NEW: `git rm --cached f` gives INDEX_DELETED|WT_NEW in one entry, and what
        // matters (git's first line, `D  f`) is that the file leaves the repository.
        if has(GIT_STATUS_INDEX_DELETED) { return .deleted }
        if has(GIT_STATUS_WT_NEW) { return .untracked }
        if has(GIT_STATUS_WT_DELETED) { return .deleted }
        if has(GIT_STATUS_INDEX_RENAMED) || has(GIT_STATUS_WT_RENAMED) { return .renamed }
        if has(GIT_STATUS_INDEX_TYPECHANGE) || has(GIT_STATUS_WT_TYPECHANGE) { return .typeChanged }
        return .modified
    }
}
