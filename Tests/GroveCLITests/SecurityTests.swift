import Foundation
import GroveCore
import TestSupport
import Testing

/// Hostile worktrees and hostile task data against the built binary: removal never follows a
/// symlink out of a worktree, task data never reaches a shell, grove's home is private, and a
/// repository of another user is refused. (Credentials in URLs are redacted everywhere: see
/// SecretRedactionTests.)
@Suite("security: symlinks, shells, permissions, ownership")
struct SecurityTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String
    /// A stand-in for the user's `$HOME`, with canaries a followed symlink would destroy.
    let outside: String
    /// Another folder outside, linked to as a directory.
    let elsewhere: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
        outside = sandbox.child("outside-home")
        elsewhere = sandbox.child("elsewhere")
        for (path, text) in [
            outside + "/canary.txt": "alive\n", outside + "/.ssh/id_ed25519": "secret\n",
            elsewhere + "/data/keep.txt": "keep\n",
        ] {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
    }

    var environment: [String: String] { ["GROVE_HOME": home, "HOME": outside, "NO_COLOR": "1"] }

    /// The folders a followed link would empty, byte for byte.
    func outsideSnapshot() throws -> DiskSnapshot {
        try DiskSnapshot(repositories: [], directories: [outside, elsewhere])
    }

    /// A task that leaves symlinks out of its worktree: to a `$HOME`-like folder, to a file in
    /// it, to a folder elsewhere, and one that dangles; they are committed like any file.
    static func linkPlanter(outside: String, elsewhere: String, missing: String) -> [String] {
        [
            "sh", "-c",
            "ln -s '\(outside)' home-link && ln -s '\(outside)/canary.txt' file-link && ln -s '\(elsewhere)' dir-link"
                + " && ln -s '\(missing)' dangling && mkdir -p deep/er && ln -s '\(outside)' deep/er/home-link"
                + " && echo mine > own.txt",
        ]
    }

    // MARK: Symlinks: removal unlinks, never follows

    /// `grove clean --force` removes the worktree of a task that planted links, tracked and
    /// untracked: the links go, their targets stay.
    @Test func cleanRemovesLinksNotTheirTargets() throws {
        let result = try grove(
            ["run", "--name", "links", "--"]
                + Self.linkPlanter(outside: outside, elsewhere: elsewhere, missing: sandbox.child("missing")))
        #expect(result.status == 0, "\(result.stderr)")
        let worktree = home + "/worktrees/1/links"
        // Untracked links and a symlinked folder holding a link, added after the task ended.
        try FileManager.default.createSymbolicLink(atPath: worktree + "/untracked-home", withDestinationPath: outside)
        try FileManager.default.createDirectory(atPath: elsewhere + "/linked", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: elsewhere + "/linked/back-home", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(
            atPath: worktree + "/untracked-dir", withDestinationPath: elsewhere + "/linked")
        let before = try outsideSnapshot()

        let clean = try grove(["clean", "1", "--force"])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(!FileManager.default.fileExists(atPath: worktree))
        let after = try outsideSnapshot()
        #expect(after == before, "\(after.difference(from: before))")
        #expect(try repo.output("worktree", "list", "--porcelain").components(separatedBy: "worktree ").count == 2)
    }

    /// The merge queue's cleanup after landing (`grove merge`) removes the worktree the same way.
    @Test func mergeCleanupRemovesLinksNotTheirTargets() throws {
        let result = try grove(
            ["run", "--name", "landed", "--"]
                + Self.linkPlanter(outside: outside, elsewhere: elsewhere, missing: sandbox.child("missing")))
        #expect(result.status == 0, "\(result.stderr)")
        let worktree = home + "/worktrees/1/landed"
        // An ignored, untracked link too (ignored files leave the worktree clean for the queue).
        try FileManager.default.createSymbolicLink(atPath: worktree + "/ignored-link", withDestinationPath: outside)
        let exclude = try Shell.git(
            "rev-parse", "--path-format=absolute", "--git-path", "info/exclude", in: worktree
        ).output
        try FileManager.default.createDirectory(
            atPath: (exclude as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "ignored-link\n".write(toFile: exclude, atomically: false, encoding: .utf8)
        let before = try outsideSnapshot()

        let merge = try grove(["merge"])
        #expect(merge.status == 0, "\(merge.stdout)\(merge.stderr)")
        #expect(!FileManager.default.fileExists(atPath: worktree))
        let after = try outsideSnapshot()
        #expect(after == before, "\(after.difference(from: before))")
        // The links landed as links.
        #expect(try repo.output("ls-tree", "main", "home-link").hasPrefix("120000"))
    }

    /// A worktree folder swapped for a link to `$HOME`: clean prunes what is gone and never
    /// descends into the link.
    @Test func aWorktreeReplacedByALinkIsNotFollowed() throws {
        let result = try grove(["run", "--name", "swapped", "--", "true"])
        #expect(result.status == 0, "\(result.stderr)")
        let worktree = home + "/worktrees/1/swapped"
        try FileManager.default.moveItem(atPath: worktree, toPath: sandbox.child("moved-away"))
        try FileManager.default.createSymbolicLink(atPath: worktree, withDestinationPath: outside)
        let before = try outsideSnapshot()
        let clean = try grove(["clean", "1", "--force"])
        // Kept, and said why: removing the link is the user's call.
        #expect(clean.status == 1, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("is now a symbolic link to \(outside)"), "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("rm \(worktree) (the link alone)"), "\(clean.stdout)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: worktree) == outside)
        let after = try outsideSnapshot()
        #expect(after == before, "\(after.difference(from: before))")
    }

    // MARK: Task data never reaches a shell

    /// Instructions, a branch template and a PR title full of shell syntax go through run, push
    /// with a PR command, report, status, logs and merge: no canary is ever created, and the
    /// text arrives intact where it is used.
    @Test func hostileTaskDataNeverRunsAnything() throws {
        let canaries = sandbox.child("canaries")
        try FileManager.default.createDirectory(atPath: canaries, withIntermediateDirectories: true)
        // `$IFS` for a space: branch names cannot hold one (and `${IFS}` would be a placeholder).
        func touch(_ name: String) -> String { "touch$IFS\(canaries)/\(name)" }
        let instructions = "$(\(touch("i1"))) `\(touch("i2"))`; \(touch("i3")) # ' \" \\ | & > \(canaries)/i4"
        let branch = "g/{task}/$(\(touch("b1")))`\(touch("b2"))`;\(touch("b3"))"
        let remote = sandbox.child("remote.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        try repo.git("remote", "add", "origin", remote)
        let file = """
            branch: '\(branch)'
            command: [sh, -c, 'printf "%s" "$GROVE_INSTRUCTIONS" > instructions.txt', '{instructions}', '{branch}']
            tasks:
              - name: inject
                instructions: '\(instructions.replacingOccurrences(of: "'", with: "''"))'
            """
        try file.write(toFile: repo.path + "/grove.yaml", atomically: false, encoding: .utf8)

        let run = try grove(["run", "grove.yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        let worktree = home + "/worktrees/1/inject"
        #expect(try String(contentsOfFile: worktree + "/instructions.txt", encoding: .utf8) == instructions)
        let record = sandbox.child("pr-record")
        let push = try grove([
            "push", "--pr-command",
            "printf '%s\\n' {title} {branch} {task} > '\(record)'; echo https://example.test/pr/1",
        ])
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        let recorded = try String(contentsOfFile: record, encoding: .utf8)
        #expect(recorded.contains(branch.replacingOccurrences(of: "{task}", with: "inject")), "\(recorded)")
        for arguments in [
            ["report"], ["report", "--format", "json"], ["status"], ["status", "--json"], ["logs", "inject"],
        ] {
            let result = try grove(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        let merge = try grove(["merge", "--check", "test -f instructions.txt"])
        #expect(merge.status == 0, "\(merge.stdout)\(merge.stderr)")
        #expect(try repo.output("show", "main:instructions.txt") == instructions)
        let made = try FileManager.default.contentsOfDirectory(atPath: canaries)
        #expect(made.isEmpty, "a shell ran task data: \(made)")
    }

    // MARK: Private home

    /// Every folder grove makes in its home is 0700 and every file 0600 (the state database and
    /// its -wal and -shm, task logs, attempt logs, check logs, PR bodies and PR logs). Worktrees
    /// hold the user's checkout and the clone cache holds git's own files: those keep git's modes.
    @Test func theHomeIsPrivate() throws {
        let remote = sandbox.child("remote.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        try repo.git("remote", "add", "origin", remote)
        try repo.git("push", "-q", "origin", "main")
        // A run that stays up, to see the database's -wal and -shm while they exist.
        let running = try BackgroundProcess(
            [try builtBinary(), "run", "--name", "slow", "--", "sleep", "1"], in: repo.path, environment: environment)
        #expect(eventually { FileManager.default.fileExists(atPath: home + "/grove.sqlite-wal") })
        #expect(Self.mode(home + "/grove.sqlite-wal") == 0o600)
        #expect(Self.mode(home + "/grove.sqlite-shm") == 0o600)
        #expect(running.wait().status == 0)
        // Attempt logs (a retried failure), check logs, PR bodies and PR logs.
        _ = try grove(["run", "--name", "flaky", "--retries", "1", "--", "sh", "-c", "echo token=hunter2; exit 3"])
        _ = try grove(["run", "--name", "good", "--", "sh", "-c", "echo ok > ok.txt"])
        let push = try grove(["push", "--pr-command", "echo https://example.test/pr/1"])
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        _ = try grove(["merge", "--check", "true", "--keep"])

        #expect(Self.mode(home) == 0o700)
        var checked = 0
        var files: [String] = []
        for entry in try FileManager.default.subpathsOfDirectory(atPath: home).sorted() {
            if entry.hasPrefix("worktrees") || entry.hasPrefix("repos/") { continue }
            let path = home + "/" + entry
            var info = stat()
            #expect(lstat(path, &info) == 0)
            let expected: mode_t = (info.st_mode & S_IFMT) == S_IFDIR ? 0o700 : 0o600
            #expect(info.st_mode & 0o777 == expected, "\(entry) is \(String(info.st_mode & 0o777, radix: 8))")
            checked += 1
            files.append(entry)
        }
        #expect(files.contains("grove.sqlite"))
        #expect(files.contains("logs/2/flaky.log"))
        #expect(files.contains("logs/2/flaky.1.log"), "\(files)")
        #expect(files.contains("logs/3/good.check.log"), "\(files)")
        #expect(files.contains { $0.hasSuffix(".pr.md") }, "\(files)")
        #expect(files.contains { $0.hasSuffix(".pr.log") }, "\(files)")
        #expect(checked > 8)
    }

    /// A home the user made keeps the mode the user gave it; what grove makes inside is private.
    @Test func aHomeTheUserMadeKeepsItsMode() throws {
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let result = try grove(["run", "--name", "mine", "--", "true"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.mode(home) == 0o755)
        #expect(Self.mode(home + "/grove.sqlite") == 0o600)
        #expect(Self.mode(home + "/logs") == 0o700)
        #expect(Self.mode(home + "/logs/1/mine.log") == 0o600)
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o777 : nil
    }

    // MARK: Ownership

    static let isRoot = getuid() == 0

    /// libgit2 refuses a repository owned by another user (git's safe.directory rule): grove
    /// says so in one line with the command that allows it, exits 2 and changes nothing; once
    /// the user's git config lists it, the run goes ahead. Needs root to give a repository away.
    @Test(.enabled(if: isRoot, "needs root to chown a repository to another user (uid 65534)"))
    func aRepositoryOfAnotherUserIsRefusedUntilSafeDirectoryAllowsIt() throws {
        let foreign = try sandbox.repository("foreign")
        try Shell.run(["chown", "-R", "65534:65534", foreign.path])
        let userHome = sandbox.child("user")
        try FileManager.default.createDirectory(atPath: userHome, withIntermediateDirectories: true)
        let env = ["HOME": userHome]
        let before = try DiskSnapshot(repositories: [], directories: [sandbox.path])

        let refused = try Shell.run(
            [try builtBinary(), "run", "--repo", foreign.path, "--name", "t", "--", "true"], in: sandbox.path,
            environment: environment.merging(env) { $1 }, check: false)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(
            refused.stderr.contains(
                "--repo: \(foreign.path) is owned by another user; if you trust it, run"
                    + " `git config --global --add safe.directory \(foreign.path)`"), "\(refused.stderr)")
        let after = try DiskSnapshot(repositories: [], directories: [sandbox.path])
        #expect(after == before, "\(after.difference(from: before))")

        // With some other safe.directory listed, libgit2 says GIT_EOWNER itself: the same line.
        try "[safe]\n\tdirectory = /somewhere/else\n".write(
            toFile: userHome + "/.gitconfig", atomically: false, encoding: .utf8)
        let stillRefused = try Shell.run(
            [try builtBinary(), "run", "--repo", foreign.path, "--name", "t", "--", "true"], in: sandbox.path,
            environment: environment.merging(env) { $1 }, check: false)
        #expect(stillRefused.status == 2)
        #expect(stillRefused.stderr == refused.stderr)
        #expect(!FileManager.default.fileExists(atPath: home))

        try "[safe]\n\tdirectory = \(foreign.path)\n".write(
            toFile: userHome + "/.gitconfig", atomically: false, encoding: .utf8)
        let allowed = try Shell.run(
            [try builtBinary(), "run", "--repo", foreign.path, "--name", "t", "--", "true"], in: sandbox.path,
            environment: environment.merging(env) { $1 }, check: false)
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }
}
