import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// Faults around `grove run`, driven as a user would meet them: grove SIGKILLed at random
/// moments, tasks that attack their own worktree or branch, a disk that fills up. Real
/// repositories, the built binary, real processes; the git CLI and the kernel's process table as
/// the second opinion.
@Suite("RunFaults")
struct RunFaultTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
    }

    /// The worktree admin entries and the files in them, for a failure message.
    func diagnosis() -> String {
        let admin = repo.path + "/.git/worktrees"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: admin)) ?? []
        return names.sorted().map { name in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: admin + "/" + name)) ?? []
            let gitdir = (try? String(contentsOfFile: admin + "/\(name)/gitdir", encoding: .utf8)) ?? "-"
            return "\(name): \(files.sorted()) gitdir=\(gitdir.trimmingCharacters(in: .newlines))"
        }.joined(separator: "; ")
    }

    /// `git rev-list --count main..BRANCH`, or git's complaint when that fails (e.g. no such branch).
    func commitCount(_ branch: String) throws -> String {
        let result = try repo.git("rev-list", "--count", "main..\(branch)", check: false)
        return result.status == 0 ? result.output : "git: \(result.stderr)"
    }

    /// `git worktree prune -n -v`: what git would prune (half-made or vanished worktrees).
    func prunable() throws -> String {
        try repo.git("worktree", "prune", "-n", "-v").stderr + repo.output("worktree", "prune", "-n", "-v")
    }

    // MARK: SIGKILL of grove during `run`

    /// The tasks of each round: lengths from nothing to a second, one committing itself, some
    /// leaving work for grove to commit, some with background children (grandchildren of grove
    /// in the task's group). Each touches a marker as its very last act, so the test knows which
    /// commands really finished; `expected` is how many commits each has once it succeeded.
    static let killTasks: [(name: String, command: String, commits: Int)] = [
        ("quick", "true", 0),
        ("edit", "sleep 0.2; echo edit > edit.txt", 1),
        ("selfcommit", "echo s > s.txt; git add s.txt; git commit -qm self; sleep 0.4", 1),
        ("family", "sleep 0.6 & sleep 0.6; wait", 0),
        ("slow", "echo slow > slow.txt; sleep 0.9", 1),
        ("tail", "sleep 0.3 & echo tail >> README.md; sleep 0.3; wait", 1),
    ]

    /// The kill moments of each phase: while worktrees are made, mid-task, near the end.
    static let killWindows: [ClosedRange<Double>] = [0...0.15, 0.3...0.9, 0.9...1.5]

    /// grove SIGKILLed at seeded random moments: no task process outlives it, `grove status` shows
    /// the run `interrupted` with every task truthful, and `grove retry` / `grove clean` finish the job.
    @Test func sigkillAtRandomMomentsLeavesNoProcessAndATruthfulRun() throws {
        let long = ProcessInfo.processInfo.environment["GROVE_TEST_LONG"] == "1"
        let rounds = Int(ProcessInfo.processInfo.environment["GROVE_TEST_ROUNDS"] ?? "") ?? (long ? 24 : 3)
        let seed = UInt64(ProcessInfo.processInfo.environment["GROVE_TEST_SEED"] ?? "") ?? 0x6f72_6f76_6531
        var random = SeededRandom(seed: seed)
        // A repository with some files, so making a worktree takes a moment worth hitting.
        var files: [String: String] = [:]
        for index in 0..<150 { files["src/file\(index).txt"] = String(repeating: "line \(index)\n", count: 40) }
        try repo.commit("files", files: files)
        let base = try repo.revParse("main")
        let marks = sandbox.child("marks")
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        var tasksYAML = "jobs: 3\nenv: { MARKS: \(marks) }\ntasks:\n"
        for task in Self.killTasks {
            let command = "\(task.command); touch \"$MARKS/$GROVE_RUN-$GROVE_TASK\""
            tasksYAML +=
                "  - name: \(task.name)\n    repo: repo\n    command: '\(command.replacingOccurrences(of: "'", with: "''"))'\n"
        }
        try tasksYAML.write(toFile: sandbox.child("grove.yaml"), atomically: true, encoding: .utf8)

        var aliveAtKill = 0
        var previous = 0
        var states: [TaskState: Int] = [:]
        for round in 1...rounds {
            let window = Self.killWindows[(round - 1) % Self.killWindows.count]
            let delay = random.double(in: window)
            let comment = "round \(round), seed \(seed), kill after \(String(format: "%.3f", delay)) s"
            let run = try BackgroundProcess(
                [try builtBinary(), "run", sandbox.child("grove.yaml")], in: repo.path, environment: environment)
            usleep(UInt32(delay * 1_000_000))
            aliveAtKill += TaskProcesses.alive(home: home, except: run.pid).count
            run.send(SIGKILL)
            _ = run.wait()

            // Nothing of the run outlives grove: no task process, no grandchild, no watchdog.
            #expect(eventually(within: .seconds(5)) { TaskProcesses.alive(home: home).isEmpty }, "\(comment)")
            #expect(TaskProcesses.alive(home: home).isEmpty, "left: \(TaskProcesses.describe(home: home)); \(comment)")

            // A kill before grove stored the run leaves no run at all: nothing to check but git.
            let number = FileManager.default.fileExists(atPath: home) ? try latestRun() : 0
            guard number > previous else {
                #expect(try repo.revParse("main") == base, "\(comment)")
                continue
            }
            previous = number
            let report = try status(number)
            #expect(report.state == .interrupted || report.state == .finished, "\(comment)")
            for task in report.tasks {
                states[task.state, default: 0] += 1
                try expectTruthful(task, run: number, marks: marks, comment: comment)
            }
            let table = try grove(["status", String(number)])
            #expect(table.status == 0 && table.stdout.contains(report.state.rawValue), "\(table.stderr)")
            #expect(try repo.revParse("main") == base, "\(comment)")

            if round % 2 == 1 {
                try retryThenClean(number, comment: comment)
            } else {
                try cleanThenRetry(number, comment: comment)
            }
            #expect(TaskProcesses.alive(home: home).isEmpty, "\(comment)")
            #expect(try repo.revParse("main") == base, "\(comment)")
            #expect(try repo.git("fsck", "--no-progress").status == 0, "\(comment)")
        }
        #expect(aliveAtKill > 0, "no round killed grove while a task process ran")
        print(
            "RunFaults: \(rounds) SIGKILL rounds (seed \(seed)), \(aliveAtKill) task processes alive at the kills,"
                + " task states seen: \(states.map { "\($0.key.rawValue) \($0.value)" }.sorted())")
    }

    /// What the random rounds hit only sometimes, made on purpose: grove killed while task 1's
    /// git committed (a stale `index.lock`), while it made task 2's branch (a stale `.lock` on
    /// it) and task 3's worktree (a folder whose `.git` names an admin entry that never got
    /// written). `grove retry` gets past all three, keeping what task 1 left.
    @Test func retryRemakesWhatAKilledGroveLeftHalfMade() throws {
        let gate = sandbox.child("gate")
        let run = try BackgroundProcess(
            [
                try builtBinary(), "run", "--count", "3", "--name", "t", "-j", "1", "--", "sh", "-c",
                "[ -e \(gate) ] || sleep 30",
            ], in: repo.path, environment: environment)
        #expect(
            try eventually {
                let result = try grove(["status", "--json", "1"])
                let report = try? JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
                return report?.tasks.first?.state == .running
            })
        run.send(SIGKILL)
        _ = run.wait()
        #expect(eventually(within: .seconds(5)) { TaskProcesses.alive(home: home).isEmpty })
        let start = try repo.revParse("main")
        // t-1: its git was killed mid-commit (a stale index.lock), with work left in the worktree.
        let t1Admin = try repo.output("-C", home + "/worktrees/1/t-1", "rev-parse", "--absolute-git-dir")
        _ = FileManager.default.createFile(atPath: t1Admin + "/index.lock", contents: nil)
        try "work\n".write(toFile: home + "/worktrees/1/t-1/work.txt", atomically: false, encoding: .utf8)
        // t-2: killed while libgit2 wrote its branch.
        try "".write(toFile: repo.path + "/.git/refs/heads/grove/1/t-2.lock", atomically: false, encoding: .utf8)
        // t-3: killed after its branch and worktree folder, before the admin entry was complete.
        try repo.git("branch", "grove/1/t-3")
        let t3 = home + "/worktrees/1/t-3"
        try FileManager.default.createDirectory(atPath: t3, withIntermediateDirectories: true)
        try "gitdir: \(repo.path)/.git/worktrees/t-3\n".write(toFile: t3 + "/.git", atomically: false, encoding: .utf8)
        try "hello\n".write(toFile: t3 + "/README.md", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(
            atPath: repo.path + "/.git/worktrees/t-3", withIntermediateDirectories: true)
        try "../..\n".write(toFile: repo.path + "/.git/worktrees/t-3/commondir", atomically: false, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: gate, contents: nil)

        let retry = try grove(["retry", "1"])
        #expect(retry.status == 0, "\(retry.stderr)")
        let report = try status(1)
        #expect(report.tasks.map(\.state) == [.succeeded, .succeeded, .succeeded], "\(report.tasks.map(\.reason))")
        for task in report.tasks {
            let worktree = TestRepository(existing: task.worktree)
            #expect(try worktree.output("rev-parse", "--abbrev-ref", "HEAD") == task.branch)
            #expect(try worktree.porcelainStatus().isEmpty)
            #expect(try worktree.revParse("HEAD") == start)
        }
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/.git/refs/heads/grove/1/t-2.lock"))
        let saved = try #require(report.tasks[0].attempts.first?.savedRef)
        #expect(try repo.output("show", "\(saved):work.txt") == "work")
        #expect(try prunable() == "")
        #expect(try repo.git("fsck", "--no-progress").status == 0)
    }

    /// The number of the latest run in the home, from `grove status --json`; 0 when there is none.
    func latestRun() throws -> Int {
        let result = try grove(["status", "--json"])
        guard result.status == 0 else {
            #expect(result.status == 2 && result.stderr.contains("no run"), "\(result.stderr)")
            return 0
        }
        return try JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8)).run
    }

    /// A task's state after grove died must be what happened: succeeded only when its command
    /// really finished (its marker exists) and its branch holds what the report says; otherwise
    /// cancelled with a reason naming grove's end. Nothing is left `running` or `queued`.
    func expectTruthful(_ task: StatusReport.TaskEntry, run: Int, marks: String, comment: String) throws {
        let finished = FileManager.default.fileExists(atPath: marks + "/\(run)-\(task.name)")
        let expected = Self.killTasks.first { $0.name == task.name }?.commits ?? 0
        switch task.state {
        case .succeeded:
            #expect(finished, "\(task.name) succeeded without finishing; \(comment)")
            #expect(task.commits == expected, "\(task.name); \(comment)")
            // A branch without commits of its own may be gone: `grove clean` deletes those.
            let count = try commitCount(task.branch)
            #expect(count == String(expected) || (expected == 0 && count.hasPrefix("git:")), "\(task.name); \(comment)")
        case .cancelled:
            #expect(
                task.reason?.contains("ended before the task finished") == true
                    || task.reason?.contains("not started") == true, "\(task.name): \(task.reason ?? "-"); \(comment)")
        default:
            Issue.record("\(task.name) is \(task.state.rawValue) after grove was killed; \(comment)")
        }
    }

    /// `grove retry` completes every unfinished task; then `grove clean` removes the worktrees
    /// and keeps the branches whose commits are nowhere else.
    func retryThenClean(_ run: Int, comment: String) throws {
        let retry = try grove(["retry", String(run)])
        #expect(retry.status == 0, "\(retry.stderr); \(comment)")
        try expectAllSucceeded(run, comment: comment)
        let clean = try grove(["clean", String(run)])
        #expect(clean.status == 0 || clean.status == 1, "\(clean.stderr); \(comment)")
        try expectCleaned(run, comment: comment)
    }

    /// `grove clean` on the interrupted run first (what a task left uncommitted is kept), then
    /// `grove retry` makes what clean removed again and completes every task.
    func cleanThenRetry(_ run: Int, comment: String) throws {
        let clean = try grove(["clean", String(run)])
        #expect(clean.status == 0 || clean.status == 1, "\(clean.stderr); \(comment)")
        // Whatever clean kept is a real worktree of git's, on its branch; nothing half-made.
        #expect(try prunable() == "", "\(diagnosis()); \(comment)")
        let retry = try grove(["retry", String(run)])
        #expect(retry.status == 0, "\(retry.stderr); \(comment)")
        try expectAllSucceeded(run, comment: comment)
        let again = try grove(["clean", String(run)])
        #expect(again.status == 0 || again.status == 1, "\(again.stderr); \(comment)")
        try expectCleaned(run, comment: comment)
    }

    func expectAllSucceeded(_ run: Int, comment: String) throws {
        let report = try status(run)
        #expect(report.state == .finished, "\(comment)")
        for task in report.tasks {
            let expected = Self.killTasks.first { $0.name == task.name }?.commits ?? 0
            #expect(task.state == .succeeded, "\(task.name): \(task.reason ?? "-"); \(comment)")
            #expect(task.commits == expected, "\(task.name); \(comment)")
            // A branch without commits of its own may be gone: `grove clean` deletes those.
            let count = try commitCount(task.branch)
            #expect(count == String(expected) || (expected == 0 && count.hasPrefix("git:")), "\(task.name); \(comment)")
        }
    }

    /// After `grove clean`: no worktree of the run left, no stale admin entry, branches with
    /// commits kept, the others deleted.
    func expectCleaned(_ run: Int, comment: String) throws {
        let worktrees = try repo.output("worktree", "list", "--porcelain")
        #expect(!worktrees.contains("/worktrees/\(run)/"), "\(worktrees); \(comment)")
        #expect(try prunable() == "", "\(diagnosis()); \(comment)")
        for task in Self.killTasks {
            let branch = "refs/heads/grove/\(run)/\(task.name)"
            let exists = try repo.git("show-ref", "--verify", "-q", branch, check: false).status == 0
            #expect(exists == (task.commits > 0), "\(branch); \(comment)")
        }
    }
    // MARK: Hostile tasks

    /// Tasks that attack their own worktree or branch, or another branch, in one run: each is
    /// reported for what it did, grove moves no branch but the tasks' own, and `grove merge` lands
    /// only what is sound, keeping every commit somewhere.
    @Test func hostileTasksAreReportedTruthfullyAndMergeKeepsEveryonesWork() throws {
        for index in 1...6 { try repo.commit("base \(index)", files: ["base\(index).txt": "\(index)\n"]) }
        try repo.git("branch", "side", "HEAD~3")
        try repo.git("branch", "other")
        let main = try repo.revParse("main")
        let file = sandbox.child("hostile.yaml")
        let tasks: [(String, String)] = [
            ("vanish", "echo v > v.txt && git add v.txt && git commit -qm vanish && rm -rf \"$PWD\""),
            ("vanish-empty", "rm -rf \"$PWD\""),
            ("hop", "echo h > h.txt && git checkout -q side"),
            ("reset", "git reset -q --hard HEAD~5"),
            ("amend", "git commit -q --amend -m 'amended start'"),
            (
                "amend-own",
                "echo a > a.txt && git add a.txt && git commit -qm one && echo b >> a.txt && git commit -qam again --amend"
            ),
            ("move-other", "git branch -f other HEAD~2"),
            ("honest", "echo ok > ok.txt"),
        ]
        var yaml = "jobs: 4\ntasks:\n"
        for (name, command) in tasks {
            yaml +=
                "  - name: \(name)\n    repo: repo\n    command: '\(command.replacingOccurrences(of: "'", with: "''"))'\n"
        }
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let others = { try self.repo.refs().split(separator: "\n").filter { !$0.hasPrefix("refs/heads/grove/") } }
        let before = try others()

        let run = try grove(["run", file])
        #expect(run.status == 1, "\(run.stderr)")
        let report = try status(1)
        let byName = Dictionary(uniqueKeysWithValues: report.tasks.map { ($0.name, $0) })
        func task(_ name: String) throws -> StatusReport.TaskEntry { try #require(byName[name]) }

        #expect(try task("vanish").state == .failed)
        #expect(try task("vanish").reason?.contains("is gone") == true, "\(byName["vanish"]?.reason ?? "-")")
        #expect(try task("vanish").commits == 1)
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/vanish") == "vanish")
        #expect(try task("vanish-empty").state == .failed)
        #expect(try task("vanish-empty").commits == 0)
        #expect(try task("hop").state == .failed)
        #expect(try task("hop").reason?.contains("HEAD is on side") == true, "\(byName["hop"]?.reason ?? "-")")
        #expect(try task("hop").commits == 0)
        for name in ["reset", "amend"] {
            #expect(try task(name).state == .failed, "\(name)")
            #expect(try task(name).reason?.contains("no longer contains its start commit") == true, "\(name)")
        }
        #expect(try task("reset").commits == 0)
        #expect(try repo.revParse("grove/1/reset") == repo.revParse("main~5"))
        #expect(try task("amend").commits == 1)
        #expect(try task("amend-own").state == .succeeded)
        #expect(try task("amend-own").commits == 1)
        #expect(try task("move-other").state == .succeeded)
        #expect(try task("move-other").commits == 0)
        #expect(try task("honest").state == .succeeded)
        #expect(try task("honest").commits == 1)
        for task in report.tasks {
            let count = try repo.output("rev-list", "--count", "\(main)..\(task.branch)")
            #expect(count == String(task.commits ?? -1), "\(task.name)")
        }

        // grove moved no branch but its own; the one a task moved is where the task put it.
        var expected = before.map(String.init)
        let otherIndex = try #require(expected.firstIndex { $0.hasPrefix("refs/heads/other ") })
        expected[otherIndex] = "refs/heads/other \(try repo.revParse("main~2"))"
        #expect(try others().map(String.init) == expected)
        #expect(try repo.revParse("main") == main)
        #expect(try repo.output("log", "-1", "--format=%s", "side") == "base 3")

        // The merge lands the two sound tasks with commits and nothing else; every commit stays.
        let merge = try grove(["merge", "1"])
        #expect(merge.status == 0 || merge.status == 1, "\(merge.stderr)")
        for name in ["vanish", "vanish-empty", "hop", "reset", "amend"] {
            #expect(
                merge.stdout.contains(name) || merge.stderr.contains(name), "\(name): \(merge.stdout)\(merge.stderr)")
        }
        #expect(try repo.output("rev-list", "--count", "\(main)..main") == "2")
        #expect(try repo.output("show", "main:a.txt") == "a\nb")
        #expect(try repo.output("show", "main:ok.txt") == "ok")
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/vanish") == "vanish")
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/amend") == "amended start")
        #expect(try repo.revParse("other") == repo.revParse("\(main)~2"))
        #expect(try repo.git("fsck", "--no-progress").status == 0)

        // Cleaning afterwards keeps the branches whose commits are nowhere else.
        let clean = try grove(["clean", "1"])
        #expect(clean.status == 0 || clean.status == 1, "\(clean.stderr)")
        #expect(try prunable() == "")
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/vanish") == "vanish")
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/amend") == "amended start")
    }
    // MARK: A full disk

    /// A 2 MiB tmpfs as the grove home and a ~1 MiB repository: the first worktree fits, the
    /// next ones do not. Each task that hits the full disk fails with one line naming it and the
    /// cause; its partial worktree, admin entry and branch are gone; the repository and the state
    /// stay sound; once there is room, `grove retry` finishes the run.
    @Test(.enabled(if: SmallDisk.canMount, "needs root and a working `mount -t tmpfs` (skipped otherwise)"))
    func aFullDiskFailsTheTasksItHitsAndLeavesNoHalfWorktree() throws {
        var files: [String: String] = [:]
        for index in 0..<64 {
            files["data/file\(index).txt"] = String(repeating: "\(index) the quick brown fox\n", count: 600)
        }
        try repo.commit("big", files: files)
        let main = try repo.revParse("main")
        let refs = try repo.refs()
        let disk = try SmallDisk(at: sandbox.child("small-home"), size: "2m")
        defer { disk.unmount() }

        let run = try grove(
            ["run", "--count", "4", "--name", "t", "-j", "1", "--", "true"], environment: ["GROVE_HOME": disk.path])
        #expect(run.status == 1, "\(run.stderr)")
        let report = try status(1, environment: ["GROVE_HOME": disk.path])
        #expect(report.state == .finished)
        let failed = report.tasks.filter { $0.state == .failed }
        let succeeded = report.tasks.filter { $0.state == .succeeded }
        #expect(!failed.isEmpty && !succeeded.isEmpty, "\(report.tasks.map { ($0.name, $0.state) })")
        #expect(failed.count + succeeded.count == 4)
        for task in failed {
            #expect(task.reason?.contains("No space left on device") == true, "\(task.reason ?? "-")")
            let lines = run.stderr.split(separator: "\n").filter { $0.contains("[\(task.name)] failed") }
            #expect(lines.count == 1 && lines[0].contains("No space left on device"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: task.worktree), "\(task.name)")
            #expect(!FileManager.default.fileExists(atPath: repo.path + "/.git/worktrees/\(task.name)"))
            #expect(try repo.git("show-ref", "--verify", "-q", "refs/heads/\(task.branch)", check: false).status != 0)
        }
        let worktrees = try repo.output("worktree", "list", "--porcelain")
        #expect(worktrees.components(separatedBy: "\nworktree ").count == 1 + succeeded.count, "\(worktrees)")
        #expect(try prunable() == "")
        #expect(try repo.git("fsck", "--no-progress").status == 0)
        #expect(try repo.revParse("main") == main)
        #expect(
            try repo.refs().split(separator: "\n").filter { !$0.contains("refs/heads/grove/") }.joined(separator: "\n")
                == refs)

        // Room again: the failed tasks are made and run; nothing else changes.
        try disk.resize("16m")
        let retry = try grove(["retry", "1"], environment: ["GROVE_HOME": disk.path])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try status(1, environment: ["GROVE_HOME": disk.path]).tasks.allSatisfy { $0.state == .succeeded })
        #expect(try prunable() == "")
    }
}

