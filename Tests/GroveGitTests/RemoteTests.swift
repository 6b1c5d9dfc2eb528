import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// Clone, fetch and push against real local repositories (and a loopback `git daemon` for
/// remote-side rejections), cross-checked with `git ls-remote`, `git fsck` and `git push`.
@Suite struct RemoteTests {
    static func id(_ hex: String) throws -> ObjectID { try #require(ObjectID(hex: hex)) }

    /// A source repository with two commits on main and a `feature` branch.
    static func source(_ sandbox: Sandbox) throws -> TestRepository {
        let source = try sandbox.repository("source", files: ["README.md": "hello\n", "src/main.c": "int main;\n"])
        try source.git("branch", "feature")
        try source.commit("second", files: ["notes.txt": "n\n"])
        return source
    }

    static func fsckIsClean(_ path: String) throws -> Bool {
        let result = try Shell.run(
            ["git", "-C", path, "fsck", "--strict", "--no-progress", "--no-dangling"], check: false)
        return result.status == 0 && result.output.isEmpty
    }

    static func heads(_ path: String, _ pattern: String = "refs/heads") throws -> String {
        try Shell.git("for-each-ref", "--format=%(refname) %(objectname)", pattern, in: path).output
    }

    // MARK: clone

    @Test func cloneFromAPathWithACheckout() throws {
        let sandbox = try Sandbox()
        let source = try Self.source(sandbox)
        let path = sandbox.child("clone")
        let clone = try Repository.clone(from: source.path, to: path)

        #expect(!clone.isBare)
        #expect(clone.workingDirectory == path)
        #expect(try Shell.git("rev-parse", "refs/heads/main", in: path).output == source.revParse("main"))
        #expect(try Shell.git("symbolic-ref", "HEAD", in: path).output == "refs/heads/main")
        // Every source branch arrives as a remote-tracking ref.
        #expect(
            try Self.heads(path, "refs/remotes/origin/feature")
                == "refs/remotes/origin/feature \(source.revParse("feature"))")
        #expect(try Self.fsckIsClean(path))
        #expect(try Shell.git("status", "--porcelain", in: path).output.isEmpty)
        #expect(try String(contentsOfFile: path + "/src/main.c", encoding: .utf8) == "int main;\n")
        #expect(try clone.remoteURL(named: "origin") == source.path)
        #expect(try Shell.git("config", "remote.origin.url", in: path).output == source.path)
        #expect(try clone.remoteURL(named: "upstream") == nil)
    }

