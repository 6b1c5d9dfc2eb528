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
        // git://, like http: the whole userinfo.
        Case(
            text: "git://al:s3cretPW@host:9418/x.git", stored: "git://host:9418/x.git",
            shown: "git://***@host:9418/x.git", username: "al", password: "s3cretPW", scheme: "git", host: "host",
            port: 9418, path: "x.git"),
        // https with a percent-encoded userinfo, and with a user (a token) alone.
        Case(
            text: "https://us%40er:p%40ss@host/x", stored: "https://host/x", shown: "https://***@host/x",
            username: "us@er", password: "p@ss", scheme: "https", host: "host", path: "x"),
        Case(
            text: "https://tok3nONLY@host/x", stored: "https://host/x", shown: "https://***@host/x",
            username: "tok3nONLY", scheme: "https", host: "host", path: "x"),
        Case(
            text: "http://tok3nONLY@127.0.0.1:9", stored: "http://127.0.0.1:9", shown: "http://***@127.0.0.1:9",
            username: "tok3nONLY", scheme: "http", host: "127.0.0.1", port: 9, path: ""),
        // scp-like with a password: user `u` at `host` (git itself would take `u` for the host and
        // carry the password in the path). The password goes; the user stays, as for ssh://.
        Case(
            text: "u:s3cretPW@host:org/repo.git", stored: "u@host:org/repo.git", shown: "u:***@host:org/repo.git",
            username: "u", password: "s3cretPW", scheme: "ssh", host: "host", path: "org/repo.git"),
        Case(
            text: "u:p@ss@host:org/x@2.git", stored: "u@host:org/x@2.git", shown: "u:***@host:org/x@2.git",
            username: "u", password: "p@ss", scheme: "ssh", host: "host", path: "org/x@2.git"),
        Case(
            text: "u:p/w@host:repo", stored: "u@host:repo", shown: "u:***@host:repo", username: "u",
            password: "p/w", scheme: "ssh", host: "host", path: "repo"),
        Case(
            text: "host:we@ird", stored: "host:we@ird", shown: "host:we@ird", scheme: "ssh", host: "host",
            path: "we@ird"),
        Case(
            text: "git@[::1]:repo.git", stored: "git@[::1]:repo.git", shown: "git@[::1]:repo.git", username: "git",
            scheme: "ssh", host: "[::1]", path: "repo.git"),
        Case(
            text: "u:pw@[::1]:repo.git", stored: "u@[::1]:repo.git", shown: "u:***@[::1]:repo.git", username: "u",
            password: "pw", scheme: "ssh", host: "[::1]", path: "repo.git"),
        // Local sources carry nothing and have no host.
        Case(text: "/srv/git/x.git", stored: "/srv/git/x.git", shown: "/srv/git/x.git", path: "/srv/git/x.git"),
        Case(text: "../a@b:c/d", stored: "../a@b:c/d", shown: "../a@b:c/d", path: "../a@b:c/d"),
        Case(
            text: "file:///srv/git/x.git", stored: "file:///srv/git/x.git", shown: "file:///srv/git/x.git",
            scheme: "file", path: "/srv/git/x.git"),
        Case(
            text: "file:///srv/my%20repo.git", stored: "file:///srv/my%20repo.git", shown: "file:///srv/my%20repo.git",
            scheme: "file", path: "/srv/my repo.git"),
        // file://: git ignores userinfo and host; grove drops the userinfo and names the path alone.
        Case(
            text: "file://user:s3cretPW@/srv/git/x.git", stored: "file:///srv/git/x.git",
            shown: "file://***@/srv/git/x.git", username: "user", password: "s3cretPW", scheme: "file",
            path: "/srv/git/x.git"),
        Case(
            text: "FILE://tok3nONLY@localhost/srv/x.git", stored: "FILE://localhost/srv/x.git",
            shown: "FILE://***@localhost/srv/x.git", username: "tok3nONLY", scheme: "file", path: "/srv/x.git"),
        Case(
            text: "file://us%40er:p%40ss@/srv/x.git", stored: "file:///srv/x.git", shown: "file://***@/srv/x.git",
            username: "us@er", password: "p@ss", scheme: "file", path: "/srv/x.git"),
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
        // Nothing that may be stored or shown still holds a secret, plain or percent-encoded.
        for secret in url.secrets {
            let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
            for text in [url.withoutCredentials, url.redacted, url.path, url.host ?? ""] {
                #expect(!text.contains(secret) && !text.contains(encoded), "\(text)")
            }
        }
        #expect(url.hasSecret == (expected.shown != expected.stored))
    }

    @Test func secretsAreThePasswordOrALoneHTTPUser() {
        #expect(RemoteURL("https://alice:pw@h/x").secrets == ["pw"])
        #expect(RemoteURL("https://ghp_token@h/x").secrets == ["ghp_token"])
        #expect(RemoteURL("ssh://git@h/x").secrets == [])
        #expect(RemoteURL("ssh://git:pw@h/x").secrets == ["pw"])
        #expect(RemoteURL("git@h:x").secrets == [])
        #expect(RemoteURL("u:pw@h:x").secrets == ["pw"])
        #expect(RemoteURL("file://u:pw@/srv/x").secrets == ["pw"])
        #expect(RemoteURL("file://tok@/srv/x").secrets == ["tok"])
        #expect(RemoteURL("/srv/x").secrets == [])
    }

    /// A `file://` URL's path, like git's, is the path alone: its userinfo never reaches the
    /// filesystem path grove clones from or names a cache entry after.
    @Test func aFileURLsLocalPathHasNoUserinfo() {
        #expect(RemoteURL("file://user:s3cretPW@/srv/git/x.git").localPath == "/srv/git/x.git")
        #expect(RemoteURL("file://localhost/srv/x/../y.git").localPath == "/srv/y.git")
        #expect(RemoteURL("https://h/x").localPath == nil)
        #expect(RemoteURL("u:pw@h:x").localPath == nil)
    }

    /// Arguments stored for `grove status` are redacted one by one, `--repo=URL` included.
    @Test func aFlagWithAnAttachedURLIsRedactedToo() {
        #expect(RemoteURL("--repo=https://u:s3cretPW@h/x").redacted == "--repo=https://***@h/x")
        #expect(RemoteURL("--repo=file://u:s3cretPW@/srv/x").redacted == "--repo=file://***@/srv/x")
        #expect(RemoteURL("--repo=u:s3cretPW@h:x").redacted == "--repo=u:***@h:x")
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