/// grove's watchdog program on its own, fed by hand: what it kills on end-of-file and what not.
@Suite("RunFaults: the watchdog")
struct WatchdogTests {
    /// Starts `sh -c SCRIPT` in a new session with `extra` in its environment, and returns the
    /// session's process group once a process running `sleep marker` shows up in it.
    func victim(_ script: String, marker: String, environment extra: [String: String] = [:]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var group: Int32 = 0
        _ = eventually {
            guard let pid = ProcessTable.running(withArgument: marker).first,
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            group = Int32(fields[2]) ?? 0
            return group > 1
        }
        return group
    }

    /// A registered group dies with its grandchildren; a released one is left alone; a process
    /// from a spawn never registered (grove died in between) is found by its marker and dies.
    @Test func endOfFileKillsRegisteredGroupsAndUnregisteredSpawnsOnly() throws {
        let marker = "7\(Int.random(in: 10_000...99_999))"
        let token = "test\(UInt64.random(in: 1...UInt64.max))"
        let registered = try victim("sleep \(marker) & sleep \(marker); wait", marker: marker)
        let released = try victim("sleep \(marker)1 & sleep \(marker)1; wait", marker: marker + "1")
        let unregistered = try victim(
            "sleep \(marker)2 & sleep \(marker)2; wait", marker: marker + "2",
            environment: [GroupWatchdog.variable: token])
        defer { for group in [registered, released, unregistered] where group > 1 { kill(-group, SIGKILL) } }
        #expect(eventually { ProcessTable.running(withArgument: marker).count == 2 })
        #expect(eventually { ProcessTable.running(withArgument: marker + "2").count == 2 })

        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", GroupWatchdog.script, "grove-watchdog", token]
        let input = Pipe()
        watchdog.standardInput = input
        try watchdog.run()
        let lines = "s\n+\(registered)\ns\n+\(released)\n-\(released)\ns\n"
        try input.fileHandleForWriting.write(contentsOf: Data(lines.utf8))
        try input.fileHandleForWriting.close()
        watchdog.waitUntilExit()

        #expect(eventually { ProcessTable.running(withArgument: marker).isEmpty })
        #expect(eventually { ProcessTable.running(withArgument: marker + "2").isEmpty })
        #expect(ProcessTable.running(withArgument: marker + "1").count == 2)
        #expect(registered > 1 && released > 1 && unregistered > 1)
    }

