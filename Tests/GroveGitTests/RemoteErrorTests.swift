import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// Transport failures sorted into what to fix — the URL, the network, the credentials — with
/// real failures where they are cheap to cause, and libgit2 1.5.1's own messages otherwise.
@Suite struct RemoteErrorTests {
    // MARK: real failures

    @Test func aMissingRepositoryIsNotFoundOverHTTPFileURLsAndPaths() throws {
        let sandbox = try Sandbox()
        let (root, _) = try CredentialsTests.served(sandbox)
        let server = try GitHTTPServer(root: root)
        defer { server.stop() }
        let missing = sandbox.child("nope.git")
        let sources = [server.url("nope.git"), URL(fileURLWithPath: missing).absoluteString, missing]
        for (index, source) in sources.enumerated() {
            let path = sandbox.child("clone-\(index)")
            let error = try #require(throws: RemoteError.self) { try Repository.clone(from: source, to: path) }
            #expect(error.kind == .notFound, "\(source): \(error.message)")
            #expect(error.errorDescription == "\(source): repository not found; check the URL")
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        // A directory that is no repository, too.
        let plain = sandbox.child("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        let error = try #require(throws: RemoteError.self) {
            try Repository.clone(from: plain, to: sandbox.child("clone-plain"))
        }
        #expect(error.kind == .notFound)
    }

    @Test func aClosedPortIsUnreachable() throws {
        let sandbox = try Sandbox()
        let url = "http://tok:Secret-99@127.0.0.1:\(try Loopback.freePort())/x.git"
        let error = try #require(throws: RemoteError.self) {
            try Repository.clone(from: url, to: sandbox.child("clone"))
        }
        #expect(error.kind == .unreachable)
        #expect(error.url == RemoteURL(url).redacted)
        #expect(
            error.errorDescription?.hasSuffix(": unreachable (connection refused); check the network and the host")
                == true)
        #expect(error.errorDescription?.contains("Secret-99") == false)
    }

    @Test func fetchAndPushClassifyToo() throws {
        let sandbox = try Sandbox()
        let (root, _) = try CredentialsTests.served(sandbox)
        let path = sandbox.child("clone.git")
        let clone = try Repository.clone(from: root + "/x.git", to: path, bare: true)
        try FileManager.default.moveItem(atPath: root + "/x.git", toPath: root + "/moved.git")
        let missing = try #require(throws: RemoteError.self) { try clone.fetch() }
        #expect(missing.kind == .notFound)
        #expect(missing.url == root + "/x.git")
        let port = try Loopback.freePort()
        let error = try #require(throws: RemoteError.self) {
            try clone.push(to: "http://127.0.0.1:\(port)/x.git", refspecs: ["refs/heads/main:refs/heads/main"])
        }
        #expect(error.kind == .unreachable)
        // A local failure stays a GitError: an unknown remote name is no transport problem.
        #expect(throws: GitError.self) { try clone.fetch(remote: "nowhere") }
    }

    // MARK: libgit2's messages

    /// The messages libgit2 1.5.1 gives (seen against git-http-backend, git daemon, closed
    /// ports and missing paths), and how they are read.
    @Test(arguments: [
        (-1, 34, "unexpected http status code: 404", RemoteError.Kind.notFound),
        (-1, 12, "remote error: no such repository: /nope.git", .notFound),
        (-1, 12, "remote error: access denied or repository not exported: /x.git", .notFound),
        (-3, 6, "could not find repository from '/tmp/x'", .notFound),
        (-16, 34, "remote authentication required but no callback set", .authenticationFailed),
        (-1, 34, "too many redirects or authentication replays", .authenticationFailed),
        (-1, 34, "unexpected http status code: 403", .authenticationFailed),
        (-1, 2, "failed to connect to 127.0.0.1: Connection refused", .unreachable),
        (-1, 12, "failed to resolve address for nowhere.invalid: Name or service not known", .unreachable),
        (-1, 12, "failed to connect to example.com: Operation timed out", .unreachable),
        (-1, 16, "the SSL certificate is invalid", .other),
        (-1, 34, "unexpected http status code: 500", .other),
    ])
    func classifies(code: Int32, errorClass: Int32, message: String, kind: RemoteError.Kind) throws {
        let error = GitError(function: "git_clone", code: code, errorClass: errorClass, message: message)
        let classified = try #require(
            RemoteError(classifying: error, url: RemoteURL("https://h/x.git"), authenticationFailed: false, secrets: [])
        )
        #expect(classified.kind == kind)
        #expect(classified.message == message)
    }

    @Test func localFailuresAreNotRemoteErrors() {
        let url = RemoteURL("https://h/x.git")
        let cancelled = GitError(function: "git_clone", code: -7, errorClass: 0, message: "libgit2 error -7")
        #expect(RemoteError(classifying: cancelled, url: url, authenticationFailed: false, secrets: []) == nil)
        let exists = GitError(
            function: "git_clone", code: -4, errorClass: 2, message: "'/tmp/c' exists and is not an empty directory")
        #expect(RemoteError(classifying: exists, url: url, authenticationFailed: false, secrets: []) == nil)
        // Whatever libgit2 says, a callback that ran out of credentials means authentication failed.
        let stale = GitError(function: "git_clone", code: -16, errorClass: 7, message: "config value 'x' was not found")
        #expect(
            RemoteError(classifying: stale, url: url, authenticationFailed: true, secrets: [])?.kind
                == .authenticationFailed)
    }

    @Test func messagesNeverCarryASecret() throws {
        let url = RemoteURL("https://alice:p%40ss-W0rd@h/x.git")
        let error = GitError(
            function: "git_clone", code: -1, errorClass: 34,
            message: "failed for https://h/x.git as alice:p@ss-W0rd (p%40ss-W0rd), token Tok-1\nsecond line")
        let classified = try #require(
            RemoteError(classifying: error, url: url, authenticationFailed: false, secrets: ["Tok-1"]))
        #expect(classified.message == "failed for https://***@h/x.git as alice:*** (***), token *** second line")
        #expect(
            classified.errorDescription
                == "https://***@h/x.git: failed for https://***@h/x.git as alice:*** (***), token *** second line;"
                + " check that git reaches it (`git ls-remote https://***@h/x.git`), then try again")

        let token = RemoteURL("https://ghp_Lone7@h/x.git")
        let lone = GitError(function: "git_clone", code: -1, errorClass: 34, message: "user ghp_Lone7 refused")
        #expect(
            RemoteError(classifying: lone, url: token, authenticationFailed: false, secrets: [])?.message
                == "user *** refused")
    }

    @Test func sshAuthenticationFailuresPointAtTheAgent() {
        let error = RemoteError(kind: .authenticationFailed, url: "git@github.com:org/x.git", message: "")
        #expect(
            error.errorDescription
                == "git@github.com:org/x.git: authentication failed; load a key the host accepts into ssh-agent (ssh-add)"
        )
    }
}
