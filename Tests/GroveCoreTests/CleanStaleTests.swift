import Foundation
import GroveGit
import Synchronization
import TestSupport
import Testing

@testable import GroveCore

/// `grove clean --stale` on real repositories whose worktrees the git CLI made; the git CLI
/// checks what is left.
@Suite("Clean --stale")
struct CleanStaleTests {
    let sandbox: Sandbox
    /// Where the repositories live (what `--scan` is given).
    let source: String

    init() throws {
        sandbox = try Sandbox()
        source = sandbox.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    }

    func options(
        dryRun: Bool = false, force: Bool = false, olderThan: String? = nil, currentDirectory: String? = nil
    ) -> StaleCleanOptions {
        StaleCleanOptions(
            scanDirectories: [source], olderThan: olderThan, dryRun: dryRun, force: force,
            currentDirectory: currentDirectory ?? sandbox.path)
    }

    func clean(
        _ options: StaleCleanOptions, beforeActing: (@Sendable (String, [CleanItem]) -> Void)? = nil
    ) async throws -> CleanReport {
        let cleaner = try StaleCleaner.prepare(options: options, store: nil, home: nil)
        return await cleaner.execute(beforeActing: beforeActing)
    }

    /// Classes by worktree directory name (or branch, for a branch alone).
    func classes(_ report: CleanReport) -> [String: CleanClass] {
        Dictionary(
            report.items.map { (($0.worktree as NSString?)?.lastPathComponent ?? $0.branch ?? "?", $0.kind) },
            uniquingKeysWith: { first, _ in first })
    }

    @Test func removesExactlyTheMissingMergedAndAbandonedOnesInEveryScannedRepository() async throws {
        let fixtures = try ["alpha", "beta"].map { try StaleFixture(source + "/" + $0) }
        let report = try await clean(options())

        #expect(report.problems.isEmpty)
        #expect(report.items.count == 12)
        for fixture in fixtures {
            let items = report.items.filter { $0.repository == fixture.repo.path }
            #expect(
                classes(CleanReport(mode: .stale, dryRun: false, sizesMeasured: true, items: items)) == [
                    "gone": .missing, "merged": .merged, "old": .abandoned, "dirty": .dirty, "unmerged": .unmerged,
                    "locked": .locked,
                ])
            // git agrees: only the dirty, unmerged and locked worktrees are left.
            #expect(try fixture.listed() == fixture.expectedListing(["dirty", "locked", "unmerged"]))
            #expect(!FileManager.default.fileExists(atPath: fixture.worktree("merged")))
            #expect(!FileManager.default.fileExists(atPath: fixture.worktree("old")))
            // Merged and abandoned branches went with their worktrees; the pruned one's stays.
            #expect(try fixture.branches() == ["dirty", "gone", "locked", "main", "unmerged"])
            // Nothing was lost: the dirty files and the unmerged commit are still there.
            #expect(try String(contentsOfFile: fixture.worktree("dirty") + "/README.md", encoding: .utf8) == "edited\n")
            #expect(try String(contentsOfFile: fixture.worktree("dirty") + "/draft.txt", encoding: .utf8) == "draft\n")
            #expect(try fixture.repo.output("log", "-1", "--format=%s", "unmerged") == "unmerged work")
            #expect(try fixture.repo.output("worktree", "list", "--porcelain").contains("locked on a USB disk"))
            let fsck = try Shell.run(["git", "-C", fixture.repo.path, "fsck", "--no-dangling"], check: false)
            #expect(fsck.status == 0, "\(fsck.stderr)")
        }
        let merged = try #require(report.items.first { $0.worktree?.hasSuffix("alpha-wt/merged") == true })
        #expect(merged.worktreeAction == .remove && merged.branchAction == .delete && merged.done)
        #expect((merged.sizeBytes ?? 0) > 0)
        let totals = report.totals
        #expect(totals.worktreesRemoved == 4)
        #expect(totals.entriesPruned == 2)
        #expect(totals.branchesDeleted == 4)
        #expect(totals.kept == 6)
        #expect(totals.errors == 0)
        #expect((totals.bytesFreed ?? 0) > 0)

