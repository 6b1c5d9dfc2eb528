import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// Groves racing on one repository and one home, as two terminals would: two `grove run`s at
/// once (the same task names, so only the run number tells them apart), then two `grove
/// merge`s at once. Nothing may be corrupted: each run's branches and worktrees are its own
/// and hold what its tasks wrote, `grove status --json` tells the truth about both, the state
/// database passes SQLite's integrity check, `git fsck` is clean; a merge that meets the other's
/// lock exits 3 naming its pid, changes nothing, and lands everything when run again.
@Suite("Concurrency faults")
struct ConcurrencyFaultTests: GroveCommandSuite {
    /// Rounds of the race on one repository: 3 by default, 20 with `GROVE_TEST_LONG=1`.
    static let rounds = ProcessInfo.processInfo.environment["GROVE_TEST_LONG"] == "1" ? 20 : 3
    /// Tasks of each run.
    static let tasks = ["t-1", "t-2", "t-3"]

    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
    }

    var environment: [String: String] { ["GROVE_HOME": home, "HOME": sandbox.path, "NO_COLOR": "1"] }

    func start(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess([try builtBinary()] + arguments, in: repo.path, environment: environment)
    }

    /// SQLite's own verdict on the state database.
    func expectDatabaseIntact(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let check = try Shell.run(["sqlite3", home + "/grove.sqlite", "PRAGMA integrity_check;"], check: false)
        #expect(check.output == "ok", "\(check.stderr)", sourceLocation: sourceLocation)
    }

    func expectFsckClean(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fsck = try repo.git("fsck", "--strict", "--no-dangling")
        #expect(!fsck.stderr.contains("error"), "\(fsck.stderr)", sourceLocation: sourceLocation)
    }

    @Test func twoRunsThenTwoMergesAtOnceCorruptNothing() throws {
        // Each task writes its run, name and branch (from its environment) to a file of its own.
        let command = ["sh", "-c", #"echo "$GROVE_RUN $GROVE_TASK $GROVE_BRANCH" > "r$GROVE_RUN-$GROVE_TASK.txt""#]
        var refused = 0
        for round in 1...Self.rounds {
            let mainBefore = try repo.revParse("main")
            let runs = try (0..<2).map { _ in
                try start(["run", "--name", "t", "--count", "\(Self.tasks.count)", "-j", "3", "--"] + command)
            }
            for run in runs {
                let result = run.wait()
                #expect(result.status == 0, "round \(round): \(result.stderr)")
            }
            let numbers = [2 * round - 1, 2 * round]
            try expectRunsIntact(numbers, mainBefore: mainBefore, round: round)

            let merges = try numbers.map { try start(["merge", "\($0)"]) }
            let ended = merges.map { $0.wait() }
            #expect(ended.contains { $0.status == ExitStatus.success }, "round \(round)")
            for (index, result) in ended.enumerated() where result.status != ExitStatus.success {
                // Refused: it met the other merge's lock, naming its pid, and changed nothing.
                #expect(result.status == ExitStatus.locked, "round \(round): \(result.stderr)")
                #expect(
                    result.stderr.contains("locked by another grove (pid \(merges[1 - index].pid))"),
                    "round \(round): \(result.stderr)")
                #expect(result.stdout.isEmpty)
                refused += 1
                let again = try grove(["merge", "\(numbers[index])"])
                #expect(again.status == ExitStatus.success, "round \(round): \(again.stderr)")
            }
            try expectRunsLanded(numbers, mainBefore: mainBefore, round: round)
        }
        if ProcessInfo.processInfo.environment["GROVE_PROPERTY_VERBOSE"] == "1" {
            print("concurrency: \(Self.rounds) rounds, \(refused) merges refused by the other's lock")
        }
    }

    /// Both runs finished with every task succeeded on a branch and worktree of its own that
    /// hold exactly what the task wrote, as `grove status --json` and git both say.
    func expectRunsIntact(_ numbers: [Int], mainBefore: String, round: Int) throws {
        let listed = try repo.output("worktree", "list", "--porcelain")
        for number in numbers {
            let report = try status(number)
            #expect(report.state == .finished, "round \(round), run \(number)")
            #expect(report.tasks.map(\.name) == Self.tasks, "round \(round), run \(number)")
            for task in report.tasks {
                let file = "r\(number)-\(task.name).txt"
                let label = "round \(round), run \(number), \(task.name)"
                #expect(task.state == .succeeded, "\(label): \(task.reason ?? "")")
                #expect(task.branch == "grove/\(number)/\(task.name)", "\(label)")
                #expect(task.worktree == home + "/worktrees/\(number)/\(task.name)", "\(label)")
                #expect(task.commits == 1, "\(label)")
                #expect(task.changedFiles == [file], "\(label)")
                #expect(listed.contains("worktree \(task.worktree)\nHEAD "), "\(label)")
                let worktree = TestRepository(existing: task.worktree)
                #expect(try worktree.output("symbolic-ref", "--short", "HEAD") == task.branch, "\(label)")
                #expect(try worktree.porcelainStatus().isEmpty, "\(label)")
                #expect(try worktree.read(file) == "\(number) \(task.name) \(task.branch)\n", "\(label)")
                #expect(try repo.output("rev-list", "--count", "\(mainBefore)..\(task.branch)") == "1", "\(label)")
                #expect(try repo.output("diff", "--name-only", "\(mainBefore)", task.branch) == file, "\(label)")
            }
        }
        // The main checkout and each task's: nothing else, nothing twice.
        let worktrees = listed.components(separatedBy: "\n").filter { $0.hasPrefix("worktree ") }
        #expect(worktrees.count == 1 + numbers.count * Self.tasks.count, "round \(round): \(listed)")
        #expect(Set(worktrees).count == worktrees.count, "round \(round)")
        try expectDatabaseIntact()
        try expectFsckClean()
    }

    /// Every task of both runs landed once, on a linear base; their branches and worktrees are gone.
    func expectRunsLanded(_ numbers: [Int], mainBefore: String, round: Int) throws {
        var subjects: [String] = []
        for number in numbers {
            let report = try status(number)
            for task in report.tasks {
                let label = "round \(round), run \(number), \(task.name)"
                #expect(task.merge?.result == .landed, "\(label): \(task.merge?.reason ?? "")")
                #expect(try repo.output("branch", "--list", task.branch).isEmpty, "\(label)")
                #expect(!FileManager.default.fileExists(atPath: task.worktree), "\(label)")
                #expect(try repo.read("r\(number)-\(task.name).txt") == "\(number) \(task.name) \(task.branch)\n")
                subjects.append("grove: \(task.name) (run \(number))")
            }
        }
        let log = try repo.output("log", "--format=%s", "\(mainBefore)..main").split(separator: "\n").map(String.init)
        #expect(log.sorted() == subjects.sorted(), "round \(round)")
        #expect(try repo.output("rev-list", "--merges", "main").isEmpty)
        #expect(try repo.porcelainStatus().isEmpty)
        #expect(try repo.output("worktree", "list").split(separator: "\n").count == 1)
        try expectDatabaseIntact()
        try expectFsckClean()
    }
}
