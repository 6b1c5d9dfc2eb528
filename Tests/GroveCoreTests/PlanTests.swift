import Foundation
import GroveCore
import TestSupport
import Testing

@Suite("plan builder")
struct PlanTests {
    let sandbox: Sandbox
    let home: GroveHome

    init() throws {
        sandbox = try Sandbox()
        home = GroveHome(path: sandbox.child("home"))
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
    }

    func builder(run: Int = 7) -> PlanBuilder {
        PlanBuilder(run: run, home: home, currentDirectory: sandbox.path, processorCount: 5)
    }

    func writeFile(_ text: String, _ name: String = "grove.yaml") throws {
        try text.write(toFile: sandbox.child(name), atomically: false, encoding: .utf8)
    }

    /// Expects a PlanError at `location` whose message contains `fragment`.
    func expectError(
        at location: String, _ fragment: String, flags: RunFlags, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: PlanError.self, sourceLocation: sourceLocation) { try builder().build(flags) }
        #expect(error?.location.description == location, "\(error?.description ?? "")", sourceLocation: sourceLocation)
        #expect(
            error?.message.contains(fragment) == true, "\(error?.description ?? "")", sourceLocation: sourceLocation)
    }

    @Test func plansAFile() throws {
        let a = try sandbox.repository("svc-a", files: [".env": "X=1\n", "README.md": "a\n"])
        let b = try sandbox.repository("svc-b")
        try b.git("branch", "develop")
        try writeFile(
            """
            timeout: 20m
            command: [agent, "{task}", "{instructions}", "{worktree}"]
            env: { LOG_LEVEL: debug }
            repos: [svc-a]
            tasks:
              - name: fix-auth
                repo: ./svc-b
                base: develop
                command: make fix
                copy: []
                instructions: Fix it
            """)
        let plan = try builder().build(RunFlags(file: "grove.yaml"))
        #expect(plan.run == 7)
        #expect(plan.jobs == 5)
        #expect(plan.taskFile == sandbox.child("grove.yaml"))
        #expect(plan.tasks.map(\.name) == ["svc-a", "fix-auth"])
        let first = plan.tasks[0]
        #expect(first.repository == a.path)
        #expect(first.base == "main")
        #expect(first.baseCommit?.hex == (try a.revParse("main")))
        #expect(first.branch == "grove/7/svc-a")
        #expect(first.worktree == home.path + "/worktrees/7/svc-a")
        #expect(first.timeout == .seconds(1200))
        #expect(first.environment == ["LOG_LEVEL": "debug"])
        #expect(first.argv == ["agent", "svc-a", "", home.path + "/worktrees/7/svc-a"])
        let second = plan.tasks[1]
        #expect(second.repository == b.path)
        #expect(second.base == "develop")
        #expect(second.branch == "grove/7/fix-auth")
        #expect(second.argv == ["/bin/sh", "-c", "make fix"])
        #expect(second.instructions == "Fix it")
    }

    @Test func plansAJSONFileWithFlagOverrides() throws {
        _ = try sandbox.repository("r")
        try writeFile(#"{"jobs": 2, "command": "false", "tasks": [{"name": "a", "repo": "r"}]}"#, "t.json")
        let plan = try builder().build(
            RunFlags(file: "t.json", jobs: 9, timeout: "90s", failFast: true, command: ["echo", "{branch}"]))
        #expect(plan.jobs == 9)
        #expect(plan.failFast)
        #expect(plan.tasks[0].timeout == .seconds(90))
        #expect(plan.tasks[0].argv == ["echo", "grove/7/a"])
    }

    @Test func plansFromFlags() throws {
        _ = try sandbox.repository("a")
        try FileManager.default.createDirectory(atPath: sandbox.child("other"), withIntermediateDirectories: true)
        _ = try sandbox.repository("other/a")
        let fanOut = try builder().build(
            RunFlags(repos: ["a", "other/a"], jobs: 2, command: ["sed", "-i", "s/a/b/", "x"]))
        #expect(fanOut.tasks.map(\.name) == ["a", "a-2"])
        #expect(fanOut.tasks.map(\.repository) == [sandbox.child("a"), sandbox.child("other/a")])
        #expect(fanOut.tasks[0].command == .arguments(["sed", "-i", "s/a/b/", "x"]))
        #expect(fanOut.jobs == 2)
        let variants = try builder().build(RunFlags(repos: ["a"], count: 3, name: "try", command: ["./agent.sh"]))
        #expect(variants.tasks.map(\.name) == ["try-1", "try-2", "try-3"])
        #expect(variants.tasks.map(\.branch) == ["grove/7/try-1", "grove/7/try-2", "grove/7/try-3"])
    }

    @Test func flagErrors() throws {
        _ = try sandbox.repository("a")
        _ = try sandbox.repository("b")
        try writeFile("command: x\ntasks: [{name: a, repo: a}]\n")
        expectError(at: "--", "no command to run", flags: RunFlags(repos: ["a"]))
        expectError(
            at: "--timeout", #"bad timeout "10x""#, flags: RunFlags(repos: ["a"], timeout: "10x", command: ["x"]))
        expectError(at: "-j", "-j is 0", flags: RunFlags(repos: ["a"], jobs: 0, command: ["x"]))
        expectError(at: "--count", "--count is 0", flags: RunFlags(repos: ["a"], count: 0, command: ["x"]))
        expectError(at: "--count", "single --repo", flags: RunFlags(repos: ["a", "b"], count: 2, command: ["x"]))
        expectError(at: "--name", "invalid task name", flags: RunFlags(repos: ["a"], name: "a/b", command: ["x"]))
        expectError(
            at: "--name", "--name names one task", flags: RunFlags(repos: ["a", "b"], name: "n", command: ["x"]))
        expectError(at: "--repo", "cannot be combined", flags: RunFlags(file: "grove.yaml", repos: ["a"]))
        expectError(at: "nope.yaml", "task file not found", flags: RunFlags(file: "nope.yaml"))
        expectError(
            at: "--clone-jobs", "--clone-jobs is 0",
            flags: RunFlags(repos: ["https://h/x.git"], command: ["x"], cloneJobs: 0))
        expectError(
            at: "--repos-file", "cannot be combined", flags: RunFlags(file: "grove.yaml", reposFile: "repos.txt"))
    }

    /// A URL repository is planned without the network: its clone's place in the cache, no base
    /// commit yet, and the credentials kept in memory only (never in what is shown).
    @Test func aURLRepositoryIsPlannedIntoTheCache() throws {
        let plan = try builder().build(
            RunFlags(repos: ["https://u:pw@example.com/org/x.git", "git@example.com:org/y"], command: ["x"]))
        #expect(plan.tasks.map(\.name) == ["x", "y"])
        #expect(plan.cloneJobs == 4)
        let first = plan.tasks[0]
        #expect(first.repository == home.path + "/repos/example.com/org/x.git")
        #expect(first.source?.url == "https://u:pw@example.com/org/x.git")
        #expect(first.source?.display == "https://example.com/org/x.git")
        #expect(first.base == "" && first.baseCommit == nil)
        #expect(first.commandValues.repo == "https://example.com/org/x.git")
        #expect(plan.tasks[1].repository == home.path + "/repos/example.com/org/y.git")
        #expect(!FileManager.default.fileExists(atPath: home.repositories))
    }

    @Test func repositoryErrors() throws {
        try "x".write(toFile: sandbox.child("file"), atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: sandbox.child("plain"), withIntermediateDirectories: true)
        try Shell.run(["git", "init", "-q", "--bare", sandbox.child("bare.git")])
        let empty = try sandbox.repository("empty", files: [:])
        _ = empty
        func file(_ repo: String) -> RunFlags {
            try? writeFile("command: x\ntasks:\n  - name: t\n    repo: \(repo)\n")
            return RunFlags(file: "grove.yaml")
        }
        expectError(at: "grove.yaml:4:11", "does not exist", flags: file("missing"))
        expectError(at: "grove.yaml:4:11", "is a file, not a repository", flags: file("file"))
        expectError(at: "grove.yaml:4:11", "is not inside a git repository", flags: file("plain"))
        expectError(at: "grove.yaml:4:11", "has no commits yet", flags: file("bare.git"))
        expectError(at: "grove.yaml:4:11", "has no commits yet", flags: file("empty"))
    }

    @Test func branchErrors() throws {
        let repo = try sandbox.repository("r")
        try repo.git("branch", "grove/7/taken")
        try repo.git("branch", "grove/7/dir")
        func file(_ text: String) -> RunFlags {
            try? writeFile("command: x\n" + text)
            return RunFlags(file: "grove.yaml")
        }
        expectError(
            at: "grove.yaml:5:11", #"base branch "mian" does not exist in \#(repo.path); did you mean "main"?"#,
            flags: file("tasks:\n  - name: t\n    repo: r\n    base: mian\n"))
        expectError(
            at: "grove.yaml:3:11", #"branch "grove/7/taken" already exists"#,
            flags: file("tasks:\n  - name: taken\n    repo: r\n"))
        expectError(
            at: "grove.yaml:5:13", #"branch "grove/7/dir" exists"#,
            flags: file("tasks:\n  - name: dir\n    repo: r\n    branch: \"grove/{run}/{task}/x\"\n"))
        expectError(
            at: "grove.yaml:3:11", "is not valid in git", flags: file("tasks:\n  - name: x.lock\n    repo: r\n"))
        expectError(
            at: "grove.yaml:2:9", #"tasks "a" and "b" would both use branch "same""#,
            flags: file("branch: same\ntasks:\n  - {name: a, repo: r}\n  - {name: b, repo: r}\n"))
        expectError(
            at: "grove.yaml:5:12", "copy entry \".env\" does not exist",
            flags: file("tasks:\n  - name: t\n    repo: r\n    copy: [.env]\n"))
        try writeFile("tasks:\n  - name: t\n    repo: r\n")
        expectError(at: "grove.yaml:2:11", #"task "t" has no command"#, flags: RunFlags(file: "grove.yaml"))
        try repo.git("checkout", "-q", "--detach")
        expectError(
            at: "grove.yaml:4:11", "is detached and task \"t\" names no base",
            flags: file("tasks:\n  - name: t\n    repo: r\n"))
    }

    @Test func planningCreatesNothing() throws {
        let repo = try sandbox.repository("r")
        try repo.git("branch", "grove/7/taken")
        func snapshot() throws -> [String] {
            [
                try repo.refs(), try repo.output("worktree", "list", "--porcelain"),
                try FileManager.default.subpathsOfDirectory(atPath: home.path).sorted().joined(separator: "\n"),
            ]
        }
        let before = try snapshot()
        try writeFile("command: x\ntasks:\n  - {name: a, repo: r}\n  - {name: b, repo: r}\n")
        let plan = try builder().build(RunFlags(file: "grove.yaml"))
        #expect(plan.tasks.count == 2)
        try writeFile("command: x\ntasks:\n  - {name: a, repo: r}\n  - {name: taken, repo: r}\n")
        #expect(throws: PlanError.self) { try builder().build(RunFlags(file: "grove.yaml")) }
        #expect(try snapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: home.worktrees))
    }
}