        // --force removes the dirty and unmerged ones too; the locked one is never touched.
        let forced = try await clean(options(force: true))
        #expect(forced.totals.worktreesRemoved == 4)
        #expect(forced.totals.kept == 2)
        for fixture in fixtures {
            #expect(try fixture.listed() == fixture.expectedListing(["locked"]))
            #expect(try fixture.branches() == ["gone", "locked", "main"])
            #expect(FileManager.default.fileExists(atPath: fixture.worktree("locked") + "/README.md"))
        }
    }

    @Test func aDryRunChangesNothingByteForByteAndPredictsTheRealRun() async throws {
        let fixtures = try ["alpha", "beta"].map { try StaleFixture(source + "/" + $0) }
        func state() throws -> [String] {
            try fixtures.flatMap { [try $0.repo.output("worktree", "list", "--porcelain"), try $0.repo.refs()] }
        }
        let before = try state()
        let files = try snapshot(of: source)

        let dry = try await clean(options(dryRun: true))
        let dryForced = try await clean(options(dryRun: true, force: true))
        #expect(try state() == before)
        #expect(try snapshot(of: source) == files)
        #expect(dry.items.allSatisfy { !$0.done })
        #expect(dryForced.totals.worktreesRemoved == 8)

        let real = try await clean(options())
        #expect(dry.items.map(\.kind) == real.items.map(\.kind))
        #expect(dry.items.map(\.worktreeAction) == real.items.map(\.worktreeAction))
        #expect(dry.items.map(\.branchAction) == real.items.map(\.branchAction))
        #expect(dry.totals == real.totals)
    }

    @Test func aWorktreeThatChangesBetweenScanAndRemovalIsKept() async throws {
        let fixture = try StaleFixture(source + "/alpha")
        let merged = fixture.worktree("merged")
        let old = fixture.worktree("old")
        let report = try await clean(options()) { _, items in
            // Both were found removable; now someone edits one and commits in the other.
            #expect(items.first { $0.worktree == merged }?.worktreeAction == .remove)
            #expect(items.first { $0.worktree == old }?.worktreeAction == .remove)
            try? "late edit\n".write(toFile: merged + "/README.md", atomically: false, encoding: .utf8)
            _ = try? Shell.git("commit", "-q", "--allow-empty", "-m", "late commit", in: old)
        }
        let mergedItem = try #require(report.items.first { $0.worktree == merged })
        #expect(mergedItem.kind == .dirty)
        #expect(mergedItem.worktreeAction == .keep)
        #expect(mergedItem.branchAction == .keep)
        #expect(mergedItem.reason?.contains("since the scan") == true)
        let oldItem = try #require(report.items.first { $0.worktree == old })
        #expect(oldItem.worktreeAction == .keep)
        #expect(oldItem.reason?.contains("HEAD moved since the scan") == true)

        #expect(try String(contentsOfFile: merged + "/README.md", encoding: .utf8) == "late edit\n")
        #expect(try fixture.repo.output("log", "-1", "--format=%s", "old") == "late commit")
        #expect(try fixture.listed() == fixture.expectedListing(["dirty", "locked", "merged", "old", "unmerged"]))
        #expect(try fixture.branches().contains("merged"))
        #expect(report.totals.worktreesRemoved == 0)
        #expect(report.totals.entriesPruned == 1)
    }

    @Test func ctrlCBeforeTheRemovalsLeavesEverythingAsItWas() async throws {
        let fixture = try StaleFixture(source + "/alpha")
        let before = try fixture.listed()
        let control = CleanControl()
        let cleaner = try StaleCleaner.prepare(options: options(), store: nil, home: nil)
        let report = await cleaner.execute(control: control) { _, _ in control.stop() }
        #expect(report.interrupted)
        #expect(!report.items.contains { $0.done })
        #expect(report.items.first { $0.branch == "merged" }?.reason?.contains("grove was interrupted") == true)
        #expect(try fixture.listed() == before)
        #expect(try fixture.branches().contains("merged"))
    }

    @Test func aWorktreeOfARunStillGoingOnIsNeverTouched() async throws {
        let fixture = try StaleFixture(source + "/alpha")
        let store = try StateStore(home: GroveHome(path: sandbox.child("home")))
        // This process stands for the live grove of the run.
        try store.createRun(jobs: 1) { run in
            [
                TaskRecord(
                    run: run.number, name: "t", position: 0, repo: fixture.repo.path, base: "main", branch: "merged",
                    worktree: fixture.worktree("merged"), command: ["true"], log: "")
            ]
        }
        let cleaner = try StaleCleaner.prepare(
            options: options(), store: store, home: GroveHome(path: sandbox.child("home")))
        let report = await cleaner.execute()
        #expect(classes(report)["merged"] == .running)
        #expect(try fixture.listed().contains(fixture.expectedListing(["merged"])[1]))
        // Without --repo or --scan, the repositories are those grove's state knows.
        let known = try StaleCleaner.prepare(
            options: StaleCleanOptions(dryRun: true), store: store, home: GroveHome(path: sandbox.child("home")))
        #expect(known.repositoryPaths == [fixture.repo.path])
    }

    @Test func theCurrentDirectorysWorktreeAndABaseBranchWorktreeAreNeverTouched() async throws {
        let fixture = try StaleFixture(source + "/alpha")
        // A worktree on a branch that grove's tasks use as their base, merged and old.
        try fixture.repo.git("branch", "develop")
        try fixture.repo.git("worktree", "add", "-q", fixture.worktree("develop"), "develop")
        try fixture.age("develop", days: 60)
        let knowledge = CleanKnowledge(
            runs: [],
            tasks: [
                TaskRecord(
                    run: 1, name: "t", position: 0, repo: fixture.repo.path, base: "develop", branch: "grove/1/t",
                    worktree: sandbox.child("home/worktrees/1/t"), command: ["true"], log: "")
            ])
        let inside = fixture.worktree("merged") + "/src"
        let cleaner = StaleCleaner(
            targets: [.init(path: fixture.repo.path)], options: options(currentDirectory: inside),
            olderThan: 14 * 86_400, knowledge: knowledge, home: nil, vanished: [])
        let report = await cleaner.execute()
        #expect(classes(report)["merged"] == .current)
        #expect(classes(report)["develop"] == .base)
        #expect(try fixture.listed() == fixture.expectedListing(["develop", "dirty", "locked", "merged", "unmerged"]))
        // The main worktree is never a row.
        #expect(!report.items.contains { $0.worktree == fixture.repo.path })
    }

    @Test func recentWorktreesAndPushedBranchesAreNotStale() async throws {
        let origin = sandbox.child("origin.git")
        let seed = try sandbox.repository("seed", files: ["README.md": "hello\n"])
        try Shell.run(["git", "clone", "-q", "--bare", seed.path, origin])
        try Shell.run(["git", "clone", "-q", origin, source + "/clone"])
        let clone = TestRepository(existing: source + "/clone")
        try clone.git("config", "user.name", "Test User")
        try clone.git("config", "user.email", "test@example.com")
        let wts = sandbox.child("clone-wt")
        // Fresh, nothing committed yet.
        try clone.git("worktree", "add", "-q", "-b", "fresh", wts + "/fresh")
        // Committed and pushed, not merged.
        try clone.git("worktree", "add", "-q", "-b", "review", wts + "/review")
        try Shell.git("commit", "-q", "--allow-empty", "-m", "in review", in: wts + "/review")
        try Shell.git("push", "-q", "origin", "review", in: wts + "/review")
        // Merged on the server only: main there has it, local main does not.
        try clone.git("worktree", "add", "-q", "-b", "landed", wts + "/landed")
        try Shell.git("commit", "-q", "--allow-empty", "-m", "landed upstream", in: wts + "/landed")
        try Shell.git("push", "-q", "origin", "landed:main", in: wts + "/landed")
        try clone.git("fetch", "-q", "origin")

        let report = try await clean(options())
        #expect(classes(report) == ["fresh": .recent, "review": .pushed, "landed": .merged])
        let listed = try clone.output("worktree", "list")
        #expect(listed.contains("/fresh") && listed.contains("/review") && !listed.contains("/landed"))

        // A month later, the fresh one is abandoned; the pushed one is still someone's work.
        var monthLater = options()
        monthLater.now = Date().addingTimeInterval(30 * 86_400)
        let later = try await clean(monthLater)
        #expect(classes(later)["fresh"] == .abandoned)
        #expect(classes(later)["review"] == .pushed)
        #expect(try clone.output("branch", "--list", "review") != "")
    }

    @Test func groveBranchesWithoutAWorktreeGoOnlyWhenFullyMerged() async throws {
        let repo = try TestRepository(path: source + "/repo")
        try repo.commit("initial", files: ["README.md": "hello\n"])
        try repo.git("branch", "grove/1/landed")
        try repo.git("branch", "grove/1/work")
        try repo.git("branch", "feature")  // merged too, but not grove's: left alone
        try repo.git("switch", "-q", "grove/1/work")
        try repo.commit("task work", files: ["work.txt": "w\n"])
        try repo.git("switch", "-q", "main")
        // A grove branch whose worktree directory is gone: pruned, then deleted.
        try repo.git("worktree", "add", "-q", "-b", "grove/2/gone", sandbox.child("gone"))
        try FileManager.default.removeItem(atPath: sandbox.child("gone"))

        let report = try await clean(options())
        let byBranch = Dictionary(uniqueKeysWithValues: report.items.map { ($0.branch ?? "?", $0) })
        #expect(byBranch["grove/1/landed"]?.kind == .merged)
        #expect(byBranch["grove/1/landed"]?.worktree == nil)
        #expect(byBranch["grove/2/gone"]?.worktreeAction == .prune)
        #expect(byBranch["grove/2/gone"]?.branchAction == .delete)
        #expect(byBranch["grove/1/work"] == nil)
        #expect(byBranch["feature"] == nil)
        #expect(
            try repo.output("for-each-ref", "--format=%(refname:short)", "refs/heads").split(separator: "\n")
                == ["feature", "grove/1/work", "main"])
        #expect(try repo.output("worktree", "list", "--porcelain").components(separatedBy: "worktree ").count == 2)
    }

    @Test func aMissingWorktreeWhoseDetachedHeadHoldsTheOnlyCopyOfCommitsIsKept() async throws {
        let repo = try TestRepository(path: source + "/repo")
        try repo.commit("initial", files: ["README.md": "hello\n"])
        let path = sandbox.child("detached")
        try repo.git("worktree", "add", "-q", "--detach", path)
        try Shell.git("commit", "-q", "--allow-empty", "-m", "only here", in: path)
        let commit = try Shell.git("rev-parse", "HEAD", in: path).output
        try FileManager.default.removeItem(atPath: path)

        let report = try await clean(options())
        let item = try #require(report.items.first)
        #expect(item.kind == .unmerged)
        #expect(item.worktreeAction == .keep)
        #expect(item.fix?.contains("branch") == true)
        #expect(try repo.output("worktree", "list").contains("detached"))
        let forced = try await clean(options(force: true))
        #expect(forced.items.first?.worktreeAction == .prune)
        #expect(try !repo.output("worktree", "list").contains("detached"))
        _ = commit
    }

    @Test func aBareRepositorysWorktreesAreCleanedAndItsHeadBranchKept() async throws {
        let seed = try sandbox.repository("seed", files: ["README.md": "hello\n"])
        let bare = source + "/project.git"
        try Shell.run(["git", "clone", "-q", "--bare", seed.path, bare])
        let main = sandbox.child("project-main")
        try Shell.git("worktree", "add", "-q", main, "main", in: bare)
        try Shell.git("worktree", "add", "-q", "-b", "done", sandbox.child("project-done"), in: bare)
        try Shell.run(
            [
                "git", "-C", sandbox.child("project-done"), "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q",
                "--allow-empty", "-m", "done",
            ])
        try Shell.git("update-ref", "refs/heads/main", "done", in: bare)
        try Shell.git("-C", main, "reset", "-q", "--hard", "main", in: bare)

        let report = try await clean(options())
        // The bare repository has no reflog: "done" is judged by age, not taken for merged.
        #expect(classes(report)["project-main"] == .base)
        #expect(classes(report)["project-done"] == .recent)
        #expect(report.items.allSatisfy { $0.repository.hasSuffix("project.git") })
        #expect(try Shell.git("worktree", "list", in: bare).output.contains("project-main"))
    }

    /// A bare repository that serves as a remote, with grove/* branches fully in main: the
    /// scan finds it, reports it skipped, and changes nothing in it, byte for byte.
    @Test func aBareRepositoryWithoutWorktreesIsSkippedAndNeverChanged() async throws {
        let seed = try sandbox.repository("seed", files: ["README.md": "hello\n"])
        try seed.git("branch", "grove/1/done")
        try seed.git("branch", "grove/2/picked")
        let bare = source + "/served.git"
        try Shell.run(["git", "clone", "-q", "--mirror", seed.path, bare])
        let refs = try Shell.git("for-each-ref", in: bare).output
        #expect(refs.contains("refs/heads/grove/1/done"))
        let files = try snapshot(of: bare)

        let report = try await clean(options())
        #expect(report.items.isEmpty)
        let problem = try #require(report.problems.first)
        #expect(problem.kind == .skipped)
        #expect(problem.repository.hasSuffix("served.git"))
        #expect(problem.message.contains("never changes one"))
        #expect(report.totals.errors == 0)
        // git agrees nothing moved, and not a byte changed.
        #expect(try Shell.git("for-each-ref", in: bare).output == refs)
        #expect(try snapshot(of: bare) == files)
    }

    /// A bare repository with linked worktrees: the merged worktree goes with its branch; a
    /// merged grove/* branch that has no worktree stays (the repository may be a remote).
    @Test func aBareRepositorysBranchesGoOnlyWithTheWorktreesCleanRemoves() async throws {
        let seed = try sandbox.repository("seed", files: ["README.md": "hello\n"])
        try seed.git("branch", "grove/1/alone")
        let bare = source + "/project.git"
        try Shell.run(["git", "clone", "-q", "--bare", seed.path, bare])
        let done = sandbox.child("project-done")
        try Shell.git("worktree", "add", "-q", "-b", "grove/1/done", done, in: bare)
        try Shell.run(
            [
                "git", "-C", done, "-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m",
                "d",
            ])
        try Shell.git("update-ref", "refs/heads/main", "grove/1/done", in: bare)
        // No reflog in a bare repository: grove's record says where the task started.
        let start = try seed.revParse("main")
        let knowledge = CleanKnowledge(
            runs: [],
            tasks: [
                TaskRecord(
                    run: 1, name: "done", position: 0, repo: bare, base: "main", branch: "grove/1/done", worktree: done,
                    command: ["true"], log: "", baseCommit: start)
            ])
        let cleaner = try StaleCleaner.prepare(options: options(), store: nil, home: nil)
        let withRecords = StaleCleaner(
            targets: cleaner.targets, options: cleaner.options, olderThan: cleaner.olderThan, knowledge: knowledge,
            home: nil, vanished: [])
        let report = await withRecords.execute()

        #expect(report.problems.isEmpty)
        let removed = try #require(report.items.first { $0.branch == "grove/1/done" })
        #expect(removed.kind == .merged && removed.worktreeAction == .remove && removed.branchAction == .delete)
        #expect(removed.done)
        #expect(!report.items.contains { $0.branch == "grove/1/alone" })
        let branches = try Shell.git("for-each-ref", "--format=%(refname:short)", "refs/heads", in: bare).lines
        #expect(branches == ["grove/1/alone", "main"])
        #expect(try !Shell.git("worktree", "list", in: bare).output.contains("project-done"))
    }

    /// A branch whose commits main has under other ids (cherry-picked) loses nothing when it
    /// goes: git cherry marks every commit `-`. One with a commit main lacks (`+`) is kept.
    @Test func aBranchWhoseCommitsAreAllPatchEquivalentInMainIsMerged() async throws {
        let repo = try TestRepository(path: source + "/repo")
        try repo.commit("initial", files: ["README.md": "hello\n"])
        let wts = sandbox.child("repo-wt")
        try repo.git("worktree", "add", "-q", "-b", "picked", wts + "/picked")
        try repo.git("worktree", "add", "-q", "-b", "partly", wts + "/partly")
        for (name, files) in [("picked", ["a.txt", "b.txt"]), ("partly", ["c.txt", "d.txt"])] {
            for file in files {
                try "\(file)\n".write(toFile: wts + "/\(name)/\(file)", atomically: false, encoding: .utf8)
                try Shell.git("add", file, in: wts + "/" + name)
                try Shell.git("commit", "-q", "-m", "add \(file)", in: wts + "/" + name)
            }
        }
        try repo.git("branch", "grove/3/alone", "picked~1")
        // main moves on, then takes picked's commits and partly's first one under new ids.
        try repo.commit("main moves on", files: ["main.txt": "main\n"])
        try repo.git("cherry-pick", "picked~1", "picked", "partly~1")
        // The second opinion: git cherry.
        #expect(try repo.output("cherry", "main", "picked").split(separator: "\n").allSatisfy { $0.hasPrefix("-") })
        #expect(try repo.output("cherry", "main", "partly").contains("+ "))
        #expect(try repo.output("cherry", "main", "grove/3/alone").hasPrefix("- "))
        #expect(try repo.output("rev-list", "--count", "main..picked") == "2")

        let report = try await clean(options())
        let picked = try #require(report.items.first { $0.branch == "picked" })
        #expect(picked.kind == .merged)
        #expect(picked.worktreeAction == .remove && picked.branchAction == .delete && picked.done)
        #expect(picked.reason?.contains("its changes are already in main") == true)
        #expect(picked.reason?.contains("git cherry") == true)
        let partly = try #require(report.items.first { $0.branch == "partly" })
        #expect(partly.kind == .unmerged && partly.worktreeAction == .keep && partly.branchAction == .keep)
        let alone = try #require(report.items.first { $0.branch == "grove/3/alone" })
        #expect(alone.branchAction == .delete && alone.done)
        // git agrees.
        #expect(try repo.output("for-each-ref", "--format=%(refname:short)", "refs/heads") == "main\npartly")
        #expect(try !repo.output("worktree", "list").contains("/picked"))
        #expect(try repo.output("worktree", "list").contains("/partly"))
    }

    @Test func aWorktreeWithAnotherInsideOrWithSubmodulesIsKept() async throws {
        let repo = try TestRepository(path: source + "/repo")
        try repo.commit("initial", files: ["README.md": "hello\n", ".gitignore": "inner/\n"])
        let outer = sandbox.child("outer")
        try repo.git("worktree", "add", "-q", "-b", "outer", outer)
        // Ignored by the outer worktree, so its status is clean: only the nesting tells.
        try repo.git("worktree", "add", "-q", "-b", "inner", outer + "/inner")
        try repo.git("worktree", "add", "-q", "-b", "modules", sandbox.child("modules"))
        // An initialized submodule keeps its repository in the worktree's admin entry.
        try FileManager.default.createDirectory(
            atPath: repo.path + "/.git/worktrees/modules/modules/lib", withIntermediateDirectories: true)
        var monthLater = options()
        monthLater.now = Date().addingTimeInterval(30 * 86_400)

        let report = try await clean(monthLater)
        #expect(classes(report) == ["outer": .nested, "inner": .abandoned, "modules": .dirty])
        #expect(report.items.first { $0.branch == "modules" }?.reason?.contains("submodules") == true)
        // The inner one was abandoned and went; the outer is kept all the same (found nested at the scan).
        #expect(FileManager.default.fileExists(atPath: outer + "/README.md"))
        #expect(FileManager.default.fileExists(atPath: sandbox.child("modules") + "/README.md"))
    }

    @Test func badInputIsRefusedNamingTheFlagBeforeAnythingHappens() throws {
        func message(_ options: StaleCleanOptions) -> String? {
            do {
                _ = try StaleCleaner.prepare(options: options, store: nil, home: GroveHome(path: sandbox.child("home")))
                return nil
            } catch let error as CleanInputError {
                return error.message
            } catch {
                return "unexpected \(error)"
            }
        }
        _ = try StaleFixture(source + "/alpha")
        #expect(
            message(StaleCleanOptions(scanDirectories: [source], olderThan: "2x"))?.hasPrefix("--older-than \"2x\"")
                == true)
        #expect(message(StaleCleanOptions(scanDirectories: [source], olderThan: "0d"))?.contains("14d") == true)
        #expect(message(StaleCleanOptions(repositories: [sandbox.child("nope")]))?.hasPrefix("--repo ") == true)
        #expect(
            message(StaleCleanOptions(repositories: [sandbox.path]))?.contains("not inside a git repository") == true)
        #expect(message(StaleCleanOptions(scanDirectories: [sandbox.child("nope")]))?.hasPrefix("--scan ") == true)
        #expect(message(StaleCleanOptions(repositories: [source + "/alpha"], depth: 2))?.hasPrefix("--depth") == true)
        #expect(message(StaleCleanOptions(scanDirectories: [source], depth: -1))?.hasPrefix("--depth") == true)
        #expect(message(StaleCleanOptions())?.contains("--repo R or --scan DIR") == true)
        // Relative paths are read from the current directory; a worktree names its repository.
        let relative = StaleCleanOptions(repositories: ["alpha-wt/dirty"], currentDirectory: source)
        #expect(
            try StaleCleaner.prepare(options: relative, store: nil, home: nil).repositoryPaths == [source + "/alpha"])
    }

    @Test func repositoriesAreFoundDownToTheDepthWithoutEnteringRepositoriesOrWorktrees() throws {
        for path in ["a", "org/b", "org/team/c", "deep/1/2/3/d"] {
            try TestRepository(path: source + "/" + path).commit("initial")
        }
        try Shell.run(["git", "init", "-q", "--bare", source + "/org/server.git"])
        // A repository inside a repository's tree, and a linked worktree: neither is listed.
        try TestRepository(path: source + "/a/vendor/inner").commit("initial")
        try Shell.git("worktree", "add", "-q", "--detach", source + "/org/linked", in: source + "/a")
        try FileManager.default.createSymbolicLink(atPath: source + "/loop", withDestinationPath: source)

        let found = RepositoryFinder.repositories(under: source, depth: 3).map { String($0.dropFirst(source.count)) }
        #expect(found == ["/a", "/org/b", "/org/server.git", "/org/team/c"])
        #expect(RepositoryFinder.repositories(under: source, depth: 1).count == 1)
        #expect(RepositoryFinder.repositories(under: source + "/a", depth: 0).count == 1)
        #expect(RepositoryFinder.repositories(under: source, depth: 5).count == 5)
    }

    @Test(arguments: [("14d", 14 * 86_400), ("1d12h", 129_600), ("2d30m", 174_600)])
    func durationsTakeDays(_ text: String, _ seconds: Int) {
        #expect(TaskDuration.parse(text) == .seconds(seconds))
    }

    @Test(arguments: ["0d", "1h2d", "d", "1d1d", "14 d"])
    func badDayDurationsAreRefused(_ text: String) {
        #expect(TaskDuration.parse(text) == nil)
    }

    @Test func sizesAreWhatDuCountsAndCanBeSkipped() async throws {
        let fixture = try StaleFixture(source + "/alpha")
        try Data(count: 300_000).write(to: URL(fileURLWithPath: fixture.worktree("dirty") + "/big.bin"))
        let du = try Shell.run(["du", "-s", "-B1", fixture.worktree("dirty")]).output.split(separator: "\t").first
        var noSize = options(dryRun: true)
        noSize.measureSize = false
        let report = try await clean(options(dryRun: true))
        #expect(
            report.items.first { $0.worktree == fixture.worktree("dirty") }?.sizeBytes.map(String.init)
                == du.map(String.init))
        let skipped = try await clean(noSize)
        #expect(skipped.items.allSatisfy { $0.sizeBytes == nil })
        #expect(skipped.totals.bytesFreed == nil)
    }
}
