import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// The merge queue against the git CLI on random cases: a random repository, random tasks
/// (edits, adds, deletes, renames and mode changes, some overlapping; several commits or
/// leftovers; some failing; some depending on others), base sometimes moved after the run, a
/// `--check` that fails on candidates holding a `BROKEN` line. Before merging, the expected
/// outcome is computed without grove: each queued task's own commits are cherry-picked with
/// git, in queue order, onto a scratch clone of base. Then `MergeQueue` merges, and git must
/// agree: base's tree and its new commits are exactly the prediction's (linear, each landed
/// commit once, in order); every ref is at its old commit or, for base, its new one; nothing
/// that did not land moved; `git fsck --strict` is clean; a second merge changes nothing.
///
/// Cases: 12 by default, 200 with `GROVE_TEST_LONG=1` (`make test-long`); plus 3 (100) cases
/// of `grove merge` killed with SIGKILL at a random failpoint (long mode: a third of them at a
/// random time instead) and run again. Each case is one seed (the test's argument);
/// `GROVE_PROPERTY_SEED=<seed>` replays just that case, `GROVE_PROPERTY_VERBOSE=1` prints
/// each case's results. The cases run one at a time: a dozen repositories and their processes
/// at once cost more than they save on two cores.
@Suite("Merge queue property", .serialized)
struct MergeQueuePropertyTests {
    static let seeds = seeds(normal: 12, long: 200)

    /// Seeds for cases driven through the built `grove` and killed at a random failpoint.
    static let killSeeds = seeds(normal: 3, long: 100)

