import Foundation
import GroveCore
import TestSupport
import Testing

/// `grove run` over repositories given by URL: the clone cache, concurrent clones, per-repository
/// failures and `--repos-file`. Sources are bare repositories in the sandbox, served by `file://`
/// URLs (libgit2's local clone) — the git CLI checks what landed in the cache.
@Suite("grove run with URL repositories")
struct RemoteRunCommandTests {
    let sandbox: Sandbox
    let home: String

    init() throws {
        sandbox = try Sandbox()
        home = sandbox.child("home")
    }

    var environment: [String: String] { ["GROVE_HOME": home, "HOME": sandbox.path] }

    func grove(_ arguments: [String]) throws -> ProcessResult {
        try Shell.run([try builtBinary()] + arguments, in: sandbox.path, environment: environment, check: false)
    }

    func status(_ run: Int? = nil) throws -> StatusReport {
        let result = try grove(["status", "--json"] + (run.map { [String($0)] } ?? []))
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
    }

    /// A bare repository `sources/<name>.git` with one commit on `main`; returns its `file://` URL.
    func bareSource(_ name: String, files: [String: String] = ["README.md": "hello\n"]) throws -> String {
        let work = try sandbox.repository("work-\(name)", files: files)
        let bare = sandbox.child("sources/\(name).git")
        try Shell.run(["git", "clone", "-q", "--bare", work.path, bare])
        return "file://" + bare
    }

    /// Adds a commit to a bare source through a throwaway clone; returns the new commit.
    func advance(_ url: String, file: String = "NEW.md") throws -> String {
        let bare = String(url.dropFirst("file://".count))
        let clone = sandbox.child("advance-\(UUID().uuidString.prefix(6))")
        try Shell.run(["git", "clone", "-q", bare, clone])
        let work = TestRepository(existing: clone)
        try work.git("config", "user.name", "Someone")
        try work.git("config", "user.email", "someone@example.com")
        let commit = try work.commit("upstream change", files: [file: "new\n"])
        try work.git("push", "-q", "origin", "main")
        return commit
    }

    func cachePath(_ url: String) -> String {
        RepositoryCache(home: GroveHome(path: home)).path(for: url)
    }

    @Test func theFirstRunClonesIntoTheCacheAndTheSecondFetchesTheNewBase() throws {
        let url = try bareSource("alpha")
        let first = try grove(["run", "--repo", url, "--", "sh", "-c", "echo fixed >> README.md"])
        #expect(first.status == 0, "\(first.stderr)")
        let cache = cachePath(url)
        #expect(cache.hasPrefix(home + "/repos/file/"))
        #expect(cache.hasSuffix("/sources/alpha.git"))
        let cloned = try #require(try status(1).tasks.first)
        #expect(cloned.state == .succeeded)
        #expect(cloned.sync == "cloned")
        #expect(cloned.source == url)
        #expect(cloned.repo == cache)
        #expect(cloned.base == "main")
        let cacheRepo = TestRepository(existing: cache)
        #expect(try cacheRepo.output("rev-parse", "--is-bare-repository") == "true")
        #expect(try cacheRepo.output("rev-list", "--count", "main..\(cloned.branch)") == "1")
        // A marker inside the clone survives the second run only if it is fetched, not cloned again.
        let marker = cache + "/grove-test-marker"
        _ = FileManager.default.createFile(atPath: marker, contents: Data())

        let upstream = try advance(url)
        let second = try grove(["run", "--repo", url, "--", "sh", "-c", "echo again >> README.md"])
        #expect(second.status == 0, "\(second.stderr)")
        let fetched = try #require(try status(2).tasks.first)
        #expect(fetched.sync == "fetched")
        #expect(FileManager.default.fileExists(atPath: marker))
        // The task started from the commit the remote has now.
        #expect(try cacheRepo.output("rev-parse", "\(fetched.branch)~1") == upstream)
        #expect(try cacheRepo.output("rev-parse", "refs/heads/main") == upstream)
        #expect(try Shell.run(["git", "-C", cache, "fsck", "--no-progress"]).status == 0)
    }

