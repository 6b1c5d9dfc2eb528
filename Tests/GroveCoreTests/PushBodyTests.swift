import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// The PR body of a pushed task: its title rule, what it reads from the repository (the
/// branch's own commits, oldest first, and its diffstat, against git), and its Markdown.
@Suite("push: PR body")
struct PushBodyTests {
    @Test func theTitleIsTheFirstLineOfTheInstructionsElseTheFirstCommit() {
        #expect(
            PullRequestBody.title(
                instructions: "\n  Fix the timeout  \nDetails follow", firstCommitSubject: "x", task: "t", run: 1)
                == "Fix the timeout")
        #expect(
            PullRequestBody.title(instructions: " \n", firstCommitSubject: "Add a note", task: "t", run: 1)
                == "Add a note")
        #expect(
            PullRequestBody.title(instructions: nil, firstCommitSubject: nil, task: "t", run: 4) == "grove: t (run 4)")
    }

    /// A task branch with two commits on a base that moved on: the commits and diffstat are
    /// the branch's own, as `git log base..branch` and `git diff --numstat base...branch` say.
    @Test func commitsAndDiffstatAreTheBranchsOwn() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["README.md": "hello\n", "a.txt": "1\n2\n3\n"])
        let start = try repo.revParse("HEAD")
        try repo.git("checkout", "-q", "-b", "grove/1/t")
        try repo.commit("First change", files: ["a.txt": "1\ntwo\n3\n"])
        let tip = try repo.commit("Second change\n\nwith a body", files: ["b.txt": "new\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("Base moved on", files: ["README.md": "hello again\n"])

        var task = TaskRecord(
            run: 1, name: "t", position: 0, repo: repo.path, base: "main", branch: "grove/1/t",
            worktree: sandbox.child("wt"), command: ["/bin/sh", "-c", "make fix"], instructions: nil,
            log: sandbox.child("t.log"), baseCommit: start)
        task.seconds = 12.34
        try "building\nrun ```weird``` fences\n".write(toFile: task.log, atomically: true, encoding: .utf8)
        let body = PullRequestBody.make(
            task: task, tip: try #require(ObjectID(hex: tip)), repository: try repo.open())

        let gitLog = try repo.output("log", "--reverse", "--format=%h %s", "main..grove/1/t")
        #expect(body.commits.map { "\($0.id) \($0.subject)" } == gitLog.components(separatedBy: "\n"))
        #expect(body.title == "First change")
        let numstat = try repo.output("diff", "--numstat", "main...grove/1/t")
        #expect(
            body.diffstat.map { "\($0.insertions)\t\($0.deletions)\t\($0.path)" }
                == numstat.components(separatedBy: "\n"))
        #expect(body.command == "make fix")
        #expect(body.logTail == ["building", "run ```weird``` fences"])

        let markdown = body.markdown
        #expect(markdown.hasPrefix("# First change\n\n- branch: `grove/1/t` into `main`\n"))
        #expect(markdown.contains("- command: `make fix`\n- duration: 12.3 s\n"))
        #expect(markdown.contains("| `a.txt` | 1 | 1 |\n| `b.txt` | 1 | 0 |\n| **2 files** | **2** | **1** |"))
        let ids = body.commits.map(\.id)
        #expect(markdown.contains("## Commits\n\n- `\(ids[0])` First change\n- `\(ids[1])` Second change\n"))
        // A fence longer than the log's own backtick runs, so the log cannot close it.
        #expect(markdown.contains("````text\nbuilding\nrun ```weird``` fences\n````\n"))
    }

    @Test func instructionsAreQuotedAndTaskDataCannotBreakTheDocument() {
        let body = PullRequestBody(
            title: "# Fix *it*", run: 2, task: "t", instructions: "# Fix *it*\n\nSee <https://x>\r\n", command: "a\nb",
            seconds: nil, branch: "grove/2/t", base: "main",
            diffstat: [RunReport.FileChange(path: "a|b.txt", oldPath: nil, insertions: 0, deletions: 0, binary: true)],
            diffstatNote: nil, commits: [PullRequestBody.CommitLine(id: "abc1234", subject: "Use `x` and *y*")],
            moreCommits: 3, logTail: [])
        let markdown = body.markdown
        #expect(markdown.hasPrefix("# \\# Fix \\*it\\*\n\n> # Fix *it*\n>\n> See <https://x>\n\n"))
        #expect(markdown.contains("- command:\n\n  ```sh\n  a\n  b\n  ```\n- duration: unknown\n"))
        #expect(markdown.contains("| `a\\|b.txt` (binary) | — | — |"))
        #expect(markdown.contains("- `abc1234` Use \\`x\\` and \\*y\\*\n- … and 3 more\n"))
        #expect(markdown.hasSuffix("## Log\n\n_The task printed nothing._\n"))
    }
}