    @Test func bareCloneFromAPath() throws {
        let sandbox = try Sandbox()
        let source = try Self.source(sandbox)
        let path = sandbox.child("central.git")
        let clone = try Repository.clone(from: source.path, to: path, bare: true)

        #expect(clone.isBare)
        #expect(clone.workingDirectory == nil)
        #expect(try Shell.git("rev-parse", "--is-bare-repository", in: path).output == "true")
        #expect(try Shell.git("rev-parse", "refs/heads/main", in: path).output == source.revParse("main"))
        #expect(try Self.fsckIsClean(path))
        #expect(!FileManager.default.fileExists(atPath: path + "/README.md"))
        #expect(try Shell.git("config", "remote.origin.url", in: path).output == source.path)
        // libgit2 keeps the fetch refspec in a bare clone (git clone --bare does not).
        #expect(
            try Shell.git("config", "remote.origin.fetch", in: path).output == "+refs/heads/*:refs/remotes/origin/*")
    }

    /// libgit2's clone writes `refs/remotes/origin/HEAD`, bare or not (`git clone --bare`
    /// writes no remote-tracking refs at all: then a bare repository's HEAD says it).
    @Test func theDefaultBranchRightAfterAClone() throws {
        let sandbox = try Sandbox()
        let source = try Self.source(sandbox)
        try source.git("symbolic-ref", "HEAD", "refs/heads/feature")
        for bare in [false, true] {
            for local in [true, false] {
                let path = sandbox.child("clone-\(bare)-\(local)")
                let clone = try Repository.clone(from: source.path, to: path, bare: bare, local: local)
                #expect(
                    try Shell.git("symbolic-ref", "refs/remotes/origin/HEAD", in: path).output
                        == "refs/remotes/origin/feature")
                #expect(try clone.remoteDefaultBranch() == "feature")
                #expect(try clone.fetch().defaultBranch == "feature")
            }
        }
        let gitBare = sandbox.child("git-bare.git")
        try Shell.run(["git", "clone", "-q", "--bare", source.path, gitBare])
        #expect(try Repository.open(at: gitBare).remoteDefaultBranch() == "feature")
        let gitClone = sandbox.child("git-clone")
        try Shell.run(["git", "clone", "-q", source.path, gitClone])
        try Shell.git("remote", "set-head", "origin", "--delete", in: gitClone)
        #expect(try Repository.open(at: gitClone).remoteDefaultBranch() == nil)
    }

    @Test func cloneFromAFileURL() throws {
        let sandbox = try Sandbox()
        let source = try Self.source(sandbox)
        let url = URL(fileURLWithPath: source.path).absoluteString
        #expect(url.hasPrefix("file:///"))
        let path = sandbox.child("from-url")
        let clone = try Repository.clone(from: url, to: path)
        #expect(try Shell.git("rev-parse", "HEAD", in: path).output == source.revParse("main"))
        #expect(try Self.fsckIsClean(path))
        #expect(try Shell.git("status", "--porcelain", in: path).output.isEmpty)
        // The URL is recorded as the plain path (Remote.swift turns file:// into a local clone);
        // git resolves both the same way.
        let recorded = try Shell.git("config", "remote.origin.url", in: path).output
        #expect(recorded == source.path)
        #expect(try clone.remoteURL(named: "origin") == recorded)
        #expect(
            try Shell.git("ls-remote", "origin", "refs/heads/main", in: path).output.hasPrefix(source.revParse("main")))
    }

    @Test func cloneOfAMissingSourceThrowsAndLeavesNothing() throws {
        let sandbox = try Sandbox()
        let path = sandbox.child("clone")
        let error = try #require(throws: RemoteError.self) {
            try Repository.clone(from: sandbox.child("nope"), to: path)
        }
        #expect(error.kind == .notFound)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func cloneReportsProgressOrNotAndCanBeCancelled() throws {
        let sandbox = try Sandbox()
        let source = try Self.source(sandbox)
        let objects = Int(try source.output("rev-list", "--objects", "--all").split(separator: "\n").count)

        // The local (hard-linking) clone copies the object directory: libgit2 transfers no
        // objects, so it reports no progress.
        var localReports: [TransferProgress] = []
        _ = try Repository.clone(from: source.path, to: sandbox.child("local")) { progress in
            localReports.append(progress)
            return true
        }
        #expect(localReports.isEmpty)

        // A clone through the transport (local: false) receives every object and says so.
        var reports: [TransferProgress] = []
        _ = try Repository.clone(from: source.path, to: sandbox.child("transport"), local: false) { progress in
            reports.append(progress)
            return true
        }
        let last = try #require(reports.last)
        #expect(last.totalObjects == objects)
        #expect(last.receivedObjects == objects)
        #expect(last.receivedBytes > 0)
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.receivedObjects <= $1.receivedObjects })
        #expect(try Self.fsckIsClean(sandbox.child("transport")))
        #expect(try Shell.git("rev-parse", "HEAD", in: sandbox.child("transport")).output == source.revParse("main"))

        // Returning false cancels: the clone throws and leaves no directory behind.
        let cancelled = sandbox.child("cancelled")
        var calls = 0
        #expect(throws: GitError.self) {
            try Repository.clone(from: source.path, to: cancelled, local: false) { _ in
                calls += 1
                return false
            }
        }
        #expect(calls == 1)
        #expect(!FileManager.default.fileExists(atPath: cancelled))
    }

    // MARK: fetch

    @Test func fetchUpdatesRemoteTrackingRefsAndPrunes() throws {
        let sandbox = try Sandbox()
        let source = try Self.source(sandbox)
        try source.git("branch", "doomed")
        let path = sandbox.child("clone")
        let clone = try Repository.clone(from: source.path, to: path, bare: true)
        #expect(try Shell.git("rev-parse", "refs/remotes/origin/doomed", in: path).output == source.revParse("doomed"))
        let localMain = try Shell.git("rev-parse", "refs/heads/main", in: path).output

        let newTip = try source.commit("new upstream work", files: ["more.txt": "more\n"])
        try source.git("branch", "-D", "doomed")
        try source.git("branch", "brand-new", "HEAD~1")
        var reports: [TransferProgress] = []
        try clone.fetch { progress in
            reports.append(progress)
            return true
        }

        #expect(try Shell.git("rev-parse", "refs/remotes/origin/main", in: path).output == newTip)
        #expect(
            try Shell.git("rev-parse", "--verify", "-q", "refs/remotes/origin/doomed", in: path, check: false).status
                != 0)
        // refs/remotes/origin/* now mirror the source's branches exactly (origin/HEAD aside),
        // and that is also what git itself sees over there.
        let mirrored = try Self.heads(path, "refs/remotes/origin")
            .replacingOccurrences(of: "refs/remotes/origin/", with: "refs/heads/")
            .split(separator: "\n").filter { !$0.hasPrefix("refs/heads/HEAD ") }.joined(separator: "\n")
        let sourceHeads = try Self.heads(source.path)
        #expect(mirrored == sourceHeads)
        let lsRemote = try Shell.git("ls-remote", "--heads", "origin", in: path).lines
            .map { $0.split(separator: "\t") }.map { "\($0[1]) \($0[0])" }.joined(separator: "\n")
        #expect(lsRemote == sourceHeads)
        // The local branch itself is not moved by a fetch.
        #expect(try Shell.git("rev-parse", "refs/heads/main", in: path).output == localMain)
        #expect(try Self.fsckIsClean(path))
        // The new commit and its objects came over the local transport, with progress.
        #expect((reports.last?.receivedObjects ?? 0) >= 3)
    }

    @Test func fetchFromAnEmptyRemoteHasNoDefaultBranch() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let empty = sandbox.child("empty.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", empty])
        try repo.git("remote", "add", "origin", empty)
        #expect(try repo.open().fetch() == FetchResult(defaultBranch: nil))
    }

    @Test func fetchFromAnUnknownRemoteThrows() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let error = try #require(throws: GitError.self) { try repo.open().fetch(remote: "nowhere") }
        #expect(error.isNotFound)
    }

    // MARK: push

    /// A bare remote and a working repository with it as `origin`, both holding main.
    static func pushSetup(_ sandbox: Sandbox) throws -> (local: TestRepository, remote: String) {
        let local = try sandbox.repository("local", files: ["a.txt": "a\n"])
        let remote = sandbox.child("remote.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        try local.git("remote", "add", "origin", remote)
        try local.git("push", "-q", "origin", "main")
        return (local, remote)
    }

    /// `git ls-remote` of `remote` as "ref id" lines (no HEAD).
    static func lsRemote(_ remote: String) throws -> [String: String] {
        var refs: [String: String] = [:]
        for line in try Shell.run(["git", "ls-remote", "--refs", remote]).lines {
            let parts = line.split(separator: "\t")
            refs[String(parts[1])] = String(parts[0])
        }
        return refs
    }

    /// git's own verdict per destination ref, from `git push --dry-run --porcelain`.
    static func gitDryRun(_ local: TestRepository, _ remote: String, _ refspecs: [String]) throws -> [String: String] {
        let result = try Shell.run(
            ["git", "-C", local.path, "push", "--dry-run", "--porcelain", remote] + refspecs, check: false)
        var verdicts: [String: String] = [:]
        for line in result.lines where line.count > 2 && line.dropFirst().first == "\t" {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            let destination = fields[1].split(separator: ":").last.map(String.init) ?? ""
            verdicts[destination] = String(line.prefix(1)) + " " + fields[2]
        }
        return verdicts
    }

    /// Reads git's porcelain verdict in PushResult's terms.
    static func outcome(fromGit verdict: String?) -> PushResult.Outcome? {
        guard let verdict, let flag = verdict.first else { return nil }
        switch flag {
        case "*", " ", "+", "-": return .pushed
        case "=": return .upToDate
        case "!":
            guard let open = verdict.lastIndex(of: "("), let close = verdict.lastIndex(of: ")") else { return nil }
            return .rejected(reason: String(verdict[verdict.index(after: open)..<close]))
        default: return nil
        }
    }

    @Test func pushNewBranchThenUpToDate() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        let tip = try local.commit("feature work", files: ["f.txt": "f\n"])
        try local.git("branch", "feature")
        try local.git("reset", "-q", "--hard", "HEAD~1")
        let repository = try local.open()
        let spec = "refs/heads/feature:refs/heads/feature"
        #expect(Self.outcome(fromGit: try Self.gitDryRun(local, "origin", [spec])["refs/heads/feature"]) == .pushed)

        let results = try repository.push(to: "origin", refspecs: [spec])
        #expect(results == [PushResult(refspec: spec, destination: "refs/heads/feature", outcome: .pushed)])
        #expect(try Self.lsRemote(remote)["refs/heads/feature"] == tip)
        #expect(try Self.fsckIsClean(remote))
        // Like git push, the remote-tracking ref follows.
        #expect(try local.revParse("refs/remotes/origin/feature") == tip)

        #expect(Self.outcome(fromGit: try Self.gitDryRun(local, "origin", [spec])["refs/heads/feature"]) == .upToDate)
        #expect(try repository.push(to: "origin", refspecs: [spec]).map(\.outcome) == [.upToDate])
        #expect(try Self.lsRemote(remote)["refs/heads/feature"] == tip)
    }

    @Test func pushToAPathWithoutANamedRemote() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        let tip = try local.commit("more", files: ["b.txt": "b\n"])
        let results = try local.open().push(to: remote, refspecs: ["refs/heads/main:refs/heads/main"])
        #expect(results.map(\.outcome) == [.pushed])
        #expect(try Self.lsRemote(remote)["refs/heads/main"] == tip)
    }

    @Test func aNonFastForwardRefIsRejectedWhileTheOthersGo() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        // Someone else moves the remote's main.
        let other = sandbox.child("other")
        try Shell.run(["git", "clone", "-q", remote, other])
        try Shell.run([
            "git", "-C", other, "-c", "user.name=O", "-c", "user.email=o@x", "commit", "-q", "--allow-empty", "-m",
            "theirs",
        ])
        try Shell.git("push", "-q", "origin", "main", in: other)
        let theirs = try Shell.git("rev-parse", "HEAD", in: other).output
        // We diverge, and have a new branch to push too.
        let ours = try local.commit("ours", files: ["ours.txt": "o\n"])
        try local.git("branch", "side")
        let repository = try local.open()
        let specs = ["refs/heads/main:refs/heads/main", "refs/heads/side:refs/heads/side"]

        // Without their commit locally git says "fetch first".
        let gitFirst = try Self.gitDryRun(local, "origin", specs)
        #expect(Self.outcome(fromGit: gitFirst["refs/heads/main"]) == .rejected(reason: "fetch first"))
        let first = try repository.push(to: "origin", refspecs: [specs[0]])
        #expect(first.map(\.outcome) == [.rejected(reason: "fetch first")])
        #expect(try Self.lsRemote(remote)["refs/heads/main"] == theirs)

        // After a fetch (their commit known, still not ours): non-fast-forward.
        try local.git("fetch", "-q", "origin")
        let git = try Self.gitDryRun(local, "origin", specs)
        #expect(Self.outcome(fromGit: git["refs/heads/main"]) == .rejected(reason: "non-fast-forward"))
        #expect(Self.outcome(fromGit: git["refs/heads/side"]) == .pushed)
        let results = try repository.push(to: "origin", refspecs: specs)
        #expect(
            results == [
                PushResult(
                    refspec: specs[0], destination: "refs/heads/main", outcome: .rejected(reason: "non-fast-forward")),
                PushResult(refspec: specs[1], destination: "refs/heads/side", outcome: .pushed),
            ])
        let after = try Self.lsRemote(remote)
        #expect(after["refs/heads/main"] == theirs)
        #expect(after["refs/heads/side"] == ours)

        // Forced, it goes through.
        let forced = try repository.push(to: "origin", refspecs: ["+refs/heads/main:refs/heads/main"])
        #expect(forced.map(\.outcome) == [.pushed])
        #expect(try Self.lsRemote(remote)["refs/heads/main"] == ours)
        #expect(try Self.fsckIsClean(remote))
    }

    @Test func pushDeletesARemoteBranch() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        try local.git("push", "-q", "origin", "main:refs/heads/old")
        #expect(try Self.lsRemote(remote)["refs/heads/old"] != nil)
        let repository = try local.open()

        let results = try repository.push(to: "origin", refspecs: [":refs/heads/old"])
        #expect(results == [PushResult(refspec: ":refs/heads/old", destination: "refs/heads/old", outcome: .pushed)])
        #expect(try Self.lsRemote(remote)["refs/heads/old"] == nil)
        #expect(try Self.lsRemote(remote)["refs/heads/main"] != nil)

        // Deleting it again: nothing to do. git does not fail either (a remote warning only).
        let git = try Shell.run(["git", "-C", local.path, "push", "--porcelain", "origin", ":refs/heads/old"])
        #expect(git.stderr.contains("deleting a non-existent ref"))
        let again = try repository.push(to: "origin", refspecs: [":refs/heads/old"])
        #expect(again.map(\.outcome) == [.upToDate])
        #expect(try Self.lsRemote(remote)["refs/heads/old"] == nil)
    }

    @Test func pushOfAMissingSourceIsRejected() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        let before = try Self.lsRemote(remote)
        let results = try local.open().push(to: "origin", refspecs: ["refs/heads/nope:refs/heads/nope"])
        #expect(results.map(\.outcome) == [.rejected(reason: "src refspec refs/heads/nope does not match any")])
        #expect(try Self.lsRemote(remote) == before)
    }

    /// libgit2 1.5.1 pushes only full ref names; anything else is refused per ref instead of
    /// failing the whole push, so the good refs in the same call still go out.
    @Test func refspecsThatAreNotFullRefNamesAreRejectedOnTheirOwn() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        let tip = try local.commit("more", files: ["b.txt": "b\n"])
        try local.git("branch", "feature")
        let specs = [
            "refs/heads/main:main", tip + ":refs/heads/by-id", "main:refs/heads/short-source",
            ":main", "refs/heads/feature:refs/heads/feature",
        ]
        let results = try local.open().push(to: "origin", refspecs: specs)
        #expect(
            results.map(\.outcome) == [
                .rejected(reason: "destination main is not a full ref name (refs/...)"),
                .rejected(reason: "src refspec \(tip) does not match any"),
                .rejected(reason: "src refspec main does not match any"),
                .rejected(reason: "destination main is not a full ref name (refs/...)"),
                .pushed,
            ])
        let refs = try Self.lsRemote(remote)
        #expect(refs["refs/heads/feature"] == tip)
        #expect(refs["refs/heads/main"] != tip)
        #expect(refs.count == 2)
    }

    // MARK: remote-side rejection through git daemon

    /// `--force-with-lease`: a ref is replaced only where the caller expects it, otherwise it is
    /// `stale info` and the remote is left alone.
    @Test func leasesForceOnlyWhereExpected() throws {
        let sandbox = try Sandbox()
        let (local, remote) = try Self.pushSetup(sandbox)
        let first = try local.commit("first", files: ["b.txt": "b\n"])
        try local.git("push", "-q", "origin", "main:refs/heads/feature")
        // Rewrite the branch locally: a plain push would be a non-fast-forward.
        try local.git("reset", "-q", "--hard", "HEAD~1")
        let rewritten = try local.commit("rewritten", files: ["c.txt": "c\n"])
        try local.git("branch", "-f", "feature", rewritten)
        let repository = try local.open()
        let spec = "refs/heads/feature:refs/heads/feature"

        let plain = try repository.push(to: remote, refspecs: [spec])
        #expect(plain.first?.outcome == .rejected(reason: "non-fast-forward"))
        let wrong = try repository.push(
            to: remote, refspecs: [spec], leases: ["refs/heads/feature": .at(try Self.id(rewritten))])
        #expect(
            wrong.first?.outcome
                == .rejected(
                    reason:
                        "stale info: the remote has refs/heads/feature at \(first.prefix(7)), expected \(rewritten.prefix(7))"
                ))
        let absent = try repository.push(to: remote, refspecs: [spec], leases: ["refs/heads/feature": .absent])
        #expect(absent.first.map { "\($0.outcome)" }?.contains("expected none") == true)
        #expect(try Self.lsRemote(remote)["refs/heads/feature"] == first)

        let leased = try repository.push(
            to: remote, refspecs: [spec], leases: ["refs/heads/feature": .at(try Self.id(first))])
        #expect(leased.first?.outcome == .pushed)
        #expect(try Self.lsRemote(remote)["refs/heads/feature"] == rewritten)
        let again = try repository.push(
            to: remote, refspecs: [spec], leases: ["refs/heads/feature": .at(try Self.id(first))])
        #expect(again.first?.outcome == .upToDate)
        let fresh = try repository.push(
            to: remote, refspecs: ["refs/heads/main:refs/heads/new"], leases: ["refs/heads/new": .absent])
        #expect(fresh.first?.outcome == .pushed)
    }

    /// The lease is checked against the refs listed on the connection the push is sent over, and
    /// the remote checks each old id as it updates: a ref moved by someone else in between (here
    /// by the remote's `update` hook, just before receive-pack updates it) is refused, not replaced.
    @Test func aRefMovedDuringTheLeasedPushIsRefusedByTheRemote() throws {
        let sandbox = try Sandbox()
        let (local, _) = try Self.pushSetup(sandbox)
        let served = sandbox.child("served")
        let remote = served + "/leased.git"
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        let base = try local.revParse("main")
        try local.git("push", "-q", remote, "main", "main:refs/heads/feature")
        let theirs = try local.commit("theirs", files: ["t.txt": "t\n"])
        try local.git("push", "-q", remote, "HEAD:refs/heads/theirs")
        try local.git("reset", "-q", "--hard", base)
        let ours = try local.commit("ours", files: ["o.txt": "o\n"])
        try local.git("branch", "-f", "feature", ours)
        let hook = remote + "/hooks/update"
        try "#!/bin/sh\n[ \"$1\" = refs/heads/feature ] && git update-ref refs/heads/feature \(theirs)\nexit 0\n"
            .write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let daemon = try GitDaemon(basePath: served)
        defer { daemon.stop() }

        let results = try local.open().push(
            to: daemon.url("leased.git"), refspecs: ["refs/heads/feature:refs/heads/feature"],
            leases: ["refs/heads/feature": .at(try Self.id(base))])
        guard case .rejected = results.first?.outcome else {
            Issue.record("expected a rejection, got \(results)")
            return
        }
        #expect(try Self.lsRemote(remote)["refs/heads/feature"] == theirs)
    }

    @Test func aHookRejectionReachesTheRightRef() throws {
        let sandbox = try Sandbox()
        let (local, _) = try Self.pushSetup(sandbox)
        // Two identical remotes: git pushes to one, grove to the other.
        let served = sandbox.child("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        for name in ["grove.git", "git.git"] {
            let path = served + "/" + name
            try Shell.run(["git", "init", "-q", "--bare", "-b", "main", path])
            try local.git("push", "-q", path, "main")
            // The update hook runs once per ref: it refuses only refs/heads/protected.
            let hook = path + "/hooks/update"
            try
                "#!/bin/sh\nif [ \"$1\" = refs/heads/protected ]; then echo \"protected is read-only\" >&2; exit 1; fi\nexit 0\n"
                .write(toFile: hook, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        }
        try local.commit("work", files: ["w.txt": "w\n"])
        try local.git("branch", "protected")
        try local.git("branch", "open")

        let daemon = try GitDaemon(basePath: served)
        defer { daemon.stop() }
        let specs = ["refs/heads/protected:refs/heads/protected", "refs/heads/open:refs/heads/open"]

        let git = try Shell.run(
            ["git", "-C", local.path, "push", "--porcelain", daemon.url("git.git")] + specs, check: false)
        let gitVerdicts = git.lines.filter { $0.hasPrefix("!\t") || $0.hasPrefix("*\t") }
        #expect(gitVerdicts.contains("!\trefs/heads/protected:refs/heads/protected\t[remote rejected] (hook declined)"))
        #expect(gitVerdicts.contains { $0.hasPrefix("*\trefs/heads/open:refs/heads/open") })

        let results = try local.open().push(to: daemon.url("grove.git"), refspecs: specs)
        #expect(
            results == [
                PushResult(
                    refspec: specs[0], destination: "refs/heads/protected", outcome: .rejected(reason: "hook declined")),
                PushResult(refspec: specs[1], destination: "refs/heads/open", outcome: .pushed),
            ])
        let refs = try Self.lsRemote(served + "/grove.git")
        #expect(refs["refs/heads/protected"] == nil)
        #expect(refs["refs/heads/open"] == (try local.revParse("open")))
        #expect(refs == (try Self.lsRemote(served + "/git.git")))
    }

    @Test func aRepositoryTheDaemonDoesNotServeIsNotFound() throws {
        let sandbox = try Sandbox()
        let served = sandbox.child("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        let daemon = try GitDaemon(basePath: served)
        defer { daemon.stop() }
        let error = try #require(throws: RemoteError.self) {
            try Repository.clone(from: daemon.url("nope.git"), to: sandbox.child("clone"))
        }
        #expect(error.kind == .notFound)
        #expect(error.message == "remote error: no such repository: /nope.git")
    }

    @Test func aPreReceiveRejectionRejectsEveryRef() throws {
        let sandbox = try Sandbox()
        let (local, _) = try Self.pushSetup(sandbox)
        let served = sandbox.child("served")
        let path = served + "/locked.git"
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", path])
        try local.git("push", "-q", path, "main")
        let hook = path + "/hooks/pre-receive"
        try "#!/bin/sh\necho 'frozen for release' >&2\nexit 1\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        try local.commit("work", files: ["w.txt": "w\n"])
        let before = try Self.lsRemote(path)

        let daemon = try GitDaemon(basePath: served)
        defer { daemon.stop() }
        let specs = ["refs/heads/main:refs/heads/main", "refs/heads/main:refs/heads/copy"]
        let results = try local.open().push(to: daemon.url("locked.git"), refspecs: specs)
        #expect(
            results.map(\.outcome) == [
                .rejected(reason: "pre-receive hook declined"), .rejected(reason: "pre-receive hook declined"),
            ])
        #expect(try Self.lsRemote(path) == before)
        let git = try Shell.run(
            ["git", "-C", local.path, "push", "--porcelain", daemon.url("locked.git")] + specs, check: false)
        #expect(git.stdout.contains("[remote rejected] (pre-receive hook declined)"))
    }

    // MARK: push into a repository with a working tree

    /// A clone of a clone: `origin` has a working tree with main checked out; `local`, cloned
    /// from it, has main one commit ahead and a new branch `side` there.
    static func cloneOfAClone(_ sandbox: Sandbox, _ name: String, config: [String] = [])
        throws -> (origin: TestRepository, local: TestRepository)
    {
        let origin = try sandbox.repository("\(name)-origin", files: ["a.txt": "a\n"])
        for setting in config {
            try origin.git("config", setting.components(separatedBy: "=")[0], setting.components(separatedBy: "=")[1])
        }
        let local = TestRepository(existing: sandbox.child("\(name)-local"))
        try Shell.run(["git", "clone", "-q", origin.path, local.path])
        try local.commit("more", files: ["b.txt": "b\n", "dir/c.txt": "c\n"])
        try local.git("branch", "side")
        return (origin, local)
    }

    /// What a repository with a working tree looks like after a push: its branches (commit
    /// subjects, as the twins' ids differ), `git status`, its files.
    static func looks(_ repo: TestRepository) throws -> String {
        let branches = try repo.output("for-each-ref", "--format=%(refname) %(subject)", "refs/heads")
        let status = try repo.output("status", "--porcelain", "--untracked-files=all")
        let files = try repo.output("ls-files", "--stage", "--others")
        return "\(branches)\n--\n\(status)\n--\n\(files)\nHEAD \(try repo.output("log", "-1", "--format=%s"))"
    }

    @Test func aPushIntoACloneOfACloneLandsItsRefsAndRefusesTheCheckedOutBranchLikeGit() throws {
        let sandbox = try Sandbox()
        let (origin, local) = try Self.cloneOfAClone(sandbox, "grove")
        let (gitOrigin, gitLocal) = try Self.cloneOfAClone(sandbox, "git")
        let specs = ["refs/heads/main:refs/heads/main", "refs/heads/side:refs/heads/side"]

        let results = try local.open().push(to: "origin", refspecs: specs)
        let git = try Shell.run(["git", "-C", gitLocal.path, "push", "--porcelain", "origin"] + specs, check: false)
        #expect(git.status != 0)
        let verdicts = Dictionary(
            uniqueKeysWithValues: git.lines.compactMap { line -> (String, String)? in
                let fields = line.split(separator: "\t").map(String.init)
                guard fields.count == 3, let destination = fields[1].split(separator: ":").last else { return nil }
                return (String(destination), String(line.prefix(1)) + " " + fields[2])
            })
        #expect(
            results.map(\.outcome) == [
                .rejected(reason: "branch is currently checked out"), .pushed,
            ])
        #expect(
            results.map(\.outcome) == specs.map { Self.outcome(fromGit: verdicts[String($0.split(separator: ":")[1])]) }
        )

        // side is there, with every object it needs; main and the files did not move.
        #expect(try origin.revParse("side") == local.revParse("side"))
        #expect(try origin.output("log", "--format=%s", "side") == "more\ninitial")
        #expect(try origin.revParse("main") == local.revParse("main~1"))
        #expect(try Self.fsckIsClean(origin.path))
        #expect(try Self.looks(origin) == Self.looks(gitOrigin))
        #expect(try origin.output("reflog", "-1", "--format=%gs", "refs/heads/side") == "push")
        // The remote-tracking ref follows what was pushed, as with git.
        #expect(try local.revParse("refs/remotes/origin/side") == local.revParse("side"))
        #expect(
            try local.output("for-each-ref", "--format=%(refname)", "refs/remotes")
                == (try gitLocal.output("for-each-ref", "--format=%(refname)", "refs/remotes")))

        // A second push of the same: up to date; of a deletion of side: gone; of main's: refused.
        #expect(try local.open().push(to: "origin", refspecs: [specs[1]]).map(\.outcome) == [.upToDate])
        let deletions = try local.open().push(to: "origin", refspecs: [":refs/heads/side", ":refs/heads/main"])
        #expect(
            deletions.map(\.outcome) == [.pushed, .rejected(reason: "branch is currently checked out")])
        let gitDeletions = try Shell.run(
            ["git", "-C", gitLocal.path, "push", "--porcelain", "origin", ":refs/heads/side", ":refs/heads/main"],
            check: false)
        #expect(gitDeletions.stdout.contains("-\t:refs/heads/side\t[deleted]"))
        #expect(
            gitDeletions.stdout.contains("!\t:refs/heads/main\t[remote rejected] (branch is currently checked out)"))
        #expect(try Self.looks(origin) == Self.looks(gitOrigin))
        #expect(try Self.fsckIsClean(origin.path))

        // Named by its `.git` directory, as a URL: the same repository.
        try local.git("branch", "third")
        let third = try local.open().push(
            to: "file://\(origin.path)/.git", refspecs: ["refs/heads/third:refs/heads/third"])
        #expect(third.map(\.outcome) == [.pushed])
        #expect(try origin.revParse("third") == local.revParse("third"))
        #expect(try Self.fsckIsClean(origin.path))
    }

    /// receive.denyCurrentBranch as git reads it, git's own push into a twin as the second opinion:
    /// refuse (and true), warn, ignore (and false) move the branch but not the files,
    /// updateInstead moves both when the checkout is clean and refuses when it is not.
    @Test(arguments: [
        "refuse", "true", "warn", "ignore", "false", "updateInstead", "updateInstead+dirty", "updateInstead+staged",
        "updateInstead+untracked",
    ])
    func receiveDenyCurrentBranchIsHonouredLikeGit(_ value: String) throws {
        let sandbox = try Sandbox()
        let setting = "receive.denyCurrentBranch=" + value.split(separator: "+")[0]
        let (origin, local) = try Self.cloneOfAClone(sandbox, "grove", config: [setting])
        let (gitOrigin, gitLocal) = try Self.cloneOfAClone(sandbox, "git", config: [setting])
        if value.contains("+") {
            for repo in [origin, gitOrigin] {
                if value.hasSuffix("+untracked") {
                    // Where the push brings a file of its own.
                    try repo.write(["b.txt": "untracked there\n"])
                    continue
                }
                try repo.write(["a.txt": "edited there\n"])
                if value.hasSuffix("+staged") { try repo.git("add", "a.txt") }
            }
        }
        let spec = "refs/heads/main:refs/heads/main"

        let outcome = try #require(try local.open().push(to: "origin", refspecs: [spec]).first?.outcome)
        let git = try Shell.run(["git", "-C", gitLocal.path, "push", "--porcelain", "origin", spec], check: false)
        // git's line for the ref: "<flag>\t<src>:<dst>\t<summary>", read in PushResult's terms.
        let line = try #require(git.lines.first { $0.contains("\t") }, "\(git.stdout)\(git.stderr)")
        let verdict = String(line.prefix(1)) + " " + (line.split(separator: "\t").last.map(String.init) ?? "")
        #expect(outcome == Self.outcome(fromGit: verdict), "grove: \(outcome); git: \(verdict)")
        #expect(try Self.looks(origin) == Self.looks(gitOrigin))
        #expect(try Self.fsckIsClean(origin.path))
        if value.hasSuffix("+untracked") {
            #expect(outcome == .rejected(reason: "Could not update working tree to new HEAD"))
            #expect(try origin.read("b.txt") == "untracked there\n")
        } else if value.contains("+") {
            let kind = value.hasSuffix("+staged") ? "staged" : "unstaged"
            #expect(outcome == .rejected(reason: "Working directory has \(kind) changes"))
            #expect(try origin.read("a.txt") == "edited there\n")
        }
        if value == "updateInstead" { #expect(try origin.read("dir/c.txt") == "c\n") }
    }

}

