import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// `grove clean` driven as a user would: the built binary on repositories the git CLI made,
/// and the git CLI as the second opinion.
@Suite("grove clean")
struct CleanCommandTests {
    let sandbox: Sandbox
    let source: String
    let home: String

    init() throws {
        sandbox = try Sandbox()
        source = sandbox.child("src")
        home = sandbox.child("home")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    }

    var environment: [String: String] { ["GROVE_HOME": home, "HOME": sandbox.path] }

    func grove(_ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
        try Shell.run(
            [try builtBinary()] + arguments, in: directory ?? sandbox.path, environment: environment, check: false)
    }

    /// The fixture in `src/<name>`, worktrees in `src/<name>-wt/`: gone (directory
    /// deleted), merged, old (no commits, 30 days untouched), dirty, unmerged, locked.
    func fixture(_ name: String) throws -> TestRepository {
        let repo = try TestRepository(path: source + "/" + name)
        try repo.commit("initial", files: ["README.md": "hello\n"])
        let wt = source + "/" + name + "-wt"
        for branch in ["gone", "merged", "old", "dirty", "unmerged", "locked"] {
            try repo.git("worktree", "add", "-q", "-b", branch, wt + "/" + branch)
        }
        try FileManager.default.removeItem(atPath: wt + "/gone")
        try Shell.git("commit", "-q", "--allow-empty", "-m", "merged work", in: wt + "/merged")
        try repo.git("merge", "-q", "--ff-only", "merged")
        try "draft\n".write(toFile: wt + "/dirty/draft.txt", atomically: false, encoding: .utf8)
        try Shell.git("commit", "-q", "--allow-empty", "-m", "unmerged work", in: wt + "/unmerged")
        try repo.git("worktree", "lock", "--reason", "on a USB disk", wt + "/locked")
        try Shell.run([
            "find", wt + "/old", repo.path + "/.git/worktrees/old", repo.path + "/.git/logs/refs/heads/old",
            repo.path + "/.git/refs/heads/old", "-exec", "touch", "-h", "-d", "30 days ago", "{}", "+",
        ])
        return repo
    }

    /// The linked worktrees git lists, by directory name.
    func linked(_ repo: TestRepository) throws -> [String] {
        try repo.output("worktree", "list", "--porcelain").split(separator: "\n")
            .filter { $0.hasPrefix("worktree ") }.dropFirst()
            .map { ($0 as NSString).lastPathComponent }
    }

    @Test func staleScanRemovesExactlyTheStaleWorktreesAndGitAgrees() throws {
        let repos = try [fixture("alpha"), fixture("beta")]
        let result = try grove(["clean", "--stale", "--scan", source])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first?.split(separator: " ", omittingEmptySubsequences: true) == [
                "repository", "worktree", "branch", "class", "action", "size",
            ])
        #expect(lines.contains { $0.contains("alpha-wt/merged") && $0.contains("removed + branch deleted") })
        #expect(lines.contains { $0.contains("beta-wt/gone") && $0.contains("missing") && $0.contains("pruned") })
        #expect(lines.contains { $0.contains("alpha-wt/locked") && $0.contains("kept") })
        #expect(lines.contains { $0.contains("git worktree remove --force") && $0.contains("alpha-wt/dirty") })
        #expect(lines.last?.hasPrefix("removed 4 worktrees (") == true)
        #expect(lines.last?.contains("pruned 2 admin entries, deleted 4 branches; kept 6") == true)
        for repo in repos {
            #expect(try linked(repo).sorted() == ["dirty", "locked", "unmerged"])
            #expect(try repo.output("log", "-1", "--format=%s", "unmerged") == "unmerged work")
        }
        // Nothing of grove's own was created to clean repositories it was pointed at.
        #expect(!FileManager.default.fileExists(atPath: home))

        let forced = try grove(["clean", "--stale", "--scan", source, "--force", "--json"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(forced.stdout.utf8)) as? [String: Any])
        let totals = try #require(document["totals"] as? [String: Any])
        #expect(totals["worktrees_removed"] as? Int == 4)
        #expect(totals["kept"] as? Int == 2)
        #expect(document["mode"] as? String == "stale")
        #expect(forced.stdout.split(separator: "\n").count == 1)
        for repo in repos { #expect(try linked(repo) == ["locked"]) }
    }

