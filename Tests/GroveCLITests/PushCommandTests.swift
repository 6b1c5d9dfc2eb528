import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// `grove push` as a user runs it: the built binary after a real `grove run`, pushing to a bare
/// `origin`, with `git ls-remote` as the second opinion on what the remote holds.
@Suite("grove push")
struct PushCommandTests {
    let sandbox: Sandbox
    let repo: TestRepository
    let remote: String
    let home: String
    /// `$HOME` for grove and everything it starts: a directory of its own with a marker file,
    /// so a command that reached a shell with `rm -rf ~` would be seen.
    let userHome: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        remote = sandbox.child("remote.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        try repo.git("remote", "add", "origin", remote)
        try repo.git("push", "-q", "origin", "main")
        home = sandbox.child("home")
        userHome = sandbox.child("user")
        try FileManager.default.createDirectory(atPath: userHome, withIntermediateDirectories: true)
        try "keep\n".write(toFile: userHome + "/marker", atomically: true, encoding: .utf8)
    }

    var environment: [String: String] { ["GROVE_HOME": home, "HOME": userHome, "NO_COLOR": "1"] }

    func grove(_ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
        try Shell.run(
            [try builtBinary()] + arguments, in: directory ?? repo.path, environment: environment, check: false)
    }

    /// `git ls-remote` of the bare remote: ref → commit.
    func lsRemote() throws -> [String: String] {
        var refs: [String: String] = [:]
        for line in try Shell.run(["git", "ls-remote", remote]).lines {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { refs[String(parts[1])] = String(parts[0]) }
        }
        return refs
    }

