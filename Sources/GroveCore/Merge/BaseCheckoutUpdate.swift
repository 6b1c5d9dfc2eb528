import GroveGit

/// Landing in a base that is checked out — the main checkout, or a worktree the user switched to
/// it — moves that checkout's files along, like `git merge --ff-only`: only the paths the landing
/// changes are written, and the user's other changes, in the files or staged, stay as they are.
/// A local change (or an untracked file) on a path the landing changes stops the queue before
/// anything moves, naming the path.
enum BaseCheckoutUpdate {
    /// Throws `QueueStop` when a checkout of base has a local change the landing would
    /// overwrite; changes nothing. The checkout the landing moves through needs no such look
    /// first: `move` refuses there before it writes anything (one plan per landing, not two).
    static func check(
        _ checkouts: some Sequence<String>, task: TaskRecord, from oldBase: ObjectID, to tip: ObjectID
    ) throws {
        for path in checkouts {
            do {
                try Repository.open(at: path).checkMove(to: tip, from: oldBase)
            } catch let conflict as CheckoutConflictError {
                throw stop(task, conflict)
            }
        }
    }

    /// Moves base from `oldBase` to `tip` by compare-and-swap, through its first checkout (files
    /// follow), keeping any other in step (git refuses one branch in two worktrees, but `--force`
    /// allows it); with no checkout, the ref alone. Throws `ReferenceMovedError` when base is no
    /// longer at `oldBase`, `QueueStop` when local changes appeared in the way since `check`.
    static func move(
        _ checkouts: [String], base: String, task: TaskRecord, from oldBase: ObjectID, to tip: ObjectID,
        message: String, repository: Repository
    ) throws {
        guard let checkout = checkouts.first else {
            try repository.updateReference(named: "refs/heads/\(base)", to: tip, expecting: oldBase, message: message)
            return
        }
        do {
            try Repository.open(at: checkout).moveHead(to: tip, expecting: oldBase, message: message)
        } catch let conflict as CheckoutConflictError {
            throw stop(task, conflict)
        }
        for other in checkouts.dropFirst() {
            try? Repository.open(at: other).syncWorkingTree(from: oldBase)
        }
    }

    /// The queue's stop for a checkout of base in the way: which paths, where, and what to do.
    static func stop(_ task: TaskRecord, _ conflict: CheckoutConflictError) -> QueueStop {
        QueueStop(
            "landing \(task.name) would overwrite \(conflict.obstacles) in \(conflict.worktree),"
                + " where \(task.base) is checked out; \(conflict.remedy), then run `grove merge` again")
    }
}
