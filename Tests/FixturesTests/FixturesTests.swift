// Tests for Fixtures/make-repo.sh and the fake agents in Fixtures/agents/.
// They run the real scripts and the real git CLI, with the user's git config ignored.
import Foundation
import Testing

// MARK: - Helpers

/// Paths of the fixtures, found from this file's location (Tests/FixturesTests/ → root).
enum FixturePaths {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FixturesTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
    static let makeRepo: String = root.appendingPathComponent("Fixtures/make-repo.sh").path
    static func agent(_ name: String) -> String {
        root.appendingPathComponent("Fixtures/agents/\(name)").path
    }
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var signaled: Bool
    var trimmed: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}

struct ProcessTimeout: Error, CustomStringConvertible {
    var command: [String]
    var description: String { "timed out: \(command.joined(separator: " "))" }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// The environment every child gets: the test's own, minus GIT_* / GROVE_* variables,
/// with global and system git configuration disabled.
func isolatedEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment.filter { key, _ in
        !key.hasPrefix("GIT_") && !key.hasPrefix("GROVE_")
    }
    env["GIT_CONFIG_GLOBAL"] = "/dev/null"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["LC_ALL"] = "C"
    for (k, v) in extra { env[k] = v }
    return env
}

/// A unique scratch directory, removed by `cleanup()`.
struct Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("grove-fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> URL { url.appendingPathComponent(name) }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Runs `argv` (argv[0] is an absolute path, or a name looked up in PATH via
/// /usr/bin/env), captures stdout/stderr through temporary files (no pipe deadlocks),
/// and kills it if it outlives `timeout`.
@discardableResult
func run(
    _ argv: [String], in cwd: URL? = nil, env extra: [String: String] = [:],
    timeout: TimeInterval = 30
) throws -> RunResult {
    let capture = FileManager.default.temporaryDirectory
        .appendingPathComponent("grove-fixtures-out-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: capture) }
    let outURL = capture.appendingPathComponent("stdout")
    let errURL = capture.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)

    let process = Process()
    if argv[0].hasPrefix("/") {
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
    }
    if let cwd { process.currentDirectoryURL = cwd }
    process.environment = isolatedEnvironment(extra)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline {
        Thread.sleep(forTimeInterval: 0.005)
    }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        throw ProcessTimeout(command: argv)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return RunResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
        signaled: process.terminationReason == .uncaughtSignal)
}

/// `git -C repo ARGS...`
@discardableResult
func git(_ repo: URL, _ args: String...) throws -> RunResult {
    try run(["git", "-C", repo.path] + args)
}

/// Builds a repository with make-repo.sh and expects success.
func makeRepo(
    _ dir: URL, files: Int, branches: Int, options: [String] = [], env: [String: String] = [:]
) throws {
    let r = try run([FixturePaths.makeRepo] + options + [dir.path, String(files), String(branches)], env: env)
    #expect(r.status == 0, "make-repo failed: \(r.stderr)")
    if r.status != 0 { throw FixtureError(description: "make-repo.sh exited \(r.status): \(r.stderr)") }
}