    static func seeds(normal: Int, long: Int) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["GROVE_PROPERTY_SEED"], let seed = UInt64(text) { return [seed] }
        var system = SystemRandomNumberGenerator()
        return (0..<(environment["GROVE_TEST_LONG"] == "1" ? long : normal)).map { _ in system.next() }
    }

    /// The check every checked case uses: fails when any file of the candidate has a line
    /// starting with BROKEN (the worktree's files, so it also proves they are the candidate's).
    static let check = "! grep -rqs --exclude=.git -e '^BROKEN' ."

    static var long: Bool { ProcessInfo.processInfo.environment["GROVE_TEST_LONG"] == "1" }

    static var verbose: Bool { ProcessInfo.processInfo.environment["GROVE_PROPERTY_VERBOSE"] == "1" }

    @Test(arguments: seeds)
    func theQueueLandsWhatGitPredicts(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        let scenario = Scenario(&random)
        let context = "seed \(seed) (replay: GROVE_PROPERTY_SEED=\(seed))\n\(scenario)"
        let (fixture, records) = try await Self.setUp(scenario, context: context)
        let options = scenario.options
        let first = try await mergeRound(
            1, fixture: fixture, records: records, options: options, landedEarlier: [], dirty: scenario.dirty,
            context: context)
        if scenario.mergeTwice {
            // Parked tasks are tried again on the new base; landed ones are reported, not moved.
            let landed = Set(first.filter { $0.value == .landed }.keys)
            _ = try await mergeRound(
                2, fixture: fixture, records: records, options: options, landedEarlier: landed, dirty: scenario.dirty,
                context: context)
        }
    }

    /// `grove merge` (the built binary) killed with SIGKILL at a random failpoint, then run
    /// again: every ref is at its old or its new commit in between, and the second merge ends
    /// where git predicts. That is an uninterrupted merge's end when nothing was parked before
    /// the kill; a task the killed merge parked is tried again by the next one, as by any
    /// second merge, on the base as it is then.
    @Test(arguments: killSeeds)
    func aMergeKilledAnywhereEndsWhereGitPredicts(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        let scenario = Scenario(&random)
        let steps = Failpoint.steps.filter { scenario.checked || !["checking", "checked"].contains($0) }
        // At a failpoint, or (a third of the cases) after a random time, wherever grove is then.
        let failpoint = "\(random.pick(steps)):\(random.int(1...2))"
        let delay = random.chance(0.33) && Self.long ? random.int(5...150) : nil
        let killPoint = delay.map { "\($0) ms" } ?? failpoint
        let context = "seed \(seed) (replay: GROVE_PROPERTY_SEED=\(seed)), killed at \(killPoint)\n\(scenario)"
        let (fixture, records) = try await Self.setUp(scenario, context: context)
        // The order is the run's here: the prediction does not call grove's planner.
        var options = scenario.options
        options.order = .run
        let start = try RoundStart(fixture: fixture, records: records, options: options, landedEarlier: [], round: 1)
        let run = records.first?.run ?? 1
        var arguments = [try Self.groveBinary(), "merge", "\(run)", "--json"]
        if let check = options.check { arguments += ["--check", check] }
        if options.onConflict == .stop { arguments += ["--on-conflict", "stop"] }
        if options.keep { arguments.append("--keep") }
        let environment = ["GROVE_HOME": fixture.home.path, "HOME": fixture.sandbox.path, "NO_COLOR": "1"]

        let killed: ProcessResult
        if let delay {
            let merge = try BackgroundProcess(arguments, in: fixture.repo.path, environment: environment)
            try await Task.sleep(for: .milliseconds(delay))
            merge.send(SIGKILL)
            killed = merge.wait()
        } else {
            killed = try Shell.run(
                arguments, in: fixture.repo.path,
                environment: environment.merging(["GROVE_FAILPOINT": failpoint]) { $1 }, check: false)
        }
        guard killed.status == SIGKILL else {
            // The failpoint was never met (fewer tasks reached it), or the merge ended before
            // the kill: an uninterrupted merge.
            #expect([0, 1].contains(killed.status), "\(killed.stderr)\n\(context)")
            try verify(
                start, fixture: fixture, records: records, options: options,
                outcomes: try Self.outcomes(fromJSON: killed.stdout), landedEarlier: [], landedBefore: [:],
                dirty: scenario.dirty,
                context: context)
            return
        }
        if Self.verbose { print("seed \(seed): killed at \(killPoint)") }
        // Between the two: every ref at its old commit or at a candidate the journal names.
        let journal = try fixture.store.merges(run: run)
        let candidates = Set(journal.values.compactMap(\.candidate))
        for (ref, commit) in try Self.refs(fixture.repo) {
            #expect(
                start.refs[ref] == commit || candidates.contains(commit), "\(ref) at \(commit)\n\(context)")
        }
        // Tasks the killed merge finished are reported as landed earlier by the next one; a task
        // it killed after base moved is finished by it. Either way base has its candidate.
        let finished = Set(journal.values.filter { $0.step == .cleaned && $0.result == .landed }.map(\.task))
        let mainAfterKill = try #require(try fixture.tip("main"))
        var landed: [String: String] = [:]
        for row in journal.values {
            guard let candidate = row.candidate, row.result == .landed || row.step.isInFlight else { continue }
            let ancestry = try Shell.git(
                "merge-base", "--is-ancestor", candidate, mainAfterKill, in: fixture.repo.path, check: false)
            if ancestry.status == 0 { landed[row.task] = candidate }
        }
        #expect(finished.isSubset(of: landed.keys), "\(context)")
        // Git's prediction of the next merge: from base as the kill left it, with every
        // branch at its tip from before the kill (a branch moved for a check goes back).
        var refs = start.refs
        refs["refs/heads/main"] = mainAfterKill
        let prediction = try Prediction(
            fixture: fixture, records: records, refs: refs, oldMain: mainAfterKill, options: options,
            landedEarlier: Set(landed.keys), scratch: fixture.sandbox.child("scratch-2"))
        let next = RoundStart(round: 2, oldMain: mainAfterKill, refs: refs, prediction: prediction, journal: journal)

        let rerun = try Shell.run(arguments, in: fixture.repo.path, environment: environment, check: false)
        #expect([0, 1].contains(rerun.status), "\(rerun.stderr)\n\(context)")
        let outcomes = try Self.outcomes(fromJSON: rerun.stdout)
        if delay != nil, outcomes.contains(where: { $0.reason?.contains("would overwrite local changes") == true }) {
            // Killed in the middle of writing a file: content that is neither end's is left for
            // the user, as any local change is, and the queue stops on it with nothing moved.
            // Nothing was lost; the exact prediction no longer applies.
            if Self.verbose { print("seed \(seed): a file cut off mid-write stopped the next merge") }
            let fsck = try Shell.git("fsck", "--no-dangling", in: fixture.repo.path, check: false)
            #expect(fsck.status == 0, "\(fsck.stderr)\n\(context)")
            return
        }
        try verify(
            next, fixture: fixture, records: records, options: options, outcomes: outcomes,
            landedEarlier: finished, landedBefore: landed, dirty: scenario.dirty, context: context)
        // Every task landed once in all: by the killed merge or by the next.
        let all = try fixture.repo.output("log", "--format=%s", "\(start.oldMain)..main").split(separator: "\n")
        #expect(Set(all).count == all.count, "\(all)\n\(context)")
    }

    /// A fixture with the scenario's repository and its finished run (base moved after it,
    /// when the scenario says so); returns the run's tasks.
    static func setUp(_ scenario: Scenario, context: String) async throws -> (MergeFixture, [TaskRecord]) {
        let fixture = try MergeFixture("property", files: scenario.files)
        if !scenario.executables.isEmpty {
            try Shell.run(["git", "-C", fixture.repo.path, "update-index", "--chmod=+x"] + scenario.executables)
            try fixture.repo.git("commit", "-q", "-m", "executables")
            try fixture.repo.git("reset", "-q", "--hard")
        }
        let scripts = fixture.sandbox.child("scripts")
        try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        var tasks: [MergeFixture.Task] = []
        for task in scenario.tasks {
            let script = scripts + "/\(task.name).sh"
            try task.script.write(toFile: script, atomically: true, encoding: .utf8)
            tasks.append(MergeFixture.Task(name: task.name, command: "sh \(script)", dependsOn: task.dependsOn))
        }
        let run = try await fixture.run(tasks)
        if let edits = scenario.baseMove {
            let script = scripts + "/base-move.sh"
            try Scenario.shell(edits).write(toFile: script, atomically: true, encoding: .utf8)
            try Shell.run(["sh", script], in: fixture.repo.path)
            try fixture.repo.git("add", "-A")
            try fixture.repo.git("commit", "-q", "--allow-empty", "-m", "base moved after the run")
        }
        switch scenario.baseCheckout {
        case .main: break
        case .elsewhere:
            try fixture.repo.git("switch", "-q", "-c", "side")
        case .linked:
            try fixture.repo.git("switch", "-q", "-c", "side")
            try fixture.repo.git("worktree", "add", "-q", fixture.sandbox.child("main-checkout"), "main")
        }
        let records = try fixture.store.runWithTasks(number: run).1
        if let dirty = scenario.dirty, let record = records.first(where: { $0.name == dirty }),
            FileManager.default.fileExists(atPath: record.worktree)
        {
            try "scratch\n".write(toFile: record.worktree + "/scratch.txt", atomically: true, encoding: .utf8)
        }
        for task in scenario.tasks where task.fails {
            let state = records.first { $0.name == task.name }?.state
            #expect(state != .succeeded, "\(task.name) was made to fail\n\(context)")
        }
        return (fixture, records)
    }

    /// What a merge round starts from: base, every ref, and git's prediction of the round.
    struct RoundStart {
        var round: Int
        var oldMain: String
        var refs: [String: String]
        var prediction: Prediction
        /// The journal's final results so far.
        var journal: [String: MergeResult]

        init(
            round: Int, oldMain: String, refs: [String: String], prediction: Prediction,
            journal: [String: MergeRecord]
        ) {
            self.round = round
            self.oldMain = oldMain
            self.refs = refs
            self.prediction = prediction
            self.journal = journal.filter { !$0.value.step.isInFlight }.compactMapValues(\.result)
        }

        init(
            fixture: MergeFixture, records: [TaskRecord], options: MergeOptions, landedEarlier: Set<String>,
            round: Int, order: [String]? = nil
        ) throws {
            self.round = round
            oldMain = try #require(try fixture.tip("main"))
            refs = try MergeQueuePropertyTests.refs(fixture.repo)
            journal = try fixture.store.merges(run: records.first?.run ?? 0).filter { !$0.value.step.isInFlight }
                .compactMapValues(\.result)
            prediction = try Prediction(
                fixture: fixture, records: records, refs: refs, oldMain: oldMain, options: options,
                landedEarlier: landedEarlier, scratch: fixture.sandbox.child("scratch-\(round)"), order: order)
        }
    }

    /// One task's result as a merge reported it (in process, or in `--json` events).
    struct Outcome {
        var task: String
        var result: MergeResult?
        var earlier: Bool
        var commit: String?
        var conflicts: [String]
        var reason: String?
    }

    /// The `task_finished` events of `grove merge --json`.
    static func outcomes(fromJSON output: String) throws -> [Outcome] {
        try output.split(separator: "\n").compactMap { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let object, object["event"] as? String == "task_finished", let task = object["task"] as? String
            else { return nil }
            return Outcome(
                task: task, result: (object["result"] as? String).flatMap(MergeResult.init(rawValue:)),
                earlier: object["earlier"] as? Bool ?? false, commit: object["commit"] as? String,
                conflicts: object["conflicts"] as? [String] ?? [], reason: object["reason"] as? String)
        }
    }

    /// The built `grove` next to the test runner.
    static func groveBinary() throws -> String {
        var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("grove").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw PredictionError("no built grove next to \(ProcessInfo.processInfo.arguments[0])")
    }

    /// One `grove merge` of the run, in process, checked against git's prediction for it;
    /// returns the results.
    func mergeRound(
        _ round: Int, fixture: MergeFixture, records: [TaskRecord], options: MergeOptions,
        landedEarlier: Set<String>, dirty: String?, context: String
    ) async throws -> [String: MergeResult] {
        // `grove merge --plan` first: it moves nothing, and with --order planned its order is the queue's.
        let refsBeforePlan = try Self.refs(fixture.repo)
        let queue = try MergeQueue.prepare(
            options: MergeOptions(order: options.order, committer: MergeFixture.committer), store: try fixture.store,
            home: fixture.home)
        let plan = try await queue.plan().repositories.flatMap(\.tasks)
        #expect(try Self.refs(fixture.repo) == refsBeforePlan, "--plan moved a ref\n\(context)")
        let earlierInRunOrder = records.sorted { $0.position < $1.position }.map(\.name).filter(landedEarlier.contains)
        let start = try RoundStart(
            fixture: fixture, records: records, options: options, landedEarlier: landedEarlier, round: round,
            order: options.order == .planned ? earlierInRunOrder + plan.map(\.task) : nil)
        let byName = Dictionary(uniqueKeysWithValues: records.map { ($0.name, $0) })
        for (index, task) in plan.enumerated() {
            // Each after its dependencies among the queued.
            let dependencies = Set(byName[task.task]?.dependsOn ?? []).intersection(plan.map(\.task))
            #expect(dependencies.isSubset(of: plan[..<index].map(\.task)), "\(task.task)\n\(context)")
            // Without a check or a stop, --plan predicts every result the queue comes to.
            if options.check == nil && options.onConflict == .skip {
                #expect(
                    task.predicted == start.prediction.results[task.task],
                    "--plan predicted \(task.task) \(task.predicted)\n\(context)")
            }
        }
        // Tasks landed earlier: with --keep, their branches are at their landed commits.
        var landedBefore: [String: String] = [:]
        for record in records where landedEarlier.contains(record.name) {
            landedBefore[record.name] = start.refs["refs/heads/\(record.branch)"] ?? ""
        }
        let report = try await fixture.merge(options)
        let failed = records.filter { $0.state != .succeeded }.map(\.name).sorted()
        #expect(report.notQueued.map(\.task).sorted() == failed, "\(context)")
        let outcomes = report.repositories.flatMap(\.tasks).map {
            Outcome(
                task: $0.task, result: $0.result, earlier: $0.earlier, commit: $0.commit, conflicts: $0.conflicts,
                reason: $0.reason)
        }
        try verify(
            start, fixture: fixture, records: records, options: options, outcomes: outcomes,
            landedEarlier: landedEarlier, landedBefore: landedBefore, dirty: dirty, context: context)
        return start.prediction.results
    }

    /// Checks what a merge round did against its prediction, with git. `landedEarlier`: tasks
    /// the merge reports as landed by an earlier one; `landedBefore`: tasks base had when the
    /// round started, with their landed commit (where `--keep` leaves their branch); `dirty`:
    /// the task whose worktree has an untracked file (kept when it lands, its branch moved).
    func verify(
        _ start: RoundStart, fixture: MergeFixture, records: [TaskRecord], options: MergeOptions,
        outcomes: [Outcome], landedEarlier: Set<String>, landedBefore: [String: String], dirty: String?,
        context: String
    ) throws {
        let context = "round \(start.round), \(context)"
        let (oldMain, refsBefore, prediction) = (start.oldMain, start.refs, start.prediction)
        if Self.verbose {
            let summary = outcomes.map { "\($0.task)=\($0.result?.rawValue ?? "?")" }.joined(separator: " ")
            print("\(context.prefix { $0 != "(" })\(summary); \(prediction.subjects.count) commits")
        }
        // What grove says it did is what git predicted (--order planned: earlier landings aside).
        if options.order == .planned {
            let now = outcomes.map(\.task).filter { !landedEarlier.contains($0) }
            #expect(now == prediction.order.filter { !landedEarlier.contains($0) }, "\(context)")
            #expect(Set(outcomes.map(\.task)) == Set(prediction.order), "\(context)")
        } else {
            #expect(outcomes.map(\.task) == prediction.order, "\(context)")
        }
        for outcome in outcomes {
            #expect(
                outcome.result == prediction.results[outcome.task],
                "\(outcome.task): \(outcome.reason ?? "")\n\(context)")
            #expect(outcome.earlier == landedEarlier.contains(outcome.task), "\(outcome.task)\n\(context)")
            if outcome.result == .conflict, let expected = prediction.conflicts[outcome.task] {
                // git names the paths with conflict markers; libgit2 also the other sides of a rename.
                #expect(
                    Set(expected).isSubset(of: outcome.conflicts),
                    "\(outcome.task): git \(expected), grove \(outcome.conflicts)\n\(context)")
            }
        }

        // Base: exactly the predicted tree and commits, linear on top of where it was.
        let main = try #require(try fixture.tip("main"))
        #expect(try fixture.repo.revParse("main^{tree}") == prediction.tree, "\(context)")
        let subjects = try fixture.repo.output("log", "--reverse", "--format=%s", "\(oldMain)..main")
        #expect(subjects.split(separator: "\n").map(String.init) == prediction.subjects, "\(context)")
        #expect(try fixture.repo.output("rev-list", "--merges", "\(oldMain)..main").isEmpty, "\(context)")
        let ancestry = try Shell.git("merge-base", "--is-ancestor", oldMain, main, in: fixture.repo.path, check: false)
        #expect(ancestry.status == 0, "\(context)")
        let landedSince = outcomes.filter { $0.result == .landed && landedBefore[$0.task] == nil }
        #expect(main == (landedSince.last?.commit ?? oldMain), "\(context)")

        // Refs: landed branches are gone (with --keep: at their landed commit, the last of base's
        // with one of their subjects), base moved, everything else is where it was.
        var landedCommits: [String: String] = [:]
        for line in try fixture.repo.output("log", "--reverse", "--format=%H %s", "\(oldMain)..main").split(
            separator: "\n")
        {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if let owner = prediction.owners[parts[1]] { landedCommits[owner] = parts[0] }
        }
        var expectedRefs = refsBefore
        for record in records where prediction.results[record.name] == .landed {
            let commit = landedBefore[record.name] ?? landedCommits[record.name]
            let kept = options.keep || record.name == dirty
            expectedRefs["refs/heads/\(record.branch)"] = kept ? commit : nil
        }
        expectedRefs["refs/heads/main"] = main
        let refsAfter = try Self.refs(fixture.repo)
        let differing = Set(refsAfter.keys).union(expectedRefs.keys).filter { refsAfter[$0] != expectedRefs[$0] }
        let refDifferences = differing.sorted().map {
            "\($0): \(refsAfter[$0] ?? "none"), expected \(expectedRefs[$0] ?? "none")"
        }
        #expect(refDifferences.isEmpty, "\(refDifferences)\n\(context)")

        // Worktrees: landed ones removed (or, with --keep, at the landed commit); every other one
        // as it was, clean, on its old tip.
        for record in records {
            let exists = FileManager.default.fileExists(atPath: record.worktree)
            let untracked = record.name == dirty ? "?? scratch.txt" : ""
            if prediction.results[record.name] == .landed && (options.keep || record.name == dirty) {
                let worktree = TestRepository(existing: record.worktree)
                #expect(try worktree.revParse("HEAD") == expectedRefs["refs/heads/\(record.branch)"], "\(context)")
                #expect(try worktree.porcelainStatus() == untracked, "\(record.name)'s worktree\n\(context)")
            } else if prediction.results[record.name] == .landed {
                #expect(!exists, "\(record.name)'s worktree\n\(context)")
            } else if exists {
                let worktree = TestRepository(existing: record.worktree)
                #expect(try worktree.revParse("HEAD") == refsBefore["refs/heads/\(record.branch)"], "\(context)")
                if record.state == .succeeded {
                    #expect(try worktree.porcelainStatus() == untracked, "\(record.name)'s worktree\n\(context)")
                }
            } else {
                #expect(record.state != .succeeded, "\(record.name)'s worktree is gone\n\(context)")
            }
        }
        // Checkouts: clean; those of base followed it, like `git merge --ff-only`.
        for checkout in try Self.checkouts(fixture.repo) {
            let repository = TestRepository(existing: checkout.path)
            #expect(try repository.porcelainStatus().isEmpty, "\(checkout.path)\n\(context)")
            let expected = checkout.branch == "refs/heads/main" ? main : refsBefore[checkout.branch]
            #expect(try repository.revParse("HEAD") == expected, "\(checkout.path)\n\(context)")
        }
        let fsck = try Shell.git("fsck", "--strict", "--no-dangling", in: fixture.repo.path, check: false)
        #expect(fsck.status == 0 && !fsck.stderr.contains("error"), "\(fsck.stderr)\n\(context)")

        // The journal agrees: this round's results, and the earlier ones of tasks it did not reach.
        let journal = try fixture.store.merges(run: records.first?.run ?? 0)
        var stored = start.journal
        for (task, result) in prediction.results where result != .notReached { stored[task] = result }
        #expect(journal.compactMapValues { $0.result } == stored, "\(context)")
    }

    /// The main checkout and every linked one that is not a task's, with its branch.
    static func checkouts(_ repo: TestRepository) throws -> [(path: String, branch: String)] {
        var checkouts: [(path: String, branch: String)] = []
        for entry in try repo.output("worktree", "list", "--porcelain").components(separatedBy: "\n\n") {
            let lines = entry.split(separator: "\n").map(String.init)
            guard let path = lines.first(where: { $0.hasPrefix("worktree ") })?.dropFirst(9),
                let branch = lines.first(where: { $0.hasPrefix("branch ") })?.dropFirst(7),
                !branch.hasPrefix("refs/heads/grove/")
            else { continue }
            checkouts.append((String(path), String(branch)))
        }
        return checkouts
    }

    /// `git for-each-ref`: every ref and its commit.
    static func refs(_ repo: TestRepository) throws -> [String: String] {
        var refs: [String: String] = [:]
        for line in try repo.output("for-each-ref", "--format=%(refname) %(objectname)").split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { refs[parts[0]] = parts[1] }
        }
        return refs
    }
}