    /// When grove ends normally every group is released first: end-of-file then kills nothing.
    @Test func endOfFileAfterEveryReleaseKillsNothing() throws {
        let marker = "6\(Int.random(in: 10_000...99_999))"
        let bystander = try victim(
            "sleep \(marker)", marker: marker, environment: [GroupWatchdog.variable: "other-token"])
        defer { if bystander > 1 { kill(-bystander, SIGKILL) } }
        #expect(eventually { ProcessTable.running(withArgument: marker).count == 1 })
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", GroupWatchdog.script, "grove-watchdog", "other-token"]
        let input = Pipe()
        watchdog.standardInput = input
        try watchdog.run()
        try input.fileHandleForWriting.write(contentsOf: Data("s\n+\(bystander)\n-\(bystander)\n".utf8))
        try input.fileHandleForWriting.close()
        watchdog.waitUntilExit()
        usleep(200_000)
        #expect(ProcessTable.running(withArgument: marker).count == 1)
    }
}

/// A small tmpfs, to fill up on purpose; needs root (or CAP_SYS_ADMIN) and `mount`.
struct SmallDisk {
    let path: String

    /// Whether this machine lets the tests mount one (tried once, on a scratch directory).
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = NSTemporaryDirectory() + "grove-tmpfs-probe-\(getpid())"
        guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil,
            let disk = try? SmallDisk(at: probe, size: "1m")
        else { return false }
        disk.unmount()
        try? FileManager.default.removeItem(atPath: probe)
        return true
    }()

    init(at path: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Shell.run(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        self.path = path
    }

    func resize(_ size: String) throws {
        try Shell.run(["mount", "-o", "remount,size=\(size)", path])
    }

    func unmount() {
        _ = try? Shell.run(["umount", path], check: false)
    }
}

