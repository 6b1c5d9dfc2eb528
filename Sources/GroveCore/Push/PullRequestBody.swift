import Foundation
import GroveBasics
import GroveGit

/// A pushed task as a pull request description (`logs/<run>/<task>.pr.md`): a title, the
/// instructions, how it ran, what it changed, its commits and the end of its log. Task data
/// (paths, subjects, log lines) is quoted so it can never break the document's structure.
public struct PullRequestBody: Sendable, Equatable {
    /// One commit of the branch, oldest first in `commits`.
    public struct CommitLine: Sendable, Equatable {
        public var id: String
        public var subject: String

        public init(id: String, subject: String) {
            self.id = id
            self.subject = subject
        }
    }

    public var title: String
    public var run: Int
    public var task: String
    public var instructions: String?
    /// The command as the user wrote it: the shell line of a string command, else the argv.
    public var command: String
    public var seconds: Double?
    public var branch: String
    public var base: String
    public var diffstat: [RunReport.FileChange]
    /// Why there is no diffstat, when it could not be computed.
    public var diffstatNote: String?
    public var commits: [CommitLine]
    /// Commits beyond those listed (the list is capped).
    public var moreCommits: Int
    public var logTail: [String]

    /// At most this many commits are listed.
    static let commitLimit = 100

    /// The title: the first non-empty line of the instructions, else the subject of the
    /// branch's first commit, else `grove: <task> (run N)`.
    public static func title(instructions: String?, firstCommitSubject: String?, task: String, run: Int) -> String {
        let fromInstructions = instructions?.split(whereSeparator: \.isNewline).lazy
            .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        if let line = fromInstructions { return line }
        if let subject = firstCommitSubject?.trimmingCharacters(in: .whitespaces), !subject.isEmpty { return subject }
        return "grove: \(task) (run \(run))"
    }

    /// Reads what the body needs from the task's repository: commits on `tip` that neither the
    /// base branch nor the task's base commit has (oldest first) and the diffstat since base.
    static func make(
        task: TaskRecord, tip: ObjectID, repository: Repository, logLines: Int = 20
    ) -> PullRequestBody {
        var hidden: [ObjectID] = []
        if let base = try? repository.branch(named: task.base)?.target { hidden.append(base) }
        if let recorded = task.baseCommit.flatMap(ObjectID.init(hex:)), repository.hasObject(recorded) {
            hidden.append(recorded)
        }
        let (commits, more) = (try? Self.commits(from: tip, hiding: hidden, in: repository)) ?? ([], 0)
        var diffstat: [RunReport.FileChange] = []
        var note: String?
        if let since = hidden.first {
            do {
                diffstat = try repository.diffStat(of: tip, since: since).map {
                    RunReport.FileChange(
                        path: $0.path, oldPath: $0.oldPath, insertions: $0.insertions, deletions: $0.deletions,
                        binary: $0.isBinary)
                }
            } catch {
                note = "no diffstat: \(describe(error))"
            }
        } else {
            note = "no diffstat: neither \(task.base) nor the task's base commit is in \(task.repo)"
        }
        let command =
            task.command.count == 3 && task.command[0] == "/bin/sh" && task.command[1] == "-c"
            ? task.command[2] : task.command.map(ShellWord.quoted).joined(separator: " ")
        return PullRequestBody(
            title: title(
                instructions: task.instructions, firstCommitSubject: commits.first?.subject, task: task.name,
                run: task.run),
            run: task.run, task: task.name, instructions: task.instructions, command: command, seconds: task.seconds,
            branch: task.branch, base: task.base, diffstat: diffstat, diffstatNote: note, commits: commits,
            moreCommits: more, logTail: LogTail.lines(ofFileAt: task.log, count: logLines))
    }

