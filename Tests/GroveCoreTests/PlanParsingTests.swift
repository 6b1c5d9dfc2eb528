import Foundation
import Testing

@testable import GroveCore

/// One bad task file and what the error must say.
struct BadFile: Sendable, CustomTestStringConvertible {
    let yaml: String
    /// `line:column` (or "" for a whole-file error).
    let at: String
    let says: String
    var testDescription: String { says }

    init(_ yaml: String, at: String, _ says: String) {
        self.yaml = yaml
        self.at = at
        self.says = says
    }
}

@Suite("task file parsing")
struct PlanParsingTests {
    static let badFiles: [BadFile] = [
        BadFile("command: x\ntasks:\n  - name: a\n\tbase: main\n", at: "4:1", "invalid YAML"),
        BadFile("command: [a, b\ntasks: []\n", at: "2:6", "invalid YAML"),
        BadFile("", at: "", "the task file is empty"),
        BadFile("- a\n- b\n", at: "1:1", "must be a mapping"),
        BadFile(
            "command: x\ntasks:\n  - name: fix-auth\n    comand: y\n", at: "4:5",
            #"unknown key "comand" in task "fix-auth"; did you mean "command"?"#),
        BadFile(
            "comand: x\ntasks:\n  - name: a\n", at: "1:1",
            #"unknown key "comand" at the top level; did you mean "command"?"#),
        BadFile("command: x\nname: a\ntasks:\n  - name: a\n", at: "2:1", "it belongs to a task"),
        BadFile("command: x\ntasks:\n  - name: a\n    jobs: 2\n", at: "4:5", "only allowed at the top level"),
        BadFile("command: x\nzzzzzz: 1\ntasks:\n  - name: a\n", at: "2:1", "known keys: base, jobs"),
        BadFile("command: x\ntasks: []\n", at: "2:1", "no tasks"),
        BadFile("command: x\n", at: "1:1", "no tasks"),
        BadFile("command: x\ntasks: a\n", at: "2:8", "tasks must be a list, not the text \"a\""),
        BadFile("command: x\ntasks:\n  - a\n", at: "3:5", "task 1 must be a mapping"),
        BadFile("command: x\ntasks:\n  - repo: .\n", at: "3:5", "task 1 has no name"),
        BadFile(
            "command: x\ntasks:\n  - name: a\n  - name: b\n  - name: a\n", at: "5:11",
            #"duplicate task name "a" (first used at grove.yaml:3:11)"#),
        BadFile("command: x\ntasks:\n  - name: a/b\n", at: "3:11", #"invalid task name "a/b""#),
        BadFile("command: x\ntasks:\n  - name: ../x\n", at: "3:11", "invalid task name"),
        BadFile("command: x\ntasks:\n  - name: '-x'\n", at: "3:11", "invalid task name"),
        BadFile("command: x\ntasks:\n  - name: 'a b'\n", at: "3:11", #"(e.g. "a-b")"#),
        BadFile("command: x\ntasks:\n  - name: café\n", at: "3:11", "invalid task name"),
        BadFile("command: x\ntasks:\n  - name: \(String(repeating: "a", count: 65))\n", at: "3:11", "more than 64"),
        BadFile("command: x\ntasks:\n  - name: ''\n", at: "3:11", "name is empty"),
        BadFile("timeout: 10x\ncommand: x\ntasks:\n  - name: a\n", at: "1:10", #"bad timeout "10x""#),
        BadFile("timeout: 0\ncommand: x\ntasks:\n  - name: a\n", at: "1:10", #"bad timeout "0""#),
        BadFile("timeout: -5m\ncommand: x\ntasks:\n  - name: a\n", at: "1:10", #"bad timeout "-5m""#),
        BadFile("timeout: ''\ncommand: x\ntasks:\n  - name: a\n", at: "1:10", "bad timeout"),
        BadFile("command: x\ntasks:\n  - name: a\n    timeout: 90\n", at: "4:14", "1h30m"),
        BadFile("jobs: 0\ncommand: x\ntasks:\n  - name: a\n", at: "1:7", "jobs is 0; give at least 1"),
        BadFile("jobs: -3\ncommand: x\ntasks:\n  - name: a\n", at: "1:7", "jobs is -3"),
        BadFile("jobs: many\ncommand: x\ntasks:\n  - name: a\n", at: "1:7", "jobs must be a whole number"),
        BadFile("command: {a: b}\ntasks:\n  - name: a\n", at: "1:10", "command must be a string or a list"),
        BadFile("command: []\ntasks:\n  - name: a\n", at: "1:10", "command is an empty list"),
        BadFile("command: '  '\ntasks:\n  - name: a\n", at: "1:10", "command is empty"),
        BadFile("command: [make, [x]]\ntasks:\n  - name: a\n", at: "1:17", "command item must be a string"),
        BadFile("command: x\ncopy: [/etc/passwd]\ntasks:\n  - name: a\n", at: "2:8", "is absolute"),
        BadFile("command: x\ncopy: [a/../../x]\ntasks:\n  - name: a\n", at: "2:8", "climbs out"),
        BadFile("command: x\ntasks:\n  - name: a\n    copy: ['..']\n", at: "4:12", "climbs out"),
        BadFile("command: x\nenv: [a]\ntasks:\n  - name: a\n", at: "2:6", "env must be a mapping"),
        BadFile("command: x\nenv: {1A: x}\ntasks:\n  - name: a\n", at: "2:7", "invalid environment variable name"),
        BadFile("command: x\nenv: {GROVE_TASK: x}\ntasks:\n  - name: a\n", at: "2:7", "set by grove"),
        BadFile("command: x\nbranch: 'x/{runn}/{task}'\ntasks:\n  - name: a\n", at: "2:9", "did you mean {run}?"),
        BadFile(
            "command: x\ntasks:\n  - name: a\n    depends_on: [bb]\n  - name: b\n", at: "4:18",
            #"depends on unknown task "bb"; did you mean "b"?"#),
        BadFile("command: x\ntasks:\n  - name: a\n    depends_on: a\n", at: "4:17", "depends on itself"),
        BadFile(
            "command: x\ntasks:\n  - name: a\n    depends_on: [b]\n  - name: b\n    depends_on: [a]\n", at: "6:18",
            "cycle (a → b → a)"),
        BadFile("command: x\ncommand: y\ntasks:\n  - name: a\n", at: "1:1", #"key "command" appears twice"#),
        BadFile(
            "command: x\ntasks:\n  - name: a\n    instructions: [x]\n", at: "4:19", "instructions must be a string"),
        BadFile("command: x\nrepos: ../a\ntasks: []\n", at: "2:8", "repos must be a list"),
        BadFile("{\"command\": \"x\"\n \"tasks\": []}", at: "2:2", "invalid JSON"),
        BadFile(
            "{\"command\": \"x\", \"tasks\": [{\"name\": \"a\", \"comand\": 1}]}", at: "1:42",
            "did you mean \"command\"?"),
    ]

    @Test(arguments: badFiles)
    func rejectsBadFiles(_ bad: BadFile) throws {
        let error = #expect(throws: PlanError.self) { try TaskFile.parse(bad.yaml, path: "grove.yaml") }
        let expectedLocation = bad.at.isEmpty ? "grove.yaml" : "grove.yaml:\(bad.at)"
        #expect(error?.location.description == expectedLocation, "\(error?.description ?? "")")
        #expect(error?.message.contains(bad.says) == true, "\(error?.description ?? "")")
        #expect(error?.errorDescription?.hasPrefix(expectedLocation + ": ") == true)
    }

    @Test func readsEveryKey() throws {
        let yaml = """
            base: main
            jobs: 3
            timeout: 1h30m
            command: make fix
            setup: [npm, ci]
            copy: [.env, config/local.json]
            env: { LOG_LEVEL: debug, N: 2 }
            branch: "work/{run}/{task}"
            repos: [../svc-a, ../other/svc-a, "https://user:secret@example.com/org/svc-b.git"]
            tasks:
              - name: svc-a
                repo: ../x
                base: develop
                command: [claude, -p, "{instructions}"]
                env: { N: 3 }
                timeout: 90s
                instructions: Fix the authentication timeout
                depends_on: [svc-b]
                branch: "t/{task}"
                copy: [.npmrc]
            """
        let file = try TaskFile.parse(yaml, path: "grove.yaml")
        #expect(file.format == .yaml)
        #expect(file.jobs?.value == 3)
        #expect(file.defaults.base?.value == "main")
        #expect(file.defaults.timeout?.value == .seconds(5400))
        #expect(file.defaults.command?.value == .shell("make fix"))
        #expect(file.defaults.setup?.value == .arguments(["npm", "ci"]))
        #expect(file.defaults.copy?.map(\.value) == [".env", "config/local.json"])
        #expect(file.defaults.env == ["LOG_LEVEL": "debug", "N": "2"])
        // Fan-out first, named after the repositories; the explicit "svc-a" pushes repeats to -2, -3.
        #expect(file.tasks.map(\.name.value) == ["svc-a-2", "svc-a-3", "svc-b", "svc-a"])
        #expect(file.tasks[2].repo?.value == .remote(url: "https://user:secret@example.com/org/svc-b.git"))
        #expect(file.tasks[2].repo?.value.description == "https://***@example.com/org/svc-b.git")
        let task = file.tasks[3]
        #expect(task.name.location == .file(path: "grove.yaml", line: 11, column: 11))
        let settings = task.settings.inheriting(file.defaults)
        #expect(settings.base?.value == "develop")
        #expect(settings.command?.value == .arguments(["claude", "-p", "{instructions}"]))
        #expect(settings.setup?.value == .arguments(["npm", "ci"]))
        #expect(settings.env == ["LOG_LEVEL": "debug", "N": "3"])
        #expect(settings.timeout?.value == .seconds(90))
        #expect(settings.branch?.value == "t/{task}")
        #expect(settings.copy?.map(\.value) == [".npmrc"])
        #expect(task.instructions == "Fix the authentication timeout")
        #expect(task.dependsOn.map(\.value) == ["svc-b"])
    }

    @Test func readsJSON() throws {
        let json = #"{"command": ["echo", "{task}"], "jobs": 2, "tasks": [{"name": "a", "timeout": "20m"}]}"#
        let file = try TaskFile.parse(json, path: "tasks.txt")
        #expect(file.format == .json)
        #expect(file.jobs?.value == 2)
        #expect(file.tasks.map(\.name.value) == ["a"])
        #expect(file.tasks[0].settings.timeout?.value == .seconds(1200))
        #expect(try TaskFile.parse("command: x\ntasks: [{name: a}]", path: "x.JSON").format == .json)
    }

    @Test(arguments: [
        ("90s", 90), ("20m", 1200), ("2h", 7200), ("1h30m", 5400), ("1h1m1s", 3661), ("0h5s", 5),
    ])
    func acceptsDurations(_ text: String, _ seconds: Int) {
        #expect(TaskDuration.parse(text) == .seconds(seconds))
    }

    @Test(arguments: ["", "0", "0s", "-5m", "10x", "5", "m", "5m1h", "1h1h", "1.5h", " 5m", "5 m", "9999999999s"])
    func rejectsDurations(_ text: String) {
        #expect(TaskDuration.parse(text) == nil)
    }

    @Test func substitutesPlaceholdersOnceAndNeverInAShell() {
        let values = CommandValues(
            task: "t", instructions: "say {task}; rm -rf /", repo: "/r", branch: "b", base: "main", worktree: "/w")
        let argv = TaskCommand.arguments(["x", "--do={instructions}", "{repo}:{base}..{branch}@{worktree}", "{a: .b}"])
            .argv(values)
        #expect(argv == ["x", "--do=say {task}; rm -rf /", "/r:main..b@/w", "{a: .b}"])
        #expect(TaskCommand.shell("echo {task}").argv(values) == ["/bin/sh", "-c", "echo {task}"])
    }

    @Test func namesAndSuggestions() {
        #expect(TaskName.sanitized("my repo!") == "my-repo-")
        #expect(TaskName.sanitized("..hidden") == "hidden")
        #expect(TaskName.sanitized("日本") == "repo")
        #expect(TaskName.unique("a", avoiding: ["a", "a-2"]) == "a-3")
        #expect(RepositoryReference("git@github.com:org/repo.git") == .remote(url: "git@github.com:org/repo.git"))
        #expect(RepositoryReference("git@github.com:org/repo.git").taskNameStem == "repo")
        #expect(RepositoryReference("ssh://host/x/y/").taskNameStem == "y")
        #expect(RepositoryReference("../a@b:c/d") == .local(path: "../a@b:c/d"))
        // scp-like without a user is ssh for git too, not a missing local path.
        #expect(RepositoryReference("github.com:org/repo") == .remote(url: "github.com:org/repo"))
        #expect(RepositoryReference("./svc") == .local(path: "./svc"))
        #expect(Suggestion.closest(to: "comand", in: TaskFileParser.taskKeys) == "command")
        #expect(Suggestion.closest(to: "xyz", in: TaskFileParser.taskKeys) == nil)
    }
}