extension MergeQueuePropertyTests {
    /// One change a task (or base) makes to its working tree, as a line of shell. Changes to a
    /// file that is not there (renamed or deleted on the way) do nothing.
    enum Edit: CustomStringConvertible {
        /// Replace line `line` of a file.
        case setLine(String, Int, String)
        case append(String, String)
        /// Create or overwrite a file.
        case write(String, [String])
        case delete(String)
        case rename(String, String)
        case mode(String, executable: Bool)

        var shell: String {
            switch self {
            case .setLine(let file, let line, let text):
                return "[ -f '\(file)' ] && sed -i '\(line)s/.*/\(text)/' '\(file)'"
            case .append(let file, let text):
                return "[ -f '\(file)' ] && echo '\(text)' >> '\(file)'"
            case .write(let file, let lines):
                let directory = (file as NSString).deletingLastPathComponent
                let make = directory.isEmpty ? "" : "mkdir -p '\(directory)' && "
                return make + "printf '%s\\n' " + lines.map { "'\($0)'" }.joined(separator: " ") + " > '\(file)'"
            case .delete(let file):
                return "rm -f '\(file)'"
            case .rename(let from, let to):
                let directory = (to as NSString).deletingLastPathComponent
                let make = directory.isEmpty ? "" : "mkdir -p '\(directory)' && "
                return "[ -f '\(from)' ] && [ ! -e '\(to)' ] && \(make)mv '\(from)' '\(to)'"
            case .mode(let file, let executable):
                return "[ -f '\(file)' ] && chmod \(executable ? "+x" : "-x") '\(file)'"
            }
        }

