import Clibgit2

/// What merging two commits would give, computed in memory.
public enum MergePrediction: Sendable, Equatable {
    case clean
    /// The paths that would conflict, sorted.
    case conflicts([String])
}

extension Repository {
    /// Predicts whether `ours` and `theirs` merge cleanly, entirely in memory: no file, index,
    /// ref or object is written.
    public func predictMerge(_ ours: ObjectID, _ theirs: ObjectID) throws -> MergePrediction {
        let oursCommit = try lookupCommit(ours)
        defer { git_commit_free(oursCommit) }
        let theirsCommit = try lookupCommit(theirs)
        defer { git_commit_free(theirsCommit) }
        var options = git_merge_options()
        try GitError.check(
            git_merge_options_init(&options, UInt32(GIT_MERGE_OPTIONS_VERSION)), "git_merge_options_init")
        let index = try make("git_merge_commits") {
            git_merge_commits(&$0, pointer, oursCommit, theirsCommit, &options)
        }
        defer { git_index_free(index) }
        let paths = try conflictPaths(in: index)
        return paths.isEmpty ? .clean : .conflicts(paths)
    }

    /// The sorted, distinct paths with conflict entries in an index.
    func conflictPaths(in index: OpaquePointer) throws -> [String] {
        guard git_index_has_conflicts(index) != 0 else { return [] }
        let iterator = try make("git_index_conflict_iterator_new") { git_index_conflict_iterator_new(&$0, index) }
        defer { git_index_conflict_iterator_free(iterator) }
        var paths = Set<String>()
        while true {
            var ancestor: UnsafePointer<git_index_entry>?
            var ours: UnsafePointer<git_index_entry>?
            var theirs: UnsafePointer<git_index_entry>?
            let result = git_index_conflict_next(&ancestor, &ours, &theirs, iterator)
            if result == GIT_ITEROVER.rawValue { break }
            try GitError.check(result, "git_index_conflict_next")
            for entry in [ours, theirs, ancestor] {
                if let entry, let path = entry.pointee.path { paths.insert(String(cString: path)) }
            }
        }
        return paths.sorted()
    }
}
