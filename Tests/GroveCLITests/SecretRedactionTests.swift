import Foundation
import GroveCore
import TestSupport
import Testing

/// Safety promise 5 for every URL form git takes: a user runs grove on a URL with credentials
/// in it, then every command they might run after (status, report, logs, merge, push with a PR
/// body), and the secret — plain or percent-encoded — is in no output and no file of grove's
/// home (the database and its WAL, logs, the clone cache's config, everything). Reachable
/// sources are real: a `file://` URL to a local repository and the loopback smart-HTTP server;
/// ssh, git and https go to a closed loopback port, so their failure paths are checked too.
/// (That URL credentials authenticate, and a wrong one fails: RemoteRunCommandTests.)
@Suite("secrets in URLs, every form: never shown, never stored")
struct SecretRedactionTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String
    /// `sources/project.git`: a bare copy of `repo`, the repository the URLs name.
    let bare: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("work", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
        bare = sandbox.child("sources/project.git")
        try Shell.run(["git", "clone", "-q", "--bare", repo.path, bare])
    }

    /// What the task does: a commit, and what it was told its repository is.
    static let command = ["--", "sh", "-c", "echo fixed >> README.md && printf '%s\\n' \"$GROVE_REPO\" > repo.txt"]

    /// Every spelling of `secrets` a leak could take: as given, percent-decoded, percent-encoded.
    static func spellings(of secrets: [String]) -> [String] {
        var all: Set<String> = []
        for secret in secrets {
            let decoded = secret.removingPercentEncoding ?? secret
            for text in [secret, decoded] {
                all.insert(text)
                all.insert(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text)
            }
        }
        return all.sorted()
    }

    /// Runs `grove run` on `url` as given (`--repo URL`, or `--repo=URL`), then every command a
    /// user would run after it, and checks that none of it shows `secrets` and no file under
    /// the home holds them. Returns the run and the task's status.
    @discardableResult
    func everyCommandLeaksNothing(
        _ url: String, secrets: [String], shownAs stripped: String, succeeds: Bool, attached: Bool = false,
        again: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (run: ProcessResult, task: StatusReport.TaskEntry?) {
        var outputs: [(String, ProcessResult)] = []
        func grove(_ arguments: [String]) throws -> ProcessResult {
            let result = try self.grove(arguments)
            outputs.append((arguments.joined(separator: " "), result))
            return result
        }
        let run = try grove(["run"] + (attached ? ["--repo=\(url)"] : ["--repo", url]) + Self.command)
        #expect(run.status == (succeeds ? 0 : 1), "\(run.stderr)", sourceLocation: sourceLocation)
        // The line display names the repository by its URL without credentials.
        #expect(run.stderr.contains("cloning \(stripped)"), "\(run.stderr)", sourceLocation: sourceLocation)
        if again {
            // The fetch path, with the JSON events.
            let fetch = try grove(["run", "--json", "--repo", url] + Self.command)
            #expect(fetch.status == 0, "\(fetch.stderr)", sourceLocation: sourceLocation)
        }
        let task = try status(1).tasks.first
        #expect(task?.source == stripped, sourceLocation: sourceLocation)
        #expect(task?.state == (succeeds ? .succeeded : .failed), sourceLocation: sourceLocation)
        let name = task?.name ?? "?"
        let body = sandbox.child("pr-body.md")
        for arguments in [
            ["status"], ["status", "--json"], ["status", "1"], ["report", "1"], ["report", "1", "--format", "json"],
            ["logs", name, "--run", "1"], ["merge", "1", "--plan"], ["merge", "1", "--plan", "--json"],
            ["push", "1", "--pr-command", "cat {body} > '\(body)' && printf '%s\\n' {repo} >> '\(body)'"],
            ["merge", "1"], ["report", "1"], ["status", "--json", "1"],
        ] {
            _ = try grove(arguments)
        }
        let bodyText = (try? String(contentsOfFile: body, encoding: .utf8)) ?? ""
        if succeeds {
            // The merge and its plan name the repository as the user gave it, not the cache path.
            let plan = outputs.first { $0.0 == "merge 1 --plan" }?.1.stdout ?? ""
            #expect(plan.hasPrefix("\(stripped) → main (order: run)\n"), "\(plan)", sourceLocation: sourceLocation)
            let planJSON = outputs.first { $0.0 == "merge 1 --plan --json" }?.1.stdout ?? ""
            let decoded = try JSONDecoder().decode(MergePlan.self, from: Data(planJSON.utf8))
            #expect(decoded.repositories.map(\.source) == [stripped], sourceLocation: sourceLocation)
            #expect(decoded.repositories.map(\.repo) == [task?.repo], sourceLocation: sourceLocation)
            let merge = outputs.first { $0.0 == "merge 1" }?.1
            #expect(merge?.status == 0, "\(merge?.stderr ?? "")", sourceLocation: sourceLocation)
            #expect(merge?.stdout.hasPrefix("\(stripped) → main\n") == true, sourceLocation: sourceLocation)
        }
        for secret in Self.spellings(of: secrets) {
            for (command, output) in outputs {
                #expect(
                    !output.stdout.contains(secret) && !output.stderr.contains(secret),
                    "grove \(command) shows \(secret):\n\(output.stdout)\(output.stderr)",
                    sourceLocation: sourceLocation)
            }
            #expect(!bodyText.contains(secret), "the PR body holds \(secret)", sourceLocation: sourceLocation)
            #expect(
                RemoteRunCommandTests.files(under: home, containing: secret).isEmpty,
                "files under the home hold \(secret)", sourceLocation: sourceLocation)
        }
        return (run, task)
    }

    /// The user's report: `file://user:secret@/path` printed the secret and stored it. git
    /// ignores a file URL's userinfo; grove clones the path and names it `file:///path`.
    @Test func aFileURLWithUserAndPassword() throws {
        let (_, task) = try everyCommandLeaksNothing(
            "file://fileUSER:s3cretPW@" + bare, secrets: ["s3cretPW", "fileUSER"], shownAs: "file://" + bare,
            succeeds: true, again: true)
        // The push went to the path: the task's branch is in the source, told the URL without
        // credentials as its repository; the PR body names that URL too.
        let source = TestRepository(existing: bare)
        #expect(try source.output("show", "\(task?.branch ?? "?"):README.md") == "hello\nfixed")
        #expect(try source.output("show", "\(task?.branch ?? "?"):repo.txt") == "file://" + bare)
        let body = try String(contentsOfFile: sandbox.child("pr-body.md"), encoding: .utf8)
        #expect(body.hasSuffix("file://\(bare)\n"), "\(body)")
    }

    @Test func aFileURLWithATokenAlone() throws {
        try everyCommandLeaksNothing(
            "file://tok3nONLY@" + bare, secrets: ["tok3nONLY"], shownAs: "file://" + bare, succeeds: true,
            attached: true)
    }

    @Test func anHTTPURLWithUserAndPassword() throws {
        let server = try GitHTTPServer(root: sandbox.child("sources"), username: "httpUSER", password: "s3cretPW")
        defer { server.stop() }
        let url = server.url("project.git").replacingOccurrences(of: "http://", with: "http://httpUSER:s3cretPW@")
        try everyCommandLeaksNothing(
            url, secrets: ["s3cretPW", "httpUSER"], shownAs: server.url("project.git"), succeeds: true, again: true)
    }

    /// Percent-encoded userinfo authenticates decoded, and no spelling of it is kept.
    @Test func anHTTPURLWithPercentEncodedUserinfo() throws {
        let server = try GitHTTPServer(root: sandbox.child("sources"), username: "us@erNAME", password: "p@ssWORD9")
        defer { server.stop() }
        let url = server.url("project.git").replacingOccurrences(of: "http://", with: "http://us%40erNAME:p%40ssWORD9@")
        try everyCommandLeaksNothing(
            url, secrets: ["p%40ssWORD9", "us%40erNAME"], shownAs: server.url("project.git"), succeeds: true)
    }

    /// A lone user (GitHub takes a token there) is a secret too; this server asks for nothing,
    /// so the push and the PR command are reached.
    @Test func anHTTPURLWithATokenAlone() throws {
        let server = try GitHTTPServer(root: sandbox.child("sources"))
        defer { server.stop() }
        let url = server.url("project.git").replacingOccurrences(of: "http://", with: "http://tok3nONLY@")
        let (_, task) = try everyCommandLeaksNothing(
            url, secrets: ["tok3nONLY"], shownAs: server.url("project.git"), succeeds: true)
        #expect(try TestRepository(existing: bare).output("show", "\(task?.branch ?? "?"):README.md") == "hello\nfixed")
    }

    /// Forms that fail fast on a closed loopback port: the failure and everything after it
    /// keep the secret out too (ssh and scp-like keep the user name: it is no secret).
    @Test(arguments: [
        ("https://u:s3cretPW@127.0.0.1:PORT/project.git", "https://127.0.0.1:PORT/project.git"),
        ("https://tok3nONLY@127.0.0.1:PORT/project.git", "https://127.0.0.1:PORT/project.git"),
        ("ssh://u:s3cretPW@127.0.0.1:PORT/project.git", "ssh://u@127.0.0.1:PORT/project.git"),
        ("git://u:s3cretPW@127.0.0.1:PORT/project.git", "git://127.0.0.1:PORT/project.git"),
    ])
    func anUnreachableURL(url: String, stripped: String) throws {
        let port = String(try Loopback.freePort())
        let (run, task) = try everyCommandLeaksNothing(
            url.replacingOccurrences(of: "PORT", with: port), secrets: ["s3cretPW", "tok3nONLY"],
            shownAs: stripped.replacingOccurrences(of: "PORT", with: port), succeeds: false, attached: true)
        #expect(task?.reason?.contains("unreachable") == true, "\(run.stderr)")
    }

    /// scp-like `user:password@host:path`: user `user` at `host` (git would take `user` for
    /// the host and carry the password in the path). There is no port to give, so ssh's own
    /// port on the loopback must be closed for this to fail fast.
    @Test func anSCPLikeURLWithAPassword() throws {
        try #require(!Loopback.accepts(22), "something listens on 127.0.0.1:22; this test needs it closed")
        let (run, task) = try everyCommandLeaksNothing(
            "u:s3cretPW@127.0.0.1:project.git", secrets: ["s3cretPW"], shownAs: "u@127.0.0.1:project.git",
            succeeds: false)
        #expect(task?.reason?.contains("unreachable") == true, "\(run.stderr)")
        #expect(task?.name == "project")
    }
}