        var description: String { shell }
    }

    /// One task of a case.
    struct TaskSpec: CustomStringConvertible {
        var name: String
        var dependsOn: [String]
        /// Commits the task makes itself, each a list of edits.
        var commits: [[Edit]]
        /// Edits left uncommitted, for grove to commit.
        var leftovers: [Edit]
        /// Exits 1 at the end: the task fails and is not queued.
        var fails: Bool

        var script: String {
            var lines = ["# \(name)"]
            for (number, edits) in commits.enumerated() {
                lines += edits.map(\.shell)
                lines.append(
                    "git add -A && { git diff --cached --quiet || git commit -q -m '\(name) part \(number + 1)'; }")
            }
            lines += leftovers.map(\.shell)
            lines.append(fails ? "exit 1" : "exit 0")
            return lines.joined(separator: "\n") + "\n"
        }

        var description: String {
            "task \(name) depends_on \(dependsOn)\(fails ? " (fails)" : ""):\n" + script
        }
    }

    enum BaseCheckout: String {
        /// In the main checkout.
        case main
        /// Nowhere: the main checkout is on another branch.
        case elsewhere
        /// In a linked worktree (the main checkout on another branch).
        case linked
    }

    /// A whole random case: the repository's first commit, the tasks in the task file's order,
    /// and what happens around the run.
    struct Scenario: CustomStringConvertible {
        var files: [String: String] = [:]
        var executables: [String] = []
        var tasks: [TaskSpec] = []
        /// A commit on base after the run: every candidate is then a real rebase.
        var baseMove: [Edit]?
        var checked: Bool
        var mergeTwice: Bool
        /// Where base is checked out while merging.
        var baseCheckout: BaseCheckout
        /// `--order planned`.
        var planned: Bool
        /// A task whose worktree gets an untracked file after the run.
        var dirty: String?
        /// `--keep`: landed tasks keep their worktree and branch, moved to the landed commit.
        var keep: Bool
        /// `--on-conflict stop`.
        var stopOnConflict: Bool