func refs(_ repo: URL) throws -> [String] {
    try git(repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/").lines
}

// MARK: - Suites

/// Everything runs serially: Foundation's Process on Linux notices a child's exit through a
/// socket the child inherits, and processes spawned concurrently from other threads can
/// inherit each other's sockets; long-lived children (hang.sh, spawn-background.sh) would
/// then make unrelated processes look alive. One at a time avoids that cross-talk.
@Suite("Fixtures", .serialized)
struct FixturesTests {}

// MARK: - make-repo.sh

extension FixturesTests {
    @Suite("make-repo.sh")
    struct MakeRepoTests {
        @Test("layout: files, folders, branches, one commit per branch, clean and fsck-clean")
        func layout() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = s.path("repo")
            try makeRepo(repo, files: 250, branches: 5, options: ["--conflict", "2,4"])

            let files = try git(repo, "ls-files").lines
            #expect(files.count == 252)
            #expect(files.contains("README.md"))
            #expect(files.contains("conflict.txt"))
            let generated = files.filter { $0.hasPrefix("src/") }
            #expect(generated.count == 250)
            let folders = Dictionary(grouping: generated) { $0.split(separator: "/")[1] }
            #expect(folders.count == 3)
            #expect(folders.values.map(\.count).max() == 100)
            // Each generated file has a few lines of content.
            let sample = try String(contentsOf: repo.appendingPathComponent(generated[0]), encoding: .utf8)
            #expect(sample.split(separator: "\n").count >= 3)

            #expect(try git(repo, "symbolic-ref", "HEAD").trimmed == "refs/heads/main")
            #expect(try git(repo, "rev-parse", "--is-bare-repository").trimmed == "false")
            let branches = try git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").lines
            #expect(Set(branches) == Set(["main"] + (1...5).map { "task-\($0)" }))
            #expect(try git(repo, "rev-list", "--count", "main").trimmed == "1")

            for k in 1...5 {
                let counts = try git(repo, "rev-list", "--left-right", "--count", "main...task-\(k)")
                #expect(counts.trimmed.split(whereSeparator: \.isWhitespace) == ["0", "1"], "task-\(k)")
                let changed = try git(repo, "diff", "--name-only", "main", "task-\(k)").lines
                let expected =
                    [2, 4].contains(k)
                    ? ["conflict.txt", "tasks/task-\(k).txt"] : ["tasks/task-\(k).txt"]
                #expect(changed.sorted() == expected, "task-\(k)")
            }
            let line1 = try git(repo, "show", "task-4:conflict.txt").lines.first
            #expect(line1 == "line 1: changed by task-4")
            #expect(
                try git(repo, "show", "task-3:conflict.txt").lines
                    == git(repo, "show", "main:conflict.txt").lines)

            let ident = try git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "task-1").trimmed
            #expect(ident == "Fixture <fixture@example.com>|Fixture <fixture@example.com>")
            #expect(try git(repo, "config", "--local", "user.name").trimmed == "Fixture")
            #expect(try git(repo, "config", "--local", "user.email").trimmed == "fixture@example.com")

            let status = try git(repo, "status", "--porcelain", "--untracked-files=all")
            #expect(status.status == 0)
            #expect(status.stdout.isEmpty, "status not clean: \(status.stdout)")
            let fsck = try git(repo, "fsck", "--strict", "--no-progress")
            #expect(fsck.status == 0, "fsck: \(fsck.stdout) \(fsck.stderr)")
        }

        @Test("--conflict branches conflict with each other, and only with each other")
        func conflicts() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = s.path("repo")
            try makeRepo(repo, files: 20, branches: 4, options: ["--conflict", "2,3"])

            let clash = try git(repo, "merge-tree", "--write-tree", "--name-only", "task-2", "task-3")
            #expect(clash.status == 1)
            #expect(clash.lines.dropFirst().contains("conflict.txt"), "\(clash.stdout)")
            #expect(try git(repo, "merge-tree", "--write-tree", "task-1", "task-2").status == 0)
            #expect(try git(repo, "merge-tree", "--write-tree", "task-1", "task-4").status == 0)
            #expect(try git(repo, "merge-tree", "--write-tree", "task-3", "task-4").status == 0)

            // First to land wins; the later one conflicts with the new main.
            #expect(try git(repo, "merge", "-q", "--ff-only", "task-3").status == 0)
            #expect(try git(repo, "merge-tree", "--write-tree", "main", "task-2").status == 1)
            #expect(try git(repo, "merge-tree", "--write-tree", "main", "task-1").status == 0)
        }

        @Test("ids are identical from run to run, whatever the caller's git config and environment")
        func deterministic() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let a = s.path("a")
            let b = s.path("b")
            let c = s.path("c")
            try makeRepo(a, files: 120, branches: 3, options: ["--conflict", "1,3"])

            // A hostile caller: its own global config, system config allowed, dates and TZ set.
            let home = s.path("home")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            let config = home.appendingPathComponent(".gitconfig")
            try """
            [user]
            \tname = Somebody Else
            \temail = else@example.org
            [init]
            \tdefaultBranch = trunk
            [core]
            \tautocrlf = true
            """.write(to: config, atomically: true, encoding: .utf8)
            let hostile = [
                "HOME": home.path, "GIT_CONFIG_GLOBAL": config.path, "GIT_CONFIG_NOSYSTEM": "0",
                "GIT_AUTHOR_DATE": "2001-02-03T04:05:06", "GIT_COMMITTER_DATE": "2001-02-03T04:05:06",
                "GIT_AUTHOR_NAME": "Intruder", "GIT_COMMITTER_NAME": "Intruder", "TZ": "Asia/Tokyo",
            ]
            try makeRepo(b, files: 120, branches: 3, options: ["--conflict", "1,3"], env: hostile)
            try makeRepo(c, files: 120, branches: 3, options: ["--conflict", "1,2"])

            let refsA = try refs(a)
            #expect(refsA.count == 4)
            #expect(refsA == (try refs(b)))
            #expect(try git(b, "config", "--local", "user.name").trimmed == "Fixture")
            #expect(try git(b, "symbolic-ref", "HEAD").trimmed == "refs/heads/main")
            #expect(try git(b, "status", "--porcelain").stdout.isEmpty)
            let readme = try Data(contentsOf: b.appendingPathComponent("README.md"))
            #expect(!readme.contains(UInt8(ascii: "\r")), "work tree written with the caller's autocrlf")
            // Sanity: the comparison does see a difference when the input differs.
            #expect(refsA != (try refs(c)))
            #expect(try git(a, "rev-parse", "main").trimmed == git(c, "rev-parse", "main").trimmed)
        }

        @Test("--bare makes a bare repository with the same content")
        func bare() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = s.path("bare.git")
            let plain = s.path("plain")
            try makeRepo(repo, files: 150, branches: 3, options: ["--bare"])
            try makeRepo(plain, files: 150, branches: 3)
            #expect(try git(repo, "rev-parse", "--is-bare-repository").trimmed == "true")
            #expect(try git(repo, "ls-tree", "-r", "--name-only", "main").lines.count == 152)
            #expect(try git(repo, "for-each-ref", "refs/heads/").lines.count == 4)
            #expect(try git(repo, "fsck", "--strict", "--no-progress").status == 0)
            #expect(!FileManager.default.fileExists(atPath: repo.appendingPathComponent("src").path))
            #expect(try refs(repo) == refs(plain))
        }

        @Test("an existing empty directory is accepted; zero files and branches work")
        func emptyDirectory() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = s.path("empty")
            try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: false)
            try makeRepo(repo, files: 0, branches: 0)
            #expect(try git(repo, "ls-files").lines.sorted() == ["README.md", "conflict.txt"])
            #expect(try git(repo, "for-each-ref", "refs/heads/").lines.count == 1)
            #expect(try git(repo, "status", "--porcelain").stdout.isEmpty)
        }

        @Test(
            "bad arguments exit 2 with a usage message and create nothing",
            arguments: [
                [String](),
                ["DIR"],
                ["DIR", "10"],
                ["DIR", "10", "2", "extra"],
                ["DIR", "ten", "2"],
                ["DIR", "10", "-1"],
                ["DIR", "10", "2.5"],
                ["--conflict", "3", "DIR", "10", "2"],
                ["--conflict", "0", "DIR", "10", "2"],
                ["--conflict", "1,x", "DIR", "10", "2"],
                ["--conflict", "", "DIR", "10", "2"],
                ["--frobnicate", "DIR", "10", "2"],
                ["DIR", "10", "2", "--conflict"],
            ])
        func badArguments(_ args: [String]) throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let dir = s.path("repo")
            let argv = args.map { $0 == "DIR" ? dir.path : $0 }
            let r = try run([FixturePaths.makeRepo] + argv)
            #expect(r.status == 2, "args \(args): stderr \(r.stderr)")
            #expect(r.stderr.contains("usage:"))
            #expect(!FileManager.default.fileExists(atPath: dir.path))
        }

        @Test("a non-empty DIR, or a DIR that is a file, is refused with exit 2")
        func nonEmptyDirectory() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let dir = s.path("busy")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
            _ = FileManager.default.createFile(
                atPath: dir.appendingPathComponent("keep").path, contents: Data("x".utf8))
            let r = try run([FixturePaths.makeRepo, dir.path, "5", "1"])
            #expect(r.status == 2)
            #expect(r.stderr.contains("not empty"))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path))

            let file = s.path("file")
            _ = FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
            #expect(try run([FixturePaths.makeRepo, file.path, "5", "1"]).status == 2)
        }
    }

}

