import Foundation

extension Repository {
    /// The working directories — the main checkout and every linked worktree — whose HEAD is the
    /// local branch `branch`: moving that branch must update their files too, or they would show
    /// the move as an uncommitted reverse change. Worktrees whose directory is gone are left out.
    public func checkouts(of branch: String) throws -> [String] {
        let wanted = "refs/heads/\(branch)"
        // Open the common directory: this handle may itself be a linked worktree, and the main
        // checkout is the one the common directory belongs to.
        let main = try Repository.open(at: commonDirectory)
        var found: [String] = []
        if !main.isBare, let directory = main.workingDirectory,
            try main.reference(named: "HEAD")?.symbolicTarget == wanted
        {
            found.append(directory)
        }
        for worktree in try main.worktrees() where worktree.isValid {
            // A linked worktree's HEAD lives in its admin entry; reading it there costs one small
            // file, not an open of the whole worktree.
            let head = try? String(contentsOfFile: worktree.adminDirectory + "/HEAD", encoding: .utf8)
            if head?.trimmingCharacters(in: .whitespacesAndNewlines) == "ref: \(wanted)" {
                found.append(worktree.path)
            }
        }
        return found
    }
}