        init(_ random: inout SeededRandom) {
            let fileCount = random.int(3...6)
            var names: [String] = []
            for index in 0..<fileCount {
                let name = random.chance(0.3) ? "d/f\(index).txt" : "f\(index).txt"
                names.append(name)
                files[name] = (1...Self.lines).map { "f\(index) line \($0)" }.joined(separator: "\n") + "\n"
            }
            executables = names.filter { _ in random.chance(0.15) }
            checked = random.chance(0.5)
            mergeTwice = random.chance(0.3)
            baseCheckout = random.chance(0.7) ? .main : random.chance(0.5) ? .elsewhere : .linked
            planned = random.chance(0.25)
            keep = random.chance(0.2)
            stopOnConflict = random.chance(0.15)

            let taskCount = random.int(2...6)
            var specs: [TaskSpec] = []
            for index in 0..<taskCount {
                let name = "t\(index)"
                var dependsOn: [String] = []
                if index > 0 && random.chance(0.3) {
                    dependsOn.append("t\(random.int(0...(index - 1)))")
                    if index > 1 && random.chance(0.25) {
                        let other = "t\(random.int(0...(index - 1)))"
                        if !dependsOn.contains(other) { dependsOn.append(other) }
                    }
                }
                var commits: [[Edit]] = []
                var leftovers: [Edit] = []
                if !random.chance(0.05) {
                    let commitCount = random.int(1...3)
                    for number in 1...commitCount {
                        let edits = (0..<random.int(1...3)).map { edit in
                            Self.edit(&random, task: name, commit: number, edit: edit, files: names)
                        }
                        if number == commitCount && random.chance(0.5) {
                            leftovers = edits
                        } else {
                            commits.append(edits)
                        }
                    }
                    if checked && random.chance(0.15) {
                        let target =
                            random.chance(0.5) ? random.pick(names) : "\(name)-broken.txt"
                        leftovers.append(
                            target.hasSuffix("broken.txt")
                                ? .write(target, ["BROKEN by \(name)"]) : .append(target, "BROKEN by \(name)"))
                    }
                }
                specs.append(
                    TaskSpec(
                        name: name, dependsOn: dependsOn, commits: commits, leftovers: leftovers,
                        fails: random.chance(0.08)))
            }
            // Dependencies point at earlier tasks; the task file may still list them later.
            if random.chance(0.3) { specs.shuffle(using: &random) }
            tasks = specs
            dirty = random.chance(0.2) ? random.pick(specs).name : nil
            if random.chance(0.4) {
                baseMove = (0..<random.int(1...2)).map { edit in
                    Self.edit(&random, task: "base", commit: 1, edit: edit, files: names)
                }
            }
        }