    /// Run 1: three tasks that each commit a file.
    func runThreeTasks() throws {
        let result = try grove([
            "run", "--count", "3", "--name", "note", "--", "sh", "-c", "echo $GROVE_TASK > $GROVE_TASK.txt",
        ])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func store() throws -> StateStore { try StateStore(path: home + "/grove.sqlite") }

    @Test func pushesEveryTaskBranchThenSaysUpToDate() throws {
        try runThreeTasks()
        let names = ["note-1", "note-2", "note-3"]
        let result = try grove(["push"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == names.map { "\($0)  pushed      grove/1/\($0) → origin" })
        #expect(result.stderr.contains("grove: run 1 → origin: 3 pushed; PR bodies in \(home)/logs/1"))
        let refs = try lsRemote()
        for name in names {
            #expect(refs["refs/heads/grove/1/\(name)"] == (try repo.revParse("grove/1/\(name)")))
            #expect(FileManager.default.fileExists(atPath: "\(home)/logs/1/\(name).pr.md"))
        }
        #expect(try Shell.run(["git", "-C", remote, "fsck", "--no-progress"]).status == 0)

        let again = try grove(["push", "1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.lines == names.map { "\($0)  up to date  grove/1/\($0) → origin" })
        #expect(try lsRemote() == refs)

        let rows = try store().pushes(run: 1)
        #expect(rows.map(\.task) == names)
        #expect(rows.allSatisfy { $0.state == .upToDate && $0.remote == "origin" })
        #expect(try rows.map(\.commit) == names.map { try repo.revParse("grove/1/\($0)") })
        #expect(rows.first?.ref == "refs/heads/grove/1/note-1")
    }

    /// A clone of a clone: the remote is a repository with a working tree. The branches go
    /// there, but not the one checked out in it, which is refused on its own, with git's reason
    /// (`git push` from the same clone agrees) and what to do; `grove merge --push` likewise,
    /// until the remote lets pushes move its checkout (receive.denyCurrentBranch updateInstead).
    @Test func aCloneOfACloneTakesThePushButNotIntoItsCheckedOutBranch() throws {
        let origin = try sandbox.repository("origin", files: ["README.md": "hello\n"])
        let clone = sandbox.child("clone")
        try Shell.run(["git", "clone", "-q", origin.path, clone])
        let run = try grove(
            ["run", "--count", "3", "--name", "note", "--", "sh", "-c", "echo $GROVE_TASK > $GROVE_TASK.txt"],
            in: clone)
        #expect(run.status == 0, "\(run.stderr)")
        // The remote has note-2's branch checked out (still at main).
        try origin.git("switch", "-q", "-c", "grove/1/note-2")
        let checkedOut = try origin.revParse("grove/1/note-2")

        let pushed = try grove(["push"], in: clone)
        #expect(pushed.status == 1, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("note-1  pushed"))
        #expect(pushed.stdout.contains("note-3  pushed"))
        #expect(
            pushed.stdout.contains(
                "branch is currently checked out: origin (\(origin.path)) has grove/1/note-2 checked out in its"
                    + " working tree"))
        #expect(pushed.stdout.contains("`git -C \(origin.path) config receive.denyCurrentBranch updateInstead`"))
        #expect(pushed.stdout.contains("then run `grove push 1` again"))
        for name in ["note-1", "note-3"] {
            #expect(
                try origin.revParse("grove/1/\(name)")
                    == (try Shell.git("rev-parse", "grove/1/\(name)", in: clone).output))
        }
        #expect(try origin.revParse("grove/1/note-2") == checkedOut)
        #expect(try origin.porcelainStatus().isEmpty)
        #expect(try Shell.git("fsck", "--strict", "--no-dangling", in: origin.path).status == 0)
        let git = try Shell.run(["git", "-C", clone, "push", "--porcelain", "origin", "grove/1/note-2"], check: false)
        #expect(git.stdout.contains("[remote rejected] (branch is currently checked out)"))

        // grove merge --push: main is checked out there now.
        try origin.git("switch", "-q", "main")
        let merged = try grove(["merge", "1", "--push", "origin"], in: clone)
        #expect(merged.status == 1)
        #expect(merged.stdout.contains("  push main → origin: rejected (branch is currently checked out: origin"))
        #expect(try origin.output("log", "-1", "--format=%s", "main") == "initial")

        try origin.git("config", "receive.denyCurrentBranch", "updateInstead")
        let again = try grove(["merge", "1", "--push", "origin"], in: clone)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("  push main → origin: pushed\n"))
        #expect(try origin.revParse("main") == (try Shell.git("rev-parse", "main", in: clone).output))
        #expect(try origin.porcelainStatus().isEmpty)
        #expect(try origin.read("note-3.txt") == "note-3\n")
        #expect(try Shell.git("fsck", "--strict", "--no-dangling", in: origin.path).status == 0)
    }

    @Test func jsonHasEveryKeyForEveryTask() throws {
        try runThreeTasks()
        let result = try grove(["push", "--json", "--task", "note-2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["run"] as? Int == 1)
        #expect(object["interrupted"] as? Bool == false)
        #expect((object["not_pushed"] as? [Any])?.isEmpty == true)
        let tasks = try #require(object["tasks"] as? [[String: Any]])
        #expect(tasks.count == 1)
        let task = try #require(tasks.first)
        #expect(
            Set(task.keys) == [
                "task", "branch", "remote", "state", "reason", "commit", "pr_body", "pr_url", "pr_exit_code", "pr_log",
            ])
        #expect(task["state"] as? String == "pushed")
        #expect(task["commit"] as? String == (try repo.revParse("grove/1/note-2")))
        #expect(task["pr_body"] as? String == "\(home)/logs/1/note-2.pr.md")
        #expect(task["reason"] is NSNull)
        #expect(task["pr_url"] is NSNull)
        #expect(try lsRemote()["refs/heads/grove/1/note-1"] == nil)
    }

    /// Another clone moves a task branch on the remote: grove refuses to push over it, with or
    /// without --force-with-lease, and the remote keeps the other clone's commit.
    @Test func aBranchMovedOnTheRemoteIsRejectedAndLeftAlone() throws {
        try runThreeTasks()
        #expect(try grove(["push"]).status == 0)
        let other = sandbox.child("other")
        try Shell.run(["git", "clone", "-q", "-b", "grove/1/note-1", remote, other])
        try Shell.git("commit", "-q", "--allow-empty", "-m", "theirs", in: other)
        try Shell.git("push", "-q", "origin", "grove/1/note-1", in: other)
        let theirs = try Shell.git("rev-parse", "HEAD", in: other).output
        // grove's branch moves on too, so neither contains the other.
        try Shell.git("commit", "-q", "--allow-empty", "-m", "ours", in: home + "/worktrees/1/note-1")

        let plain = try grove(["push"])
        #expect(plain.status == 1)
        let line = try #require(plain.lines.first)
        #expect(
            line.hasPrefix("note-1  rejected: fetch first: origin's grove/1/note-1 has commits the local branch lacks"))
        #expect(line.hasSuffix("replace it with `grove push --force-with-lease`"))
        #expect(
            plain.lines.dropFirst() == [
                "note-2  up to date  grove/1/note-2 → origin", "note-3  up to date  grove/1/note-3 → origin",
            ])
        #expect(plain.stderr.contains("grove: run 1 → origin: 2 up to date, 1 rejected;"), "\(plain.stderr)")
        #expect(try lsRemote()["refs/heads/grove/1/note-1"] == theirs)

        let lease = try grove(["push", "--force-with-lease", "--task", "note-1"])
        #expect(lease.status == 1)
        let pushed = try store().push(run: 1, task: "note-1", remote: "origin")
        let expected = try #require(pushed?.commit)
        #expect(
            lease.lines.first?.hasPrefix(
                "note-1  rejected: stale info: the remote has refs/heads/grove/1/note-1 at \(theirs.prefix(7)),"
                    + " expected \(expected.prefix(7)) (where grove last pushed it)") == true, "\(lease.stdout)")
        #expect(try lsRemote()["refs/heads/grove/1/note-1"] == theirs)
        #expect(pushed?.state == .rejected)
    }

    /// The task branch was rewritten (here: amended) while the remote still holds what grove
    /// pushed: a plain push is refused, --force-with-lease replaces it.
    @Test func forceWithLeaseReplacesWhatGroveItselfPushed() throws {
        try runThreeTasks()
        #expect(try grove(["push"]).status == 0)
        let worktree = home + "/worktrees/1/note-2"
        let pushed = try repo.revParse("grove/1/note-2")
        try Shell.git("commit", "-q", "--amend", "-m", "reworded", in: worktree)
        let rewritten = try repo.revParse("grove/1/note-2")

        let plain = try grove(["push", "--task", "note-2"])
        #expect(plain.status == 1)
        #expect(plain.lines.first?.hasPrefix("note-2  rejected: non-fast-forward: ") == true, "\(plain.stdout)")
        #expect(try lsRemote()["refs/heads/grove/1/note-2"] == pushed)

        let lease = try grove(["push", "--force-with-lease", "--task", "note-2"])
        #expect(lease.status == 0, "\(lease.stdout)\(lease.stderr)")
        #expect(lease.lines == ["note-2  pushed      grove/1/note-2 → origin"])
        #expect(try lsRemote()["refs/heads/grove/1/note-2"] == rewritten)
        #expect(try store().push(run: 1, task: "note-2", remote: "origin")?.commit == rewritten)
        // Up to date stays up to date under the lease.
        let again = try grove(["push", "--force-with-lease"])
        #expect(again.status == 0, "\(again.stdout)")
        #expect(again.lines.count == 3)
        #expect(again.lines.allSatisfy { $0.contains("up to date") })
    }

    /// A failed task and one without commits are not pushed; naming one with --task fails the
    /// command; an unknown task is bad input and does nothing.
    @Test func onlySucceededTasksWithCommitsArePushed() throws {
        let run = try grove([
            "run", "--count", "3", "--name", "t", "--", "sh", "-c",
            #"case $GROVE_TASK in t-1) echo a > a.txt;; t-2) exit 3;; esac"#,
        ])
        #expect(run.status == 1)
        let result = try grove(["push"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "t-1  pushed      grove/1/t-1 → origin",
                "t-2  not pushed: the task failed; only succeeded tasks are pushed",
                "t-3  not pushed: no commits: the task changed nothing",
            ])
        #expect(result.stderr.contains("1 pushed; 2 not pushed"))
        let refs = try lsRemote()
        #expect(Set(refs.keys).subtracting(["HEAD"]) == ["refs/heads/main", "refs/heads/grove/1/t-1"])

        let named = try grove(["push", "--task", "t-2"])
        #expect(named.status == 1)
        #expect(named.lines == ["t-2  not pushed: the task failed; only succeeded tasks are pushed"])

        let rows = try store().pushes(run: 1)
        let unknown = try grove(["push", "--task", "t-9", "--task", "t-1"])
        #expect(unknown.status == ExitStatus.badInput)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr.hasPrefix("error: run 1 has no task named 't-9'"))
        #expect(try store().pushes(run: 1) == rows)
        let noRun = try grove(["push", "7"])
        #expect(noRun.status == ExitStatus.badInput)
        #expect(noRun.stderr == "error: there is no run 7: `grove status` lists the latest run\n")
    }

    @Test func aRepositoryWithoutTheRemoteFailsWithTheFix() throws {
        try runThreeTasks()
        let result = try grove(["push", "--remote", "upstream", "--task", "note-1"])
        #expect(result.status == 1)
        #expect(
            result.lines == [
                "note-1  failed: \(repo.path) has no remote 'upstream'; add it with"
                    + " `git -C \(repo.path) remote add upstream URL`, or name another with --remote"
            ])
        #expect(try store().push(run: 1, task: "note-1", remote: "upstream")?.state == .failed)
        let url = try grove(["push", "--remote", "https://example.com/r.git"])
        #expect(url.status == ExitStatus.badInput)
        #expect(url.stderr.hasPrefix("error: --remote takes a remote's name, not a URL or path"))
    }

    @Test func aBranchLandedAndRemovedByMergeFailsWithThatReason() throws {
        try runThreeTasks()
        let merged = try grove(["merge", "--json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let result = try grove(["push", "--task", "note-3"])
        #expect(result.status == 1)
        #expect(
            result.lines == [
                "note-3  failed: grove/1/note-3 no longer exists: `grove merge` landed it in main and removed it"
            ])
    }

    /// The PR body: title from the instructions, the instructions, the command, the diffstat,
    /// the commits, and the log's end in a fence its backticks cannot close.
    @Test func thePullRequestBodyDescribesTheTask() throws {
        let file = sandbox.child("grove.yaml")
        try """
        command: "echo 'one ``` two' && echo fixed > fix.txt"
        tasks:
          - name: fix-auth
            repo: repo
            instructions: "Fix the auth timeout\\nRetry twice, then give up."
          - name: no-words
            repo: repo
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try grove(["run", file], in: sandbox.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try grove(["push"]).status == 0)

        let body = try String(contentsOfFile: home + "/logs/1/fix-auth.pr.md", encoding: .utf8)
        let commit = String(try repo.revParse("grove/1/fix-auth").prefix(7))
        let expected = """
            # Fix the auth timeout

            > Fix the auth timeout
            > Retry twice, then give up.

            - branch: `grove/1/fix-auth` into `main`
            - task: `fix-auth` of grove run 1
            - command: ````echo 'one ``` two' && echo fixed > fix.txt````
            """
        #expect(body.hasPrefix(expected + "\n- duration: "), "\(body)")
        #expect(body.contains("## Changes\n\n| path | + | − |\n|---|---:|---:|\n| `fix.txt` | 1 | 0 |\n"))
        #expect(body.contains("## Commits\n\n- `\(commit)` grove: fix-auth (run 1)\n"))
        #expect(body.hasSuffix("## Log\n\nThe last line of the task's output:\n\n````text\none ``` two\n````\n"))
        // Without instructions, the title is the first commit's subject.
        let other = try String(contentsOfFile: home + "/logs/1/no-words.pr.md", encoding: .utf8)
        #expect(other.hasPrefix("# grove: no-words (run 1)\n\n- branch: `grove/1/no-words`"))
    }

    /// A PR command records its arguments: every placeholder arrives as one intact argument,
    /// whatever the task's instructions or branch hold, and nothing else runs. A second push
    /// of unchanged branches does not open another PR.
    @Test func thePullRequestCommandRunsNothingButItself() throws {
        let file = sandbox.child("grove.yaml")
        try #"""
        command: "echo \"$GROVE_TASK\" > \"$GROVE_TASK.txt\""
        tasks:
          - name: rm-home
            repo: repo
            instructions: '"; rm -rf ~ #'
          - name: a-b.c_d
            repo: repo
            instructions: "'; touch canary; '\n$(touch canary) `touch canary`"
            branch: 'pr/{task}/$(touch$IFS"canary");x&y|z'
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try grove(["run", file], in: sandbox.path)
        #expect(run.status == 0, "\(run.stderr)")
        let recorder = sandbox.child("record-argv.sh")
        try """
        #!/bin/sh
        out="$RECORD_DIR/argv-$GROVE_PR_TASK"
        : > "$out"
        for argument in "$@"; do printf '%s\\0' "$argument" >> "$out"; done
        echo "opened https://example.test/pr/$GROVE_PR_TASK"
        """.write(toFile: recorder, atomically: true, encoding: .utf8)
        let command = "RECORD_DIR=\(sandbox.path) sh \(recorder) {task} {title} \"{branch}\" '{base}' {body} {repo}"

        let result = try grove(["push", "--pr-command", command])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let branch = #"pr/a-b.c_d/$(touch$IFS"canary");x&y|z"#
        #expect(
            result.lines == [
                "rm-home  pushed      grove/1/rm-home → origin  PR: https://example.test/pr/rm-home",
                "a-b.c_d  pushed      \(branch) → origin  PR: https://example.test/pr/a-b.c_d",
            ])
        func argv(_ task: String) throws -> [String] {
            let data = try Data(contentsOf: URL(fileURLWithPath: sandbox.child("argv-\(task)")))
            return data.split(separator: 0, omittingEmptySubsequences: false).dropLast()
                .map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(
            try argv("rm-home") == [
                "rm-home", #""; rm -rf ~ #"#, "grove/1/rm-home", "main", "\(home)/logs/1/rm-home.pr.md", repo.path,
            ])
        #expect(
            try argv("a-b.c_d") == [
                "a-b.c_d", "'; touch canary; '", branch, "main", "\(home)/logs/1/a-b.c_d.pr.md", repo.path,
            ])
        // Nothing the task data held ran: no canary anywhere, the fake home is intact.
        for directory in [repo.path, sandbox.path, home, home + "/worktrees/1/a-b.c_d", userHome] {
            #expect(!FileManager.default.fileExists(atPath: directory + "/canary"), "\(directory)/canary")
        }
        #expect(FileManager.default.fileExists(atPath: userHome + "/marker"))
        #expect(try lsRemote()["refs/heads/\(branch)"] == (try repo.revParse("refs/heads/\(branch)")))
        let row = try store().push(run: 1, task: "a-b.c_d", remote: "origin")
        #expect(row?.prURL == "https://example.test/pr/a-b.c_d")
        #expect(row?.prExitCode == 0)
        #expect(row?.prLog == "\(home)/logs/1/a-b.c_d.pr.log")
        #expect(
            try String(contentsOfFile: home + "/logs/1/a-b.c_d.pr.log", encoding: .utf8)
                == "opened https://example.test/pr/a-b.c_d\n")

        // Unchanged branches: the PRs exist, the command does not run again.
        try FileManager.default.removeItem(atPath: sandbox.child("argv-rm-home"))
        let again = try grove(["push", "--pr-command", command])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            again.lines.first
                == "rm-home  up to date  grove/1/rm-home → origin  PR exists: https://example.test/pr/rm-home")
        #expect(!FileManager.default.fileExists(atPath: sandbox.child("argv-rm-home")))
    }

    /// A failing PR command fails the command (exit 1) but the push stands.
    @Test func aFailingPullRequestCommandExitsOneAndThePushStands() throws {
        try runThreeTasks()
        let result = try grove(["push", "--task", "note-1", "--pr-command", "echo no luck >&2; exit 4"])
        #expect(result.status == 1)
        let log = "\(home)/logs/1/note-1.pr.log"
        #expect(
            result.lines == [
                "note-1  pushed      grove/1/note-1 → origin  PR command failed (exit 4), see \(log)"
            ])
        #expect(result.stderr.contains("1 PR command failed"))
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "no luck\n")
        #expect(try lsRemote()["refs/heads/grove/1/note-1"] == (try repo.revParse("grove/1/note-1")))
        let row = try store().push(run: 1, task: "note-1", remote: "origin")
        #expect(row?.state == .pushed)
        #expect(row?.prExitCode == 4)
        // Not a PR that exists: the next push tries again.
        let again = try grove(["push", "--task", "note-1", "--pr-command", "echo https://example.test/pr/1"])
        #expect(again.status == 0)
        #expect(again.lines == ["note-1  up to date  grove/1/note-1 → origin  PR: https://example.test/pr/1"])
    }

    /// `grove status` and `grove report` show what each push and PR command did.
    @Test func statusAndReportShowPushAndPullRequestResults() throws {
        try runThreeTasks()
        _ = try grove(["push", "--task", "note-1", "--pr-command", "echo https://example.test/pr/{task}"])
        // Someone else moves note-2's remote branch; grove's next push of it is refused.
        _ = try grove(["push", "--task", "note-2"])
        let other = sandbox.child("other")
        try Shell.run(["git", "clone", "-q", "-b", "grove/1/note-2", remote, other])
        let clone = TestRepository(existing: other)
        try clone.git("config", "user.name", "Other")
        try clone.git("config", "user.email", "other@example.com")
        _ = try clone.commit("theirs", files: ["theirs.txt": "x\n"])
        try clone.git("push", "-q", "origin", "grove/1/note-2")
        try repo.git("-C", sandbox.child("home") + "/worktrees/1/note-2", "commit", "-q", "--allow-empty", "-m", "ours")
        #expect(try grove(["push", "--task", "note-2"]).status == 1)

        let json = try grove(["status", "--json"])
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(json.stdout.utf8))
        let pushes = report.tasks.map(\.pushes)
        #expect(pushes[0].map(\.state) == [.pushed])
        #expect(pushes[0].first?.prURL == "https://example.test/pr/note-1")
        #expect(pushes[1].map(\.state) == [.rejected])
        #expect(pushes[2].isEmpty)
        let text = try grove(["status"]).stdout
        #expect(text.contains("pushed + PR"), "\(text)")
        #expect(text.contains("note-1: pull request https://example.test/pr/note-1"), "\(text)")
        #expect(text.contains("note-2: push to origin rejected: "), "\(text)")
        let markdown = try grove(["report", "--format", "md"]).stdout
        #expect(markdown.contains("- push to `origin`: pushed at `"), "\(markdown)")
        #expect(markdown.contains("- pull request: https://example.test/pr/note-1"), "\(markdown)")
    }

    /// Ctrl-C during a PR command ends its process group, runs no further PR command, and
    /// exits 130; the pushes done stand and are recorded.
    @Test func ctrlCEndsTheRunningPullRequestCommandAndStartsNoOther() throws {
        try runThreeTasks()
        let marker = "31.4159"
        let command = "touch \"$GROVE_PR_BODY.started\"; sleep \(marker) & wait"
        let push = try BackgroundProcess(
            [try builtBinary(), "push", "--pr-command", command], in: repo.path, environment: environment)
        let started = "\(home)/logs/1/note-1.pr.md.started"
        #expect(eventually { FileManager.default.fileExists(atPath: started) })
        #expect(eventually { !ProcessTable.running(withArgument: marker).isEmpty })
        push.send(SIGINT)
        let result = push.wait(limit: .seconds(30))
        #expect(result.status == ExitStatus.interrupted, "\(result.stdout)\(result.stderr)")
        #expect(eventually(within: .seconds(10)) { ProcessTable.running(withArgument: marker).isEmpty })
        #expect(!FileManager.default.fileExists(atPath: "\(home)/logs/1/note-2.pr.md.started"))
        let lines = result.lines
        #expect(lines.count == 3)
        #expect(
            lines.first?.hasPrefix("note-1  pushed      grove/1/note-1 → origin  PR command failed (signal ") == true)
        #expect(lines.dropFirst().allSatisfy { $0.hasSuffix("PR command not run: grove was interrupted") })
        #expect(result.stderr.contains("(interrupted)"))
        let rows = try store().pushes(run: 1)
        #expect(rows.map(\.state) == [.pushed, .pushed, .pushed])
        #expect(try lsRemote()["refs/heads/grove/1/note-3"] == (try repo.revParse("grove/1/note-3")))
    }
}