// MARK: - agents

extension FixturesTests {
    @Suite("agent scripts")
    struct AgentTests {
        /// A fresh small repository; the caller cleans `s`.
        func freshRepo(_ s: Scratch) throws -> URL {
            let repo = s.path("repo")
            try makeRepo(repo, files: 10, branches: 0)
            return repo
        }

        func head(_ repo: URL) throws -> String { try git(repo, "rev-parse", "HEAD").trimmed }

        @Test("all agent scripts exist, are executable and document themselves")
        func executable() throws {
            for name in [
                "edit-commit.sh", "edit-no-commit.sh", "edit-delete.sh", "fail.sh", "hang.sh",
                "spawn-background.sh", "print-lots.sh", "conflict-edit.sh",
            ] {
                let path = FixturePaths.agent(name)
                #expect(FileManager.default.isExecutableFile(atPath: path), "\(name)")
                let text = try String(contentsOfFile: path, encoding: .utf8)
                #expect(text.hasPrefix("#!/bin/sh\n# \(name)"), "\(name) header")
            }
            #expect(FileManager.default.isExecutableFile(atPath: FixturePaths.makeRepo))
        }

        @Test("edit-commit.sh: one new commit, clean tree")
        func editCommit() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = try freshRepo(s)
            let before = try head(repo)
            let r = try run([FixturePaths.agent("edit-commit.sh")], in: repo, env: ["GROVE_TASK": "alpha"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try git(repo, "rev-list", "--count", "\(before)..HEAD").trimmed == "1")
            #expect(try git(repo, "status", "--porcelain").stdout.isEmpty)
            #expect(try git(repo, "diff", "--name-only", before, "HEAD").lines == ["agent-alpha.txt"])
            #expect(try git(repo, "show", "HEAD:agent-alpha.txt").trimmed == "edited by alpha")
            #expect(try git(repo, "log", "-1", "--format=%s").trimmed == "alpha: edit agent-alpha.txt")

            // With a file argument, and GROVE_TASK unset: edits that file as task "agent".
            let second = try head(repo)
            let r2 = try run([FixturePaths.agent("edit-commit.sh"), "README.md"], in: repo)
            #expect(r2.status == 0, "\(r2.stderr)")
            #expect(try git(repo, "rev-list", "--count", "\(second)..HEAD").trimmed == "1")
            #expect(try git(repo, "diff", "--name-only", second, "HEAD").lines == ["README.md"])
            #expect(try git(repo, "show", "HEAD:README.md").lines.last == "edited by agent")
            #expect(try git(repo, "status", "--porcelain").stdout.isEmpty)
        }

