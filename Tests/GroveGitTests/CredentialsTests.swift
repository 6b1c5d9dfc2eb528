import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// Clone, fetch and push against a real smart-HTTP server (`git-http-backend`) that demands
/// HTTP Basic auth: every credential source, and proof that no secret reaches the disk.
@Suite struct CredentialsTests {
    static let password = "s3cr3t-Pw-71"

    /// A served root holding `x.git` (main, and `feature` one commit ahead), and its source.
    static func served(_ sandbox: Sandbox) throws -> (root: String, source: TestRepository) {
        let source = try sandbox.repository("source", files: ["README.md": "hello\n"])
        try source.git("branch", "feature")
        try source.commit("second", files: ["notes.txt": "n\n"])
        let root = sandbox.child("served")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", root + "/x.git"])
        try source.git("push", "-q", root + "/x.git", "main", "feature")
        return (root, source)
    }

    /// `url` with `user:password@` put in front of the host.
    static func withUserinfo(_ url: String, _ userinfo: String) -> String {
        url.replacingOccurrences(of: "http://", with: "http://\(userinfo)@")
    }

    /// The files under `path` that contain `secret` (grep reads packs and the index too).
    static func filesContaining(_ secret: String, under path: String) throws -> String {
        try Shell.run(["grep", "-rl", "--", secret, path], check: false).output
    }