/// `git daemon` serving `basePath` on a free loopback port with push enabled, for as long as
/// the test holds it. `stop()` kills exactly the process this test started.
private final class GitDaemon {
    let port: UInt16
    private let process = Process()

    init(basePath: String) throws {
        port = try Loopback.freePort()
        // git-daemon itself, not the `git` wrapper: stop() must reach the process that listens.
        let execPath = try Shell.run(["git", "--exec-path"]).output
        process.executableURL = URL(fileURLWithPath: execPath + "/git-daemon")
        process.arguments = [
            "--reuseaddr", "--export-all", "--enable=receive-pack", "--informative-errors",
            "--base-path=\(basePath)", "--listen=127.0.0.1", "--port=\(port)",
        ]
        process.environment = Shell.environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it answers an ls-remote of something it serves (or refuses a missing one).
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else { break }
            if Loopback.accepts(port) { return }
            usleep(50_000)
        }
        stop()
        throw LoopbackError(message: "git daemon did not start on 127.0.0.1:\(port)")
    }

    func url(_ repository: String) -> String { "git://127.0.0.1:\(port)/\(repository)" }

    func stop() {
        if process.isRunning {
            // Not SIGTERM: Foundation's Process on Linux starts children with the spawning
            // thread's signal mask, and libdispatch's threads block SIGTERM, so it would be ignored.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