    @Test func twentyRepositoriesCloneFourAtATimeAndAMissingOneFailsOnlyItsTask() throws {
        var lines = ["# repositories for the batch fix", ""]
        for index in 1...19 { lines.append(try bareSource(String(format: "repo%02d", index))) }
        lines.insert("file://" + sandbox.child("sources/missing.git"), at: 7)
        let list = sandbox.child("repos.txt")
        try (lines.joined(separator: "\n") + "\n").write(toFile: list, atomically: true, encoding: .utf8)

        let result = try grove([
            "run", "--repos-file", list, "--clone-jobs", "4", "-j", "4", "--json", "--", "sh", "-c",
            "echo fixed >> README.md",
        ])
        #expect(result.status == 1, "\(result.stderr)")
        let events = result.lines.compactMap { line -> [String: Any]? in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        // Never more than --clone-jobs clones at once, and every repository reported its end.
        var syncing = 0
        var most = 0
        for event in events {
            if event["event"] as? String == "repo_syncing" { syncing += 1 }
            if event["event"] as? String == "repo_synced" { syncing -= 1 }
            most = max(most, syncing)
        }
        #expect(most <= 4 && most >= 1, "at most \(most) at once")
        let synced = events.filter { $0["event"] as? String == "repo_synced" }
        #expect(synced.count == 20)
        #expect(synced.filter { $0["state"] as? String == "failed" }.count == 1)

        let report = try status()
        #expect(report.tasks.count == 20)
        let failed = report.tasks.filter { $0.state != .succeeded }
        #expect(failed.map(\.name) == ["missing"])
        let reason = try #require(failed.first?.reason)
        #expect(reason.contains("missing.git") && reason.contains("not found"), "\(reason)")
        #expect(failed.first?.sync == "failed")
        #expect(report.tasks.filter { $0.state == .succeeded }.allSatisfy { $0.commits == 1 && $0.sync == "cloned" })
    }

    @Test func theLineDisplayReportsEachCloneAndTheFailure() throws {
        let url = try bareSource("shown")
        let missing = "file://" + sandbox.child("sources/nowhere.git")
        let result = try grove(["run", "--repo", url, "--repo", missing, "--", "true"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("grove: cloning \(url)"), "\(result.stderr)")
        #expect(result.stderr.contains("grove: cloned \(url) in "), "\(result.stderr)")
        #expect(result.stderr.contains("grove: \(missing): repository not found"), "\(result.stderr)")
        #expect(result.stderr.contains("[nowhere] failed"), "\(result.stderr)")
    }

    @Test func aBaseTheRemoteLacksFailsThatTaskWithASuggestion() throws {
        let url = try bareSource("based")
        let file = sandbox.child("grove.yaml")
        try """
        command: "true"
        tasks:
          - name: wrong-base
            repo: \(url)
            base: mian
          - name: right-base
            repo: \(url)
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try grove(["run", file])
        #expect(result.status == 1, "\(result.stderr)")
        let tasks = try status().tasks
        #expect(tasks.map(\.state) == [.failed, .succeeded])
        let reason = try #require(tasks.first?.reason)
        #expect(reason.contains("base branch \"mian\" does not exist") && reason.contains("\"main\""), "\(reason)")
    }

    @Test func badReposFilesAndFlagsExitTwoAndCreateNothing() throws {
        let spaced = sandbox.child("spaced.txt")
        try "file:///a.git\nsome path with spaces\n".write(toFile: spaced, atomically: true, encoding: .utf8)
        let empty = sandbox.child("empty.txt")
        try "# nothing\n\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let url = try bareSource("flags")
        let copying = sandbox.child("copy.yaml")
        try "command: \"true\"\ncopy: [.env]\nrepos: [\(url)]\n".write(
            toFile: copying, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (
                ["run", "--repos-file", sandbox.child("absent.txt"), "--", "true"],
                "absent.txt: repositories file not found"
            ),
            (["run", "--repos-file", spaced, "--", "true"], "spaced.txt:2:1:"),
            (["run", "--repos-file", empty, "--", "true"], "lists no repository"),
            (["run", "--repo", url, "--clone-jobs", "0", "--", "true"], "--clone-jobs: --clone-jobs is 0"),
            (["run", copying], "has no checkout to copy from"),
        ]
        for (arguments, expected) in cases {
            let result = try grove(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: home))
    }

    /// Two groves on the same URL at once take turns on the cache entry: one clones, the other
    /// waits and fetches; both runs succeed and the clone is sound.
    @Test func twoRunsAtOnceShareTheCacheSafely() throws {
        let url = try bareSource(
            "shared", files: ["README.md": "hello\n", "big.txt": String(repeating: "x\n", count: 50_000)])
        let runs = try (0..<2).map { _ in
            try BackgroundProcess(
                [try builtBinary(), "run", "--repo", url, "--", "sh", "-c", "echo more >> README.md"],
                in: sandbox.path, environment: environment)
        }
        for run in runs {
            let result = run.wait()
            #expect(result.status == 0, "\(result.stderr)")
        }
        let syncs = try [status(1), status(2)].map { $0.tasks[0].sync ?? "-" }
        #expect(syncs.sorted() == ["cloned", "fetched"])
        let cache = cachePath(url)
        #expect(try Shell.run(["git", "-C", cache, "fsck", "--no-progress"]).status == 0)
        #expect(
            try TestRepository(existing: cache).output("branch", "--list", "grove/*").split(separator: "\n").count == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: (cache as NSString).deletingLastPathComponent)
        #expect(leftovers == ["shared.git"])
    }

    /// The batch fix end to end: clone, fix, commit, land into main, push main back to the source.
    @Test func mergePushLandsTheFixesInTheSourceRepositories() throws {
        let urls = try ["one", "two"].map { try bareSource($0) }
        let run = try grove(["run"] + urls.flatMap { ["--repo", $0] } + ["--", "sh", "-c", "echo fixed >> README.md"])
        #expect(run.status == 0, "\(run.stderr)")
        let merge = try grove(["merge", "--push", "origin"])
        #expect(merge.status == 0, "\(merge.stderr)")
        for (index, url) in urls.enumerated() {
            let source = TestRepository(existing: String(url.dropFirst("file://".count)))
            #expect(try source.output("show", "main:README.md") == "hello\nfixed")
            #expect(try source.output("log", "-1", "--format=%s", "main") == "grove: \(["one", "two"][index]) (run 1)")
        }
    }

    /// Every file under `directory` whose bytes contain `needle` (binary files included: the
    /// SQLite database, its WAL, git's objects and packs).
    static func files(under directory: String, containing needle: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        for case let relative as String in walker {
            let path = directory + "/" + relative
            if let data = FileManager.default.contents(atPath: path), data.range(of: Data(needle.utf8)) != nil {
                found.append(relative)
            }
        }
        return found
    }

    /// A URL with `user:secret@` over HTTP (a real smart-HTTP server that demands them): the clone
    /// and the fetch authenticate, objects arrive with progress, and the secret is nowhere —
    /// not in the home (database, logs, the cache's config), not in any output.
    @Test func credentialsInTheURLAuthenticateAndAreNeverWrittenOrShown() throws {
        let secret = "s3cr3t-Pa55"
        _ = try bareSource("private", files: ["README.md": "hello\n", "src/a.txt": "a\n", "src/b.txt": "b\n"])
        let server = try GitHTTPServer(root: sandbox.child("sources"), username: "alice", password: secret)
        defer { server.stop() }
        let url = server.url("private.git").replacingOccurrences(of: "http://", with: "http://alice:\(secret)@")

        let first = try grove(["run", "--repo", url, "--json", "--", "sh", "-c", "echo \"$GROVE_REPO\" > repo.txt"])
        #expect(first.status == 0, "\(first.stderr)")
        let events = first.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let progress = events.filter { $0["event"] as? String == "repo_progress" }
        #expect(progress.contains { ($0["total_objects"] as? Int ?? 0) > 0 }, "\(first.stdout)")
        let second = try grove(["run", "--repo", url, "--", "true"])
        #expect(second.status == 0, "\(second.stderr)")
        let tasks = [try status(1).tasks[0], try status(2).tasks[0]]
        #expect(tasks.map(\.sync) == ["cloned", "fetched"])
        #expect(tasks[0].source == server.url("private.git"))
        let cache = TestRepository(existing: tasks[0].repo)
        #expect(try cache.output("show", "\(tasks[0].branch):repo.txt") == server.url("private.git"))
        #expect(try cache.output("config", "remote.origin.url") == server.url("private.git"))

        let wrong = url.replacingOccurrences(of: secret, with: "not-\(secret)")
        let refused = try grove(["run", "--repo", wrong, "--", "true"])
        #expect(refused.status == 1)
        #expect(try status(3).tasks[0].reason?.contains("authentication failed") == true)

        var outputs = [first, second, refused]
        for arguments in [
            ["status"], ["status", "--json"], ["report", "1", "--format", "md"], ["report", "1", "--format", "json"],
            ["logs", tasks[0].name, "--run", "1"],
        ] {
            outputs.append(try grove(arguments))
        }
        for output in outputs {
            #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret))
        }
        #expect(Self.files(under: home, containing: secret).isEmpty)
    }
}