    @Test func dryRunLeavesEveryRepositoryByteForByteAsItWas() throws {
        let repos = try [fixture("alpha"), fixture("beta")]
        func state() throws -> [String] {
            try repos.flatMap { [try $0.output("worktree", "list", "--porcelain"), try $0.refs()] }
        }
        let before = try state()
        let listing = try Shell.run(["ls", "-laR", "--time-style=full-iso", source]).stdout
        for flags in [["--dry-run"], ["--dry-run", "--force", "--json"]] {
            let result = try grove(["clean", "--stale", "--scan", source] + flags)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try state() == before)
            #expect(try Shell.run(["ls", "-laR", "--time-style=full-iso", source]).stdout == listing)
        }
        let dry = try grove(["clean", "--stale", "--scan", source, "--dry-run"])
        #expect(dry.stdout.contains("would remove + delete branch"))
        #expect(dry.stdout.split(separator: "\n").last?.hasSuffix("(dry run: nothing was changed)") == true)
    }

    struct BadInput: Sendable, CustomStringConvertible {
        var arguments: [String]
        var mentions: String
        var description: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        BadInput(arguments: ["--stale", "--scan", "SRC", "--older-than", "2x"], mentions: "--older-than \"2x\""),
        BadInput(arguments: ["--stale", "--repo", "SRC/nope"], mentions: "--repo SRC/nope: no such directory"),
        BadInput(arguments: ["--stale", "--scan", "SRC/nope"], mentions: "--scan SRC/nope: no such directory"),
        BadInput(arguments: ["--repo", "SRC/alpha"], mentions: "--repo applies to --stale"),
        BadInput(arguments: ["--older-than", "14d"], mentions: "--older-than applies to --stale"),
        BadInput(arguments: ["3", "--stale"], mentions: "not both"),
        BadInput(arguments: ["--stale", "--repo", "SRC/alpha", "--depth", "2"], mentions: "--depth applies to --scan"),
        BadInput(arguments: ["--stale"], mentions: "--repo R or --scan DIR"),
        BadInput(arguments: ["7"], mentions: "no run yet"),
    ])
    func badInputExitsTwoWithOneLineAndChangesNothing(_ input: BadInput) throws {
        let repo = try fixture("alpha")
        let before = try repo.output("worktree", "list", "--porcelain") + (try repo.refs())
        let result = try grove(["clean"] + input.arguments.map { $0.replacingOccurrences(of: "SRC", with: source) })
        #expect(result.status == 2, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(
            result.stderr.contains(input.mentions.replacingOccurrences(of: "SRC", with: source)), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try repo.output("worktree", "list", "--porcelain") + (try repo.refs()) == before)
        #expect(!FileManager.default.fileExists(atPath: home))
    }

    @Test func aRunIsCleanedAndMarkedAndAKeptChangeMakesTheExitStatusOne() throws {
        let repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        let run = try grove(
            ["run", "--count", "2", "--name", "t", "--", "sh", "-c", "echo $GROVE_TASK > $GROVE_TASK.txt"],
            in: repo.path)
        #expect(run.status == 0, "\(run.stderr)")
        // t-1 lands; t-2 is left unmerged, and its worktree gets an uncommitted file.
        try repo.git("merge", "-q", "--ff-only", "grove/1/t-1")
        try "scratch\n".write(toFile: home + "/worktrees/1/t-2/scratch.txt", atomically: false, encoding: .utf8)

        let first = try grove(["clean", "1"], in: repo.path)
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stdout.contains("grove clean 1 --force"))
        #expect(try linked(repo) == ["t-2"])
        #expect(try repo.output("branch", "--list", "grove/*") == "+ grove/1/t-2")

        let dry = try grove(["clean", "--force", "--dry-run", "--json"], in: repo.path)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try linked(repo) == ["t-2"])

        let forced = try grove(["clean", "1", "--force"], in: repo.path)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("run 1 is cleaned"))
        #expect(try linked(repo).isEmpty)
        #expect(try repo.output("branch", "--list", "grove/*").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home + "/worktrees/1"))
        // Cleaning again finds nothing to do, and says so with exit 0.
        let again = try grove(["clean", "1", "--json"], in: repo.path)
        #expect(again.status == 0)
        #expect(again.stdout.contains("\"cleaned\":true"))
    }

    /// The issue: `grove merge` says a task is nothing_to_land (main got its changes in two
    /// commits of its own, so git cherry still marks it `+`), and `grove clean` agrees: it
    /// removes it without --force and says why. What clean keeps is named as what it is (the
    /// branch, once its worktree went), with `grove merge` offered before --force.
    @Test func whatGroveMergeFoundNothingToLandInIsCleanedAndTheKeptListTellsTheTruth() throws {
        let repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        let run = try grove(
            ["run", "--name", "split", "--", "sh", "-c", "echo a > a.txt; echo b > b.txt"], in: repo.path)
        #expect(run.status == 0, "\(run.stderr)")
        try repo.commit("add a", files: ["a.txt": "a\n"])
        try repo.commit("add b", files: ["b.txt": "b\n"])
        #expect(try repo.output("cherry", "main", "grove/1/split").hasPrefix("+ "))
        let merge = try grove(["merge", "1", "--json"], in: repo.path)
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("\"nothing_to_land\""))

        let clean = try grove(["clean", "1"], in: repo.path)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("grove merge found nothing to land"))
        #expect(!clean.stdout.contains("--force"))
        #expect(clean.stdout.contains("run 1 is cleaned"))
        #expect(try linked(repo).isEmpty)
        #expect(try repo.output("branch", "--list", "grove/*").isEmpty)

        let work = try grove(["run", "--name", "work", "--", "sh", "-c", "echo w > w.txt"], in: repo.path)
        #expect(work.status == 0, "\(work.stderr)")
        let kept = try grove(["clean", "2"], in: repo.path)
        #expect(kept.status == 1)
        #expect(try linked(repo).isEmpty)
        #expect(try repo.output("branch", "--list", "grove/*") == "  grove/2/work")
        let line = try #require(kept.stdout.split(separator: "\n").first { $0.contains("branch grove/2/work") })
        let worktree = home + "/worktrees/2/work"
        #expect(
            line
                == "  branch grove/2/work (its worktree removed): 1 commit in neither main nor a remote;"
                + " land it with `grove merge 2`, or delete it and its 1 commit with `grove clean 2 --force`")
        #expect(!kept.stdout.contains("  \(worktree):"))
    }

    /// A bare repository that serves as a remote, found by --scan next to a checkout: skipped
    /// with one line on stderr, exit 0, every ref as it was; the checkout is cleaned as before.
    @Test func aScannedBareRepositoryWithoutWorktreesIsSkippedAndKeepsItsBranches() throws {
        let repo = try fixture("alpha")
        try repo.git("branch", "grove/1/landed")
        let served = source + "/served.git"
        try Shell.run(["git", "clone", "-q", "--mirror", repo.path, served])
        let refs = try Shell.git("for-each-ref", in: served).output
        #expect(refs.contains("refs/heads/grove/1/landed") && refs.contains("refs/heads/merged"))

        let result = try grove(["clean", "--stale", "--scan", source])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("grove: skipped \(served)"), "\(result.stderr)")
        #expect(result.stderr.contains("branch -d <branch>"))
        #expect(try Shell.git("for-each-ref", in: served).output == refs)
        // The checkout next to it was cleaned: its landed grove branch is gone there.
        #expect(try repo.output("branch", "--list", "grove/*").isEmpty)
    }

    @Test func withoutRepoOrScanTheRepositoriesGroveRanInAreCleaned() throws {
        let repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        let gone = try sandbox.repository("gone", files: ["README.md": "hello\n"])
        for path in [repo.path, gone.path] {
            let run = try grove(["run", "--name", "t", "--", "sh", "-c", "echo done > done.txt"], in: path)
            #expect(run.status == 0, "\(run.stderr)")
        }
        try repo.git("merge", "-q", "--ff-only", "grove/1/t")
        try FileManager.default.removeItem(atPath: gone.path)

        let result = try grove(["clean", "--stale"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("merged"))
        #expect(result.stderr.contains("grove: skipped \(gone.path): it no longer exists"))
        #expect(try linked(repo).isEmpty)
        #expect(try repo.output("branch", "--list", "grove/*").isEmpty)
    }

    @Test func anotherGroveHoldingTheRepositoryMakesTheExitStatusThreeAndChangesNothing() throws {
        let repo = try fixture("alpha")
        let before = try repo.output("worktree", "list", "--porcelain") + (try repo.refs())
        // Hold the repository's grove lock as another grove would: an flock on the file, the pid in it.
        let lockFile = repo.path + "/.git/grove.lock"
        let descriptor = open(lockFile, O_RDWR | O_CREAT, 0o644)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(flock(descriptor, LOCK_EX) == 0)
        _ = "\(getpid())\n".withCString { write(descriptor, $0, strlen($0)) }
        let result = try grove(["clean", "--stale", "--repo", repo.path])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("another grove (pid \(getpid())) holds its lock"))
        #expect(try repo.output("worktree", "list", "--porcelain") + (try repo.refs()) == before)
    }

    @Test func sizesReadLikeDu() {
        #expect(CleanOutput.size(0) == "0 B")
        #expect(CleanOutput.size(1023) == "1023 B")
        #expect(CleanOutput.size(20_480) == "20 KiB")
        #expect(CleanOutput.size(3_500_000) == "3.3 MiB")
        #expect(CleanOutput.size(5 * 1024 * 1024 * 1024) == "5.0 GiB")
        #expect(CleanOutput.count(1, "branch", "branches") == "1 branch")
        #expect(CleanOutput.count(2, "branch", "branches") == "2 branches")
    }
}