        @Test("edit-commit.sh works without any configured identity")
        func editCommitNoIdentity() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = try freshRepo(s)
            try git(repo, "config", "--unset", "user.name")
            try git(repo, "config", "--unset", "user.email")
            let r = try run([FixturePaths.agent("edit-commit.sh")], in: repo, env: ["GROVE_TASK": "anon"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try git(repo, "log", "-1", "--format=%an <%ae>").trimmed == "Agent <agent@example.com>")
        }

        @Test("edit-no-commit.sh: dirty tree, no new commit")
        func editNoCommit() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = try freshRepo(s)
            let before = try head(repo)
            let r = try run([FixturePaths.agent("edit-no-commit.sh")], in: repo, env: ["GROVE_TASK": "beta"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try head(repo) == before)
            let status = try git(repo, "status", "--porcelain").lines.sorted()
            #expect(status == [" M README.md", "?? agent-beta.txt"])
        }

        @Test("edit-delete.sh: a tracked file deleted, an untracked one added, no commit")
        func editDelete() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = try freshRepo(s)
            let before = try head(repo)
            let r = try run([FixturePaths.agent("edit-delete.sh")], in: repo, env: ["GROVE_TASK": "gamma"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try head(repo) == before)
            #expect(try git(repo, "status", "--porcelain").lines.sorted() == [" D README.md", "?? new-gamma.txt"])

            let missing = try run([FixturePaths.agent("edit-delete.sh"), "no-such-file"], in: repo)
            #expect(missing.status == 1)
        }

        @Test("fail.sh: message on stderr, exit 3, nothing changed")
        func fail() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = try freshRepo(s)
            let r = try run([FixturePaths.agent("fail.sh")], in: repo, env: ["GROVE_TASK": "delta"])
            #expect(r.status == 3)
            #expect(!r.signaled)
            #expect(r.stderr.contains("delta"))
            #expect(r.stderr.contains("failed"))
            #expect(try git(repo, "status", "--porcelain").stdout.isEmpty)
        }