        /// Lines of each first file: edits of the same or neighbouring lines conflict.
        static let lines = 16

        static func edit(
            _ random: inout SeededRandom, task: String, commit: Int, edit: Int, files: [String]
        ) -> Edit {
            let file = random.pick(files)
            let text = "\(task) c\(commit) e\(edit)"
            let roll = random.int(0...99)
            switch roll {
            case 0..<40: return .setLine(file, random.int(1...lines), text)
            case 40..<46: return .append(file, text)
            case 46..<62: return .write("\(task)-\(commit)-\(edit).txt", [text, "more"])
            case 62..<68:
                // Shared names: the same content merges cleanly, another conflicts (add/add).
                return .write("shared-\(random.int(1...2)).txt", [random.chance(0.5) ? "same" : text])
            case 68..<74: return .delete(file)
            case 74..<88:
                let stem = (file as NSString).deletingPathExtension
                // Each task renames to names of its own: libgit2 1.5.1 takes two sides renaming a
                // file to the same name for a conflict, which git merges (libgit2 #4573; see
                // MergeQueueRegressionTests).
                return .rename(file, random.chance(0.3) ? "moved/\(stem)-\(task).txt" : "\(stem)-by-\(task).txt")
            default: return .mode(file, executable: random.chance(0.7))
            }
        }

