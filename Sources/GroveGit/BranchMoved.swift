import Clibgit2
import Foundation

extension Repository {
    /// When the branch last moved: the time of its reflog's newest entry. Nil when it has no
    /// reflog (a bare repository keeps none by default, and `git reflog expire` may empty it):
    /// then nobody can say it has not moved.
    public func branchLastMoved(_ name: String) throws -> Date? {
        let reflog = try make("git_reflog_read") { git_reflog_read(&$0, pointer, "refs/heads/" + name) }
        defer { git_reflog_free(reflog) }
        // Index 0 is the newest entry.
        guard git_reflog_entrycount(reflog) > 0, let newest = git_reflog_entry_byindex(reflog, 0),
            let committer = git_reflog_entry_committer(newest)
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(committer.pointee.when.time))
    }
}
