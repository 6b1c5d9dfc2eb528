// Tests for Fixtures/demo.sh (`make demo`): it runs the built grove end to end on a repository
// it generates, and must end exactly as designed — checked here again with the git CLI.
import Foundation
import Testing

extension FixturePaths {
    static let demo: String = root.appendingPathComponent("Fixtures/demo.sh").path

    /// The grove that `swift build` made next to this test runner (this target does not link
    /// grove: it runs the binary, like a user). A missing binary fails the test.
    static func groveBinary() throws -> String {
        let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // On some platforms the runner sits inside a bundle (…/X.xctest/Contents/MacOS/X).
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("grove").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw FixtureError(description: "no grove next to \(runner.path); run `swift build` first")
    }
}

extension FixturesTests {
    @Suite("demo.sh")
    struct DemoTests {
        /// main's commits, oldest first, after a demo that went as designed.
        static let mainHistory = [
            "Initial commit",
            "Demo: task file, pretend agents and tests",
            "grove: add-license (run 1)",
            "Docs: Usage section in README.md",
            "grove: changelog (run 1)",
            "Settings: retries = 3",
            "Style: alpha → Alpha in src/d000",
            "grove: docs-faq (run 1)",
        ]

        /// Runs the demo with the debug grove (or `grove`), no pauses, and `extra` environment.
        func demo(_ arguments: [String], grove: String? = nil, env extra: [String: String] = [:]) throws -> RunResult {
            let env = ["GROVE": try grove ?? FixturePaths.groveBinary(), "DEMO_PAUSE": "0"].merging(extra) { $1 }
            return try run([FixturePaths.demo] + arguments, env: env, timeout: 300)
        }

        @Test("lands six tasks in order, keeps the conflicting and the failed branch, leaves no worktree")
        func endToEnd() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let dir = s.path("demo")
            let r = try demo([dir.path])
            #expect(r.status == 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")

            // It shows each command before running it.
            let shown = r.lines.filter { $0.hasPrefix("+ ") }
            for command in [
                "+ grove run grove.yaml", "+ grove status", "+ grove logs migrate-users", "+ grove merge --plan",
                "+ grove merge --check 'sh check.sh'", "+ grove report", "+ grove clean",
            ] {
                #expect(shown.contains(command), "\(command) not shown in:\n\(shown.joined(separator: "\n"))")
            }
            #expect(r.stdout.contains("Remove it with: rm -rf \(dir.path)"))

            let repo = dir.appendingPathComponent("repo")
            #expect(try git(repo, "log", "--reverse", "--format=%s", "main").lines == Self.mainHistory)
            #expect(try git(repo, "show", "main:conflict.txt").lines.first == "retries = 3")
            #expect(try git(repo, "show", "main:LICENSE.md").lines.first == "# LICENSE")
            #expect(try git(repo, "show", "main:src/d000/f00001.txt").stdout.contains("Alpha "))
            #expect(try git(repo, "status", "--porcelain").stdout.isEmpty)