        /// The `grove merge` options the case merges with.
        var options: MergeOptions {
            MergeOptions(
                check: checked ? MergeQueuePropertyTests.check : nil, onConflict: stopOnConflict ? .stop : .skip,
                order: planned ? .planned : .run, keep: keep)
        }

        /// A script that applies `edits` in the current directory.
        static func shell(_ edits: [Edit]) -> String {
            (edits.map(\.shell) + ["exit 0"]).joined(separator: "\n") + "\n"
        }

        var description: String {
            "files \(files.keys.sorted()), executables \(executables), checked \(checked), keep \(keep),"
                + " stop on conflict \(stopOnConflict), base checked out: \(baseCheckout.rawValue),"
                + " planned \(planned), untracked file in \(dirty ?? "none"), base moves: "
                + "\(baseMove.map(\.description) ?? "no")\n" + tasks.map(\.description).joined(separator: "\n")
        }
    }

    /// What the queue must do, worked out with git alone: each queued task's own commits (from
    /// where its branch started) cherry-picked in queue order onto a scratch clone of base.
    struct Prediction {
        /// The queued tasks in landing order: run order, each after its dependencies.
        var order: [String] = []
        var results: [String: MergeResult] = [:]
        /// The paths git leaves unmerged, per conflicting task.
        var conflicts: [String: [String]] = [:]
        /// The subjects of base's new commits, in order.
        var subjects: [String] = []
        /// The task each of those subjects belongs to.
        var owners: [String: String] = [:]
        /// Base's final tree.
        var tree: String = ""

        init(
            fixture: MergeFixture, records: [TaskRecord], refs: [String: String], oldMain: String,
            options: MergeOptions, landedEarlier: Set<String>, scratch scratchPath: String, order given: [String]? = nil
        ) throws {
            let queued = records.filter { $0.state == .succeeded }.sorted { $0.position < $1.position }
            order = given ?? Self.ordered(queued).map(\.name)
            try Shell.run(["git", "clone", "-q", "--no-checkout", fixture.repo.path, scratchPath])
            let scratch = TestRepository(existing: scratchPath)
            // libgit2 knows no directory renames: neither may git here.
            try scratch.git("config", "merge.directoryRenames", "false")
            try scratch.git("checkout", "-q", "--detach", oldMain)
            let byName = Dictionary(uniqueKeysWithValues: records.map { ($0.name, $0) })
            for name in order {
                guard let task = byName[name] else { continue }
                if landedEarlier.contains(name) {
                    results[name] = .landed
                    continue
                }
                // --on-conflict stop: nothing after the first conflict is tried.
                if options.onConflict == .stop && results.values.contains(.conflict) {
                    results[name] = .notReached
                    continue
                }
                // A dependency that did not land (or is not queued) blocks it.
                if task.dependsOn.contains(where: { !(results[$0]?.isSuccess ?? false) }) {
                    results[name] = .blocked
                    continue
                }
                guard let tip = refs["refs/heads/\(task.branch)"], let start = task.baseCommit else {
                    throw PredictionError("\(name) has no branch tip or start")
                }
                let before = try scratch.revParse("HEAD")
                let commits = try scratch.output("rev-list", "--reverse", "--no-merges", "\(start)..\(tip)")
                    .split(separator: "\n").map(String.init)
                var landing: [String] = []
                var conflict: [String]?
                for commit in commits {
                    let pick = try Shell.git(
                        "cherry-pick", "--keep-redundant-commits", commit, in: scratchPath, check: false)
                    if pick.status != 0 {
                        let unmerged = try scratch.output("diff", "--name-only", "--diff-filter=U")
                        guard !unmerged.isEmpty else { throw PredictionError("cherry-pick failed: \(pick.stderr)") }
                        conflict = unmerged.split(separator: "\n").map(String.init)
                        try Shell.git("cherry-pick", "--abort", in: scratchPath, check: false)
                        try scratch.git("reset", "-q", "--hard", before)
                        break
                    }
                    let trees = try scratch.output("rev-parse", "HEAD^{tree}", "HEAD~1^{tree}").split(separator: "\n")
                    if trees.count == 2 && trees[0] == trees[1] {
                        try scratch.git("reset", "-q", "--hard", "HEAD~1")
                    } else {
                        landing.append(try scratch.output("log", "-1", "--format=%s", commit))
                    }
                }
                if let conflict {
                    results[name] = .conflict
                    conflicts[name] = conflict
                } else if landing.isEmpty {
                    results[name] = .nothingToLand
                } else if try options.check != nil
                    && Shell.git("grep", "-q", "-e", "^BROKEN", "HEAD", in: scratchPath, check: false).status == 0
                {
                    results[name] = .checkFailed
                    try scratch.git("reset", "-q", "--hard", before)
                } else {
                    results[name] = .landed
                    subjects += landing
                    for subject in landing { owners[subject] = name }
                }
            }
            tree = try scratch.revParse("HEAD^{tree}")
        }

