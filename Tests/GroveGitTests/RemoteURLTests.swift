import Testing

@testable import GroveGit

/// Splitting credentials off remote sources, so that only `withoutCredentials` is ever stored.
@Suite("Remote URLs")
struct RemoteURLTests {
    /// One expected parse: what may be stored, what is shown, and the pieces.
    struct Case: Sendable, CustomTestStringConvertible {
        let text: String
        let stored: String
        let shown: String
        var username: String?
        var password: String?
        var scheme: String?
        var host: String?
        var port: Int?
        var path: String
        var testDescription: String { text }
    }

    static let cases: [Case] = [
        // http(s): the whole userinfo is a secret.
        Case(
            text: "https://alice:s3cret@github.com/org/repo.git", stored: "https://github.com/org/repo.git",
            shown: "https://***@github.com/org/repo.git", username: "alice", password: "s3cret", scheme: "https",
            host: "github.com", path: "org/repo.git"),
        Case(
            text: "https://ghp_abc123@github.com/org/repo.git", stored: "https://github.com/org/repo.git",
            shown: "https://***@github.com/org/repo.git", username: "ghp_abc123", scheme: "https",
            host: "github.com", path: "org/repo.git"),
        Case(
            text: "http://u%40corp:p%40ss%3Aw%2Fd@git.corp:8080/a/b.git", stored: "http://git.corp:8080/a/b.git",
            shown: "http://***@git.corp:8080/a/b.git", username: "u@corp", password: "p@ss:w/d", scheme: "http",
            host: "git.corp", port: 8080, path: "a/b.git"),
        // An unescaped @ in a password: the last @ of the authority ends the userinfo.
        Case(
            text: "https://bob:p@ss@host/x.git", stored: "https://host/x.git", shown: "https://***@host/x.git",
            username: "bob", password: "p@ss", scheme: "https", host: "host", path: "x.git"),
        // An @ in the path is no userinfo.
        Case(
            text: "https://host/org/x@2.git", stored: "https://host/org/x@2.git", shown: "https://host/org/x@2.git",
            scheme: "https", host: "host", path: "org/x@2.git"),
        Case(
            text: "https://tok@host/org/x@2.git", stored: "https://host/org/x@2.git",
            shown: "https://***@host/org/x@2.git", username: "tok", scheme: "https", host: "host",
            path: "org/x@2.git"),
        Case(
            text: "HTTPS://GitHub.com/Org/Repo", stored: "HTTPS://GitHub.com/Org/Repo",
            shown: "HTTPS://GitHub.com/Org/Repo", scheme: "https", host: "GitHub.com", path: "Org/Repo"),
        Case(
            text: "https://[::1]:8443/x.git", stored: "https://[::1]:8443/x.git", shown: "https://[::1]:8443/x.git",
            scheme: "https", host: "[::1]", port: 8443, path: "x.git"),
        // ssh: the user name stays (no secret, ssh needs it); only a password goes.
        Case(
            text: "ssh://git@github.com/org/repo.git", stored: "ssh://git@github.com/org/repo.git",
            shown: "ssh://git@github.com/org/repo.git", username: "git", scheme: "ssh", host: "github.com",
            path: "org/repo.git"),
        Case(
            text: "ssh://git:pw@host:2222/srv/repo", stored: "ssh://git@host:2222/srv/repo",
            shown: "ssh://git:***@host:2222/srv/repo", username: "git", password: "pw", scheme: "ssh", host: "host",
            port: 2222, path: "srv/repo"),
        Case(
            text: "git@github.com:org/repo.git", stored: "git@github.com:org/repo.git",
            shown: "git@github.com:org/repo.git", username: "git", scheme: "ssh", host: "github.com",
            path: "org/repo.git"),
        Case(
            text: "host:org/we@ird", stored: "host:org/we@ird", shown: "host:org/we@ird", scheme: "ssh", host: "host",
            path: "org/we@ird"),
        Case(
            text: "git://host/x.git", stored: "git://host/x.git", shown: "git://host/x.git", scheme: "git",
            host: "host", path: "x.git"),
        // Local sources carry nothing and have no host.
        Case(text: "/srv/git/x.git", stored: "/srv/git/x.git", shown: "/srv/git/x.git", path: "/srv/git/x.git"),
        Case(text: "../a@b:c/d", stored: "../a@b:c/d", shown: "../a@b:c/d", path: "../a@b:c/d"),
        Case(
            text: "file:///srv/git/x.git", stored: "file:///srv/git/x.git", shown: "file:///srv/git/x.git",
            scheme: "file", path: "/srv/git/x.git"),
    ]

    @Test(arguments: cases)
    func parses(_ expected: Case) {
        let url = RemoteURL(expected.text)
        #expect(url.withoutCredentials == expected.stored)
        #expect(url.redacted == expected.shown)
        #expect(url.username == expected.username)
        #expect(url.password == expected.password)
        #expect(url.scheme == expected.scheme)
        #expect(url.host == expected.host)
        #expect(url.port == expected.port)
        #expect(url.path == expected.path)
        #expect(url.isLocal == (expected.host == nil))
        // Nothing that may be stored or shown still holds a secret.
        for secret in url.secrets {
            #expect(!url.withoutCredentials.contains(secret))
            #expect(!url.redacted.contains(secret))
        }
        #expect(url.hasSecret == (expected.shown != expected.stored))
    }

    @Test func secretsAreThePasswordOrALoneHTTPUser() {
        #expect(RemoteURL("https://alice:pw@h/x").secrets == ["pw"])
        #expect(RemoteURL("https://ghp_token@h/x").secrets == ["ghp_token"])
        #expect(RemoteURL("ssh://git@h/x").secrets == [])
        #expect(RemoteURL("ssh://git:pw@h/x").secrets == ["pw"])
        #expect(RemoteURL("git@h:x").secrets == [])
        #expect(RemoteURL("/srv/x").secrets == [])
    }

    @Test func theStrippedURLParsesToItself() {
        for expected in Self.cases {
            let stripped = RemoteURL(RemoteURL(expected.text).withoutCredentials)
            #expect(stripped.withoutCredentials == stripped.redacted)
            #expect(stripped.host == expected.host)
            #expect(stripped.path == expected.path)
        }
    }
}