extension TestRepository {
    /// Runs git in this repository, optionally without failing on a non-zero exit.
    @discardableResult
    func git(_ arguments: String..., check: Bool) throws -> ProcessResult {
        try Shell.run(["git", "-C", path] + arguments, check: check)
    }
}

/// The processes started under one grove home, found by the `GROVE_HOME` their environment
/// inherited from grove (tasks, their children, grove's watchdog).
enum TaskProcesses {
    static func alive(home: String, except excluded: Int32? = nil) -> [Int32] {
        let entry = Data("GROVE_HOME=\(home)".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let pid = Int32(name), pid != getpid(), pid != excluded,
                let environment = FileManager.default.contents(atPath: "/proc/\(name)/environ")
            else { return nil }
            let found = environment.split(separator: 0).contains { Data($0) == entry }
            return found && ProcessTable.isRunning(pid) ? pid : nil
        }
    }

    /// `pid: command line` of each, for a failure message.
    static func describe(home: String) -> String {
        alive(home: home).map { pid in
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
            return "\(pid): "
                + data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
        }.joined(separator: "; ")
    }
}

/// The pieces of a kill that the random rounds hit only sometimes, made on purpose.
@Suite("RunFaults: a run cut short")
struct RunCutShortTests {
    /// grove killed while checking out a task's worktree leaves it with an empty index and some of
    /// its files; resetting it for a retry must restore the index too, or the task's next commit
    /// deletes every file the index missed.
    @Test func resettingAHalfCheckedOutWorktreeRestoresItsIndex() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository("repo", files: ["a.txt": "a\n", "b/c.txt": "c\n", "d.txt": "d\n"])
        let start = try repo.revParse("HEAD")
        let path = sandbox.child("half")
        try repo.git("branch", "task")
        _ = try repo.open().addWorktree(at: path, branch: "task", checkout: .none)
        try "a\n".write(toFile: path + "/a.txt", atomically: true, encoding: .utf8)
        try "d\n".write(toFile: path + "/d.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: path + "/b", withIntermediateDirectories: true)
        try "c\n".write(toFile: path + "/b/c.txt", atomically: true, encoding: .utf8)
        try "stray\n".write(toFile: path + "/stray.txt", atomically: true, encoding: .utf8)
        let worktree = TestRepository(existing: path)
        #expect(try !worktree.porcelainStatus().isEmpty)

        let commit = try #require(ObjectID(hex: start))
        try Repository.openWorkingTree(at: path).resetWorktree(toBranch: "task", at: commit)
        #expect(try worktree.porcelainStatus() == "")
        #expect(try worktree.output("ls-files") == "a.txt\nb/c.txt\nd.txt")
        #expect(try worktree.read("b/c.txt") == "c\n")
        #expect(!FileManager.default.fileExists(atPath: path + "/stray.txt"))
    }
}