        /// Each time the first task (in run order) whose queued dependencies are all placed.
        static func ordered(_ tasks: [TaskRecord]) -> [TaskRecord] {
            let names = Set(tasks.map(\.name))
            var placed = Set<String>()
            var remaining = tasks
            var result: [TaskRecord] = []
            while let index = remaining.firstIndex(where: { task in
                task.dependsOn.allSatisfy { !names.contains($0) || placed.contains($0) }
            }) {
                let task = remaining.remove(at: index)
                placed.insert(task.name)
                result.append(task)
            }
            return result + remaining
        }
    }

    struct PredictionError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// Cases the property test points at, pinned down one by one.
@Suite("Merge queue regressions")
struct MergeQueueRegressionTests {
    /// Two tasks rename one file to the same new name and edit different lines of it: git
    /// merges them, libgit2 1.5.1's merge reports a conflict (libgit2 #4573, open), so the second
    /// task is parked instead of landing. Nothing wrong lands; the known issue flags the day
    /// libgit2 agrees with git.
    @Test func bothRenamingAFileToTheSameNameLandsAsWithGit() async throws {
        let lines = (1...16).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let fixture = try MergeFixture(files: ["file.txt": lines])
        try await fixture.run([
            MergeFixture.Task(name: "first", command: "sed -i 3s/.*/first/ file.txt && mv file.txt moved.txt"),
            MergeFixture.Task(name: "second", command: "sed -i 14s/.*/second/ file.txt && mv file.txt moved.txt"),
        ])
        let report = try await fixture.merge()
        #expect(report.outcomes.first?.result == .landed)
        withKnownIssue("libgit2 1.5.1 takes rename/rename to one name for a conflict (libgit2 #4573)") {
            #expect(report.outcomes.last?.result == .landed)
        }
        try fixture.expectFsckClean()
    }

    /// Two tasks rename one file to different names: git's merge calls it a rename/rename
    /// conflict. The path-by-path fast rebase saw only a deletion base had already made and an
    /// add, and landed the second: base then held the file twice, under both names.
    @Test func renamingAFileTwoWaysIsAConflictNotTwoCopies() async throws {
        let lines = (1...16).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let fixture = try MergeFixture(files: ["file.txt": lines, "other.txt": "other\n"])
        try await fixture.run([
            MergeFixture.Task(name: "first", command: "mv file.txt first.txt"),
            MergeFixture.Task(name: "second", command: "mv file.txt second.txt"),
        ])
        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.landed, .conflict])
        #expect(try fixture.repo.output("ls-tree", "--name-only", "main") == "first.txt\nother.txt")
        try fixture.expectFsckClean()
    }

    /// A queue that stops (`--on-conflict stop`) before a task an earlier merge landed still
    /// reports that task as landed (earlier), as the journal says, not as not reached.
    @Test func aStoppedQueueStillReportsTasksLandedEarlier() async throws {
        let fixture = try MergeFixture()
        // `parked` fails the check (its marker file) and so stays parked; `winner` lands.
        let run = try await fixture.run([
            MergeFixture.Task(name: "parked", command: Fixtures.agent("conflict-edit") + " && touch parked.marker"),
            .conflicting("winner"),
        ])
        let check = "test ! -e parked.marker"
        let first = try await fixture.merge(MergeOptions(check: check))
        #expect(first.outcomes.map(\.result) == [.checkFailed, .landed])

        // Tried again on the new base, `parked` conflicts with `winner` and stops the queue.
        let second = try await fixture.merge(MergeOptions(check: check, onConflict: .stop))
        #expect(second.outcomes.map(\.result) == [.conflict, .landed])
        #expect(second.outcomes.map(\.earlier) == [false, true])
        #expect(second.outcomes.last?.commit == first.outcomes.last?.commit)
        #expect(try fixture.store.merge(run: run, task: "winner")?.result == .landed)
    }
}