        @Test("hang.sh: keeps running until killed; its pid is the sleep itself")
        func hang() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: FixturePaths.agent("hang.sh"))
            process.arguments = ["10"]
            process.environment = isolatedEnvironment()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier
            defer { if process.isRunning { kill(pid, SIGKILL) } }
            Thread.sleep(forTimeInterval: 0.4)
            #expect(process.isRunning)
            let comm = "/proc/\(pid)/comm"
            if FileManager.default.fileExists(atPath: comm) {  // Linux: check the exec
                let name = try String(contentsOfFile: comm, encoding: .utf8)
                #expect(name.trimmingCharacters(in: .whitespacesAndNewlines) == "sleep")
            }
            // SIGKILL, not terminate(): children spawned from a test thread inherit its
            // signal mask, in which libdispatch blocks SIGTERM and SIGINT.
            #expect(kill(pid, SIGKILL) == 0)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(!process.isRunning)
            if !process.isRunning {
                #expect(process.terminationReason == .uncaughtSignal)
                #expect(process.terminationStatus == SIGKILL)
            }
        }

        @Test("spawn-background.sh: exits at once, prints the pid of a child that holds stdout open")
        func spawnBackground() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            // A harness shell records the script's exit status and the moment its stdout pipe
            // reaches EOF. (Process.isRunning cannot be used: corelibs Foundation only sees the
            // script exit once the background child, which inherits its socket, is gone too.)
            let harness = """
                ( "$0" 10; echo $? > "$1/status" ) |
                { IFS= read -r pid; echo "$pid" > "$1/pid"; cat > /dev/null; : > "$1/eof"; }
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", harness, FixturePaths.agent("spawn-background.sh"), s.url.path]
            process.environment = isolatedEnvironment()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            var childPid: Int32 = 0
            defer {
                if childPid > 0 { kill(childPid, SIGKILL) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            func waitFor(_ name: String, seconds: TimeInterval) -> String? {
                let url = s.path(name)
                let deadline = Date().addingTimeInterval(seconds)
                repeat {
                    if let text = try? String(contentsOf: url, encoding: .utf8), text.hasSuffix("\n") || name == "eof" {
                        return text.trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                    Thread.sleep(forTimeInterval: 0.01)
                } while Date() < deadline
                return nil
            }

            try process.run()
            // The script exits 0 at once, while its child lives on for 10 s.
            let status = waitFor("status", seconds: 3)
            #expect(status == "0", "script did not exit quickly with 0")
            let pidText = waitFor("pid", seconds: 3)
            let pid = pidText.flatMap { Int32($0) } ?? 0
            #expect(pid > 0, "printed pid: \(pidText ?? "nothing")")
            guard pid > 0 else { return }
            childPid = pid
            #expect(kill(pid, 0) == 0, "child \(pid) is not alive")

            // The child holds the script's stdout open: no EOF while it lives...
            Thread.sleep(forTimeInterval: 0.2)
            #expect(!FileManager.default.fileExists(atPath: s.path("eof").path), "stdout closed while the child lives")
            // ...and EOF comes once it dies.
            #expect(kill(pid, SIGKILL) == 0)
            childPid = 0
            #expect(waitFor("eof", seconds: 3) != nil, "stdout still open after killing the child")
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(!process.isRunning)
        }

        @Test("print-lots.sh: prints exactly the asked number of MB", arguments: [0, 1, 3])
        func printLots(_ mb: Int) throws {
            // Count through a pipe into wc, never holding the output in memory.
            let r = try run(["/bin/sh", "-c", "\"$0\" \"$1\" | wc -c", FixturePaths.agent("print-lots.sh"), String(mb)])
            #expect(r.status == 0)
            #expect(Int(r.trimmed) == mb * 1_048_576)
        }

        @Test("print-lots.sh: rejects a bad size")
        func printLotsBad() throws {
            let r = try run([FixturePaths.agent("print-lots.sh"), "lots"])
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
        }

        @Test("conflict-edit.sh: commits line 1 of conflict.txt; two such tasks conflict")
        func conflictEdit() throws {
            let s = try Scratch()
            defer { s.cleanup() }
            let repo = try freshRepo(s)
            let base = try head(repo)
            let original = try git(repo, "show", "HEAD:conflict.txt").lines
            var trees: [URL] = []
            for name in ["one", "two"] {
                let wt = s.path("wt-\(name)")
                #expect(try git(repo, "worktree", "add", "-q", "-b", name, wt.path, "main").status == 0)
                let r = try run([FixturePaths.agent("conflict-edit.sh")], in: wt, env: ["GROVE_TASK": name])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(try git(wt, "rev-list", "--count", "\(base)..HEAD").trimmed == "1")
                #expect(try git(wt, "status", "--porcelain").stdout.isEmpty)
                #expect(try git(wt, "diff", "--name-only", base, "HEAD").lines == ["conflict.txt"])
                let lines = try git(wt, "show", "HEAD:conflict.txt").lines
                #expect(lines.first == "line 1: changed by agent \(name)")
                #expect(Array(lines.dropFirst()) == Array(original.dropFirst()))
                trees.append(wt)
            }
            let clash = try git(repo, "merge-tree", "--write-tree", "--name-only", "one", "two")
            #expect(clash.status == 1)
            #expect(clash.lines.dropFirst().contains("conflict.txt"))
        }
    }
}