            // The conflicting task and the failed one keep their branches and commits.
            let branches = try git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").lines
            #expect(branches == ["grove/1/migrate-users", "grove/1/settings-strict", "main"])
            #expect(
                try git(repo, "log", "-1", "--format=%s", "grove/1/settings-strict").trimmed
                    == "Settings: strict = true")
            #expect(
                try git(repo, "log", "-1", "--format=%s", "grove/1/migrate-users").trimmed
                    == "Migrations: add users.email (step 1 of 2)")
            #expect(try git(repo, "merge-base", "--is-ancestor", "grove/1/settings-strict", "main").status == 1)

            // `grove clean` left no worktree: git sees only the main one, grove's home none.
            let worktrees = try git(repo, "worktree", "list", "--porcelain").lines.filter { $0.hasPrefix("worktree ") }
            #expect(worktrees == ["worktree \(repo.path)"])
            let runWorktrees = dir.appendingPathComponent("home/worktrees/1").path
            let left = (try? FileManager.default.contentsOfDirectory(atPath: runWorktrees)) ?? []
            #expect(left.isEmpty, "\(left)")
            #expect(try git(repo, "fsck", "--strict", "--no-progress").status == 0)
        }

        @Test("twice in a row, each time in a new directory of $TMPDIR; a directory in use is refused")
        func twiceInARow() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let tmp = s.path("tmp")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            var made: [String] = []
            for _ in 1...2 {
                let r = try demo([], env: ["TMPDIR": tmp.path])
                #expect(r.status == 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
                let removal = r.lines.first { $0.hasPrefix("# Remove it with: rm -rf ") }
                made.append(String(removal?.dropFirst("# Remove it with: rm -rf ".count) ?? ""))
            }
            #expect(Set(made).count == 2, "\(made)")
            let created = try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted()
            #expect(created.count == 2 && created.allSatisfy { $0.hasPrefix("grove-demo.") }, "\(created)")
            for path in made {
                #expect(path.hasPrefix(tmp.path + "/grove-demo."))
                let repo = URL(fileURLWithPath: path).appendingPathComponent("repo")
                #expect(try git(repo, "log", "--reverse", "--format=%s", "main").lines == Self.mainHistory)
            }

            // A directory that is not empty: refused, untouched.
            let busy = URL(fileURLWithPath: made[0])
            let before = try FileManager.default.contentsOfDirectory(atPath: busy.path).sorted()
            let again = try demo([busy.path])
            #expect(again.status == 2)
            #expect(again.stderr.contains("is not empty"), "\(again.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: busy.path).sorted() == before)
        }

        @Test("fails when grove misbehaves: an unexpected exit status, or an outcome other than designed")
        func misbehavingGrove() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let real = try FixturePaths.groveBinary()
            // A grove whose merge check always fails: merge still exits 1, as the demo expects,
            // but nothing lands, which its final checks must catch.
            let sabotaged = s.path("grove-check-fails")
            try """
            #!/bin/sh
            if [ "$1" = merge ] && [ "$2" = --check ]; then shift 3; exec "\(real)" merge --check false "$@"; fi
            exec "\(real)" "$@"
            """.write(to: sabotaged, atomically: true, encoding: .utf8)
            // A grove whose run reports success although a task failed.
            let optimistic = s.path("grove-run-exits-0")
            try """
            #!/bin/sh
            if [ "$1" = run ]; then "\(real)" "$@"; exit 0; fi
            exec "\(real)" "$@"
            """.write(to: optimistic, atomically: true, encoding: .utf8)
            for script in [sabotaged, optimistic] {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            }

            let checked = try demo([s.path("checked").path], grove: sabotaged.path)
            #expect(checked.status == 1, "stdout:\n\(checked.stdout)\nstderr:\n\(checked.stderr)")
            #expect(
                checked.stderr.contains("main's new commits (oldest first) is not as designed"), "\(checked.stderr)")
            #expect(!checked.stdout.contains("The demo behaved as designed"))

            let early = try demo([s.path("optimistic").path], grove: optimistic.path)
            #expect(early.status == 1)
            #expect(
                early.stderr.contains("`grove run grove.yaml` exited 0; the demo expects 1"),
                "\(early.stderr)")
            #expect(!early.stdout.contains("+ grove merge"), "the demo went on after the bad exit status")
        }

        @Test("without a grove binary, or with bad arguments: exit 2 and nothing made")
        func badInput() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let missing = try demo([s.path("a").path], grove: s.path("no-such-grove").path)
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("no grove binary at"), "\(missing.stderr)")
            #expect(!FileManager.default.fileExists(atPath: s.path("a").path))
            let extra = try demo([s.path("b").path, s.path("c").path])
            #expect(extra.status == 2)
            #expect(extra.stderr.contains("usage:"))
            #expect(!FileManager.default.fileExists(atPath: s.path("b").path))
        }
    }
}