    /// The environment for `git credential fill`: the tests' isolated git config, plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        Shell.environment.merging(extra) { $1 }
    }

    // MARK: credentials in the URL

    @Test func cloneWithUserAndPasswordInTheURLKeepsThemOffTheDisk() throws {
        let sandbox = try Sandbox()
        let (root, source) = try Self.served(sandbox)
        let server = try GitHTTPServer(root: root, username: "alice", password: Self.password)
        defer { server.stop() }
        let url = Self.withUserinfo(server.url("x.git"), "alice:\(Self.password)")
        let path = sandbox.child("clone")

        let clone = try Repository.clone(from: url, to: path)

        #expect(try Shell.git("rev-parse", "HEAD", in: path).output == source.revParse("main"))
        #expect(try RemoteTests.fsckIsClean(path))
        #expect(try Shell.git("config", "remote.origin.url", in: path).output == server.url("x.git"))
        #expect(try clone.remoteURL(named: "origin") == server.url("x.git"))
        // Not in the config, FETCH_HEAD, the reflogs, packed-refs — nowhere.
        #expect(try Self.filesContaining(Self.password, under: path) == "")
        #expect(try Self.filesContaining("alice", under: path) == "")
        // One refusal without credentials, then the URL's pair got through.
        let infoRefs = server.requests().filter { $0.hasPrefix("GET ") }
        #expect(
            infoRefs == [
                "GET /x.git/info/refs?service=git-upload-pack 401", "GET /x.git/info/refs?service=git-upload-pack 200",
            ])
    }

    @Test func aWrongPasswordFailsFastWithoutTheSecret() throws {
        let sandbox = try Sandbox()
        let (root, _) = try Self.served(sandbox)
        let server = try GitHTTPServer(root: root, username: "alice", password: Self.password)
        defer { server.stop() }
        let wrong = "Wr0ng-Pw-Guess"
        let url = Self.withUserinfo(server.url("x.git"), "alice:\(wrong)")
        let path = sandbox.child("clone")
        let credentials = Credentials.forURL(RemoteURL(url), environment: Self.environment())

        let started = ContinuousClock.now
        let error = try #require(throws: RemoteError.self) {
            try Repository.clone(from: url, to: path, bare: true, credentials: credentials)
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(error.kind == .authenticationFailed)
        #expect(error.url == "http://***@127.0.0.1:\(server.port)/x.git")
        let description = try #require(error.errorDescription)
        #expect(
            description
                == "http://***@127.0.0.1:\(server.port)/x.git: authentication failed; set GROVE_TOKEN,"
                + " configure a git credential helper, or put user:token in the URL")
        #expect(!"\(error) \(description)".contains(wrong))
        // Without credentials, then the URL's; no token, no helper answer: done (not 15 replays).
        #expect(server.requests().count == 2)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func noCredentialsAtAllIsAnAuthenticationFailure() throws {
        let sandbox = try Sandbox()
        let (root, _) = try Self.served(sandbox)
        let server = try GitHTTPServer(root: root, username: "alice", password: Self.password)
        defer { server.stop() }
        let error = try #require(throws: RemoteError.self) {
            try Repository.clone(from: server.url("x.git"), to: sandbox.child("clone"))
        }
        #expect(error.kind == .authenticationFailed)
        #expect(error.url == server.url("x.git"))
    }

    // MARK: GROVE_TOKEN

    @Test func groveTokenAuthenticatesAsXAccessToken() throws {
        let sandbox = try Sandbox()
        let (root, source) = try Self.served(sandbox)
        let token = "ghs_T0ken-42"
        let server = try GitHTTPServer(root: root, username: "x-access-token", password: token)
        defer { server.stop() }
        let credentials = Credentials.forURL(
            RemoteURL(server.url("x.git")), environment: Self.environment(["GROVE_TOKEN": token]))
        #expect(credentials.token == token)
        let path = sandbox.child("clone")
        _ = try Repository.clone(from: server.url("x.git"), to: path, bare: true, credentials: credentials)
        #expect(try Shell.git("rev-parse", "refs/heads/main", in: path).output == source.revParse("main"))
        #expect(try Self.filesContaining(token, under: path) == "")
    }

    /// A lone user in an https URL is taken for a possible token: tried with an empty password,
    /// then as the user of GROVE_TOKEN. It is stripped from the stored URL all the same.
    @Test func aLoneUserInTheURLIsTheUserOfTheToken() throws {
        let sandbox = try Sandbox()
        let (root, _) = try Self.served(sandbox)
        let token = "glpat-T0ken"
        let server = try GitHTTPServer(root: root, username: "alice", password: token)
        defer { server.stop() }
        let url = Self.withUserinfo(server.url("x.git"), "alice")
        let credentials = Credentials.forURL(RemoteURL(url), environment: Self.environment(["GROVE_TOKEN": token]))
        let path = sandbox.child("clone")
        _ = try Repository.clone(from: url, to: path, bare: true, credentials: credentials)
        #expect(try Shell.git("config", "remote.origin.url", in: path).output == server.url("x.git"))
        #expect(server.requests().filter { $0.hasSuffix(" 401") }.count == 2)
    }

    // MARK: git's credential helpers

    @Test func gitsCredentialHelperIsAsked() throws {
        let sandbox = try Sandbox()
        let (root, source) = try Self.served(sandbox)
        let helperPassword = "Helper-Pw-9"
        let server = try GitHTTPServer(root: root, username: "carol", password: helperPassword)
        defer { server.stop() }
        // A helper that records what git asked it (never the answer) and answers for this host only.
        let asked = sandbox.child("asked")
        let config = sandbox.child("gitconfig")
        try Shell.run([
            "git", "config", "--file", config, "credential.helper",
            "!f() { test \"$1\" = get || exit 0; cat > \(asked);"
                + " grep -qx 'host=127.0.0.1:\(server.port)' \(asked) || exit 0;"
                + " echo username=carol; echo password=\(helperPassword); }; f",
        ])
        let credentials = Credentials.forURL(
            RemoteURL(server.url("x.git")), environment: Self.environment(["GIT_CONFIG_GLOBAL": config]))

        let path = sandbox.child("clone")
        _ = try Repository.clone(from: server.url("x.git"), to: path, credentials: credentials)
        #expect(try Shell.git("rev-parse", "HEAD", in: path).output == source.revParse("main"))
        #expect(try String(contentsOfFile: asked, encoding: .utf8).contains("protocol=http\n"))
        #expect(try Self.filesContaining(helperPassword, under: path) == "")

        // Without the helper's config the same clone is refused.
        let refused = try #require(throws: RemoteError.self) {
            try Repository.clone(
                from: server.url("x.git"), to: sandbox.child("refused"),
                credentials: Credentials.forURL(RemoteURL(server.url("x.git")), environment: Self.environment()))
        }
        #expect(refused.kind == .authenticationFailed)
    }

    // MARK: fetch

    @Test func fetchReportsTheDefaultBranchAndFollowsItsChanges() throws {
        let sandbox = try Sandbox()
        let (root, source) = try Self.served(sandbox)
        let server = try GitHTTPServer(root: root, username: "alice", password: Self.password)
        defer { server.stop() }
        let url = Self.withUserinfo(server.url("x.git"), "alice:\(Self.password)")
        let path = sandbox.child("clone.git")
        let clone = try Repository.clone(from: url, to: path, bare: true)
        #expect(try clone.remoteDefaultBranch() == "main")

        // The clone's config has no credentials: they come from the caller now.
        let credentials = Credentials(
            username: "alice", password: Self.password, useSSHAgent: false, useCredentialHelper: false)
        #expect(try clone.fetch(credentials: credentials) == FetchResult(defaultBranch: "main"))
        #expect(throws: RemoteError.self) { try clone.fetch() }

        try Shell.git("symbolic-ref", "HEAD", "refs/heads/feature", in: root + "/x.git")
        let newTip = try source.commit("third", files: ["third.txt": "3\n"])
        try source.git("push", "-q", root + "/x.git", "main")
        #expect(try clone.fetch(credentials: credentials).defaultBranch == "feature")
        #expect(try Shell.git("rev-parse", "refs/remotes/origin/main", in: path).output == newTip)
        // Like git fetch, it does not rewrite refs/remotes/origin/HEAD: that stays the clone's view.
        #expect(try clone.remoteDefaultBranch() == "main")
        #expect(
            try Shell.run(["git", "ls-remote", "--symref", root + "/x.git", "HEAD"]).lines.first
                == "ref: refs/heads/feature\tHEAD")
        #expect(try Self.filesContaining(Self.password, under: path) == "")
    }

    /// A remote configured with credentials in its URL (by hand, or by git) still fetches:
    /// libgit2 is handed the URL without them, the config is left alone.
    @Test func fetchOfARemoteWithCredentialsInItsConfiguredURL() throws {
        let sandbox = try Sandbox()
        let (root, _) = try Self.served(sandbox)
        let server = try GitHTTPServer(root: root, username: "alice", password: Self.password)
        defer { server.stop() }
        let url = Self.withUserinfo(server.url("x.git"), "alice:\(Self.password)")
        let path = sandbox.child("clone.git")
        let clone = try Repository.clone(from: url, to: path, bare: true)
        try Shell.git("remote", "set-url", "origin", url, in: path)
        #expect(try clone.fetch().defaultBranch == "main")
        #expect(try Shell.git("config", "remote.origin.url", in: path).output == url)
    }

    // MARK: push

    @Test func pushOverHTTPWithCredentials() throws {
        let sandbox = try Sandbox()
        let (root, source) = try Self.served(sandbox)
        let server = try GitHTTPServer(root: root, username: "alice", password: Self.password)
        defer { server.stop() }
        let url = Self.withUserinfo(server.url("x.git"), "alice:\(Self.password)")
        let path = sandbox.child("clone")
        _ = try Repository.clone(from: url, to: path)
        let work = TestRepository(existing: path)
        try work.git("config", "user.name", "Test User")
        try work.git("config", "user.email", "test@example.com")
        let tip = try work.commit("pushed over http", files: ["p.txt": "p\n"])
        let repository = try work.open()

        // To the URL with its credentials.
        let first = try repository.push(to: url, refspecs: ["refs/heads/main:refs/heads/by-url"])
        #expect(first.map(\.outcome) == [.pushed])
        // To origin (no credentials in the config) with explicit ones: the push connects twice
        // (list, then push) and the pair that got through the first time is offered again.
        let credentials = Credentials(
            username: "alice", password: Self.password, useSSHAgent: false, useCredentialHelper: false)
        let second = try repository.push(
            to: "origin", refspecs: ["refs/heads/main:refs/heads/main"], credentials: credentials)
        #expect(second.map(\.outcome) == [.pushed])

        let refs = try RemoteTests.lsRemote(root + "/x.git")
        #expect(refs["refs/heads/by-url"] == tip)
        #expect(refs["refs/heads/main"] == tip)
        #expect(refs["refs/heads/feature"] == (try source.revParse("feature")))
        #expect(try RemoteTests.fsckIsClean(root + "/x.git"))
        #expect(try Self.filesContaining(Self.password, under: path) == "")

        let wrong = Credentials(username: "alice", password: "nope", useSSHAgent: false, useCredentialHelper: false)
        let error = try #require(throws: RemoteError.self) {
            try repository.push(to: "origin", refspecs: ["refs/heads/main:refs/heads/other"], credentials: wrong)
        }
        #expect(error.kind == .authenticationFailed)
        #expect(try RemoteTests.lsRemote(root + "/x.git")["refs/heads/other"] == nil)
    }
}