    /// The commits reachable from `tip` and from none of `hidden`, parents before children
    /// (oldest first), at most `commitLimit` of them plus how many more there are.
    static func commits(from tip: ObjectID, hiding hidden: [ObjectID], in repository: Repository) throws
        -> ([CommitLine], Int)
    {
        var order: [Commit] = []
        var seen: Set<ObjectID> = []
        // Iterative depth-first walk, emitting a commit once all its (shown) parents are out.
        var stack: [(ObjectID, Bool)] = [(tip, false)]
        var visited = 0
        while let (id, expanded) = stack.popLast() {
            if expanded {
                order.append(try repository.commit(id))
                continue
            }
            guard !seen.contains(id) else { continue }
            seen.insert(id)
            visited += 1
            // Walking more than this means the base is not where grove thought: stop listing.
            guard visited <= 5_000 else { break }
            if try hidden.contains(where: { try repository.isAncestor(id, of: $0) }) { continue }
            let commit = try repository.commit(id)
            stack.append((id, true))
            for parent in commit.parents.reversed() where !seen.contains(parent) { stack.append((parent, false)) }
        }
        let lines = order.map { CommitLine(id: $0.id.short, subject: $0.summary) }
        return (Array(lines.prefix(commitLimit)), max(0, lines.count - commitLimit))
    }

    /// The Markdown document.
    public var markdown: String {
        var lines = ["# " + Markdown.inline(title), ""]
        if let instructions = instructions?.trimmingCharacters(in: .whitespacesAndNewlines), !instructions.isEmpty {
            for line in instructions.split(separator: "\n", omittingEmptySubsequences: false) {
                let text = line.hasSuffix("\r") ? line.dropLast() : line
                lines.append(text.isEmpty ? ">" : "> " + text)
            }
            lines.append("")
        }
        lines.append("- branch: \(Markdown.code(branch)) into \(Markdown.code(base))")
        lines.append("- task: \(Markdown.code(task)) of grove run \(run)")
        if command.contains("\n") {
            lines.append("- command:")
            lines.append("")
            let fence = Markdown.fence(for: [command])
            lines.append("  " + fence + "sh")
            lines += command.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
            lines.append("  " + fence)
        } else {
            lines.append("- command: \(Markdown.code(command))")
        }
        lines.append("- duration: " + (seconds.map { String(format: "%.1f s", $0) } ?? "unknown"))
        lines.append("")

        lines.append("## Changes")
        lines.append("")
        if let diffstatNote {
            lines.append("_\(Markdown.inline(diffstatNote))_")
        } else if diffstat.isEmpty {
            lines.append("_No changes._")
        } else {
            lines.append("| path | + | − |")
            lines.append("|---|---:|---:|")
            for file in diffstat {
                let path =
                    file.oldPath.map { "\(Markdown.cellCode($0)) → \(Markdown.cellCode(file.path))" }
                    ?? Markdown.cellCode(file.path)
                lines.append(
                    file.binary
                        ? "| \(path) (binary) | — | — |" : "| \(path) | \(file.insertions) | \(file.deletions) |")
            }
            if diffstat.count > 1 {
                let insertions = diffstat.reduce(0) { $0 + $1.insertions }
                let deletions = diffstat.reduce(0) { $0 + $1.deletions }
                lines.append("| **\(diffstat.count) files** | **\(insertions)** | **\(deletions)** |")
            }
        }
        lines.append("")

        lines.append("## Commits")
        lines.append("")
        for commit in commits { lines.append("- \(Markdown.code(commit.id)) \(Markdown.inline(commit.subject))") }
        if moreCommits > 0 { lines.append("- … and \(moreCommits) more") }
        if commits.isEmpty { lines.append("_None beyond \(Markdown.code(base))._") }
        lines.append("")

        lines.append("## Log")
        lines.append("")
        if logTail.isEmpty {
            lines.append("_The task printed nothing._")
        } else {
            let count = logTail.count
            lines.append("The last \(count == 1 ? "line" : "\(count) lines") of the task's output:")
            lines.append("")
            let fence = Markdown.fence(for: logTail)
            lines.append(fence + "text")
            lines += logTail
            lines.append(fence)
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
