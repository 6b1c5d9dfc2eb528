import Foundation

/// A remote source split into the part that may be stored and shown, and the secrets it carried.
/// Only the stripped form ever reaches libgit2, `.git/config` or grove's state; the user name and
/// password travel separately, through the credential callback.
///
/// What counts as a secret:
/// - `http(s)://` (and every scheme other than ssh): the whole userinfo. `user:password@` is
///   obviously secret; a lone `name@` is ambiguous — git reads it as a user name, but GitHub
///   and others accept a token there (`https://ghp_…@github.com/…`). The safe reading wins: it
///   is stripped from `withoutCredentials`, hidden in `redacted`, and offered as `username`
///   (with an empty password first, see `Credentials`).
/// - `ssh://user:password@`: the password only. The user name stays (ssh needs it, it is no
///   secret), as in scp-like `git@host:org/repo`, which is kept as is.
/// - Local paths and `file://` URLs carry nothing.
public struct RemoteURL: Sendable, Equatable {
    /// The URL scheme, lowercased: `https`, `ssh` (also for scp-like `host:path`), `git`,
    /// `file`; nil for a plain path.
    public let scheme: String?
    /// The URL with its secrets removed: what goes into libgit2, `.git/config` and state.
    public let withoutCredentials: String
    /// The user name given in the URL (percent-decoded), if any.
    public let username: String?
    /// The password or token given in the URL (percent-decoded), if any. Never print it.
    public let password: String?
    /// The URL for messages: `https://***@host/x` when it carried secrets, else as given.
    public let redacted: String
    /// The host, without userinfo and port (`github.com`, `[::1]` as written); nil for local
    /// sources — a path or `file://` URL has no host to authenticate against.
    public let host: String?
    /// The port, when the URL names one.
    public let port: Int?
    /// For a network URL, the path without its leading `/` (`org/repo.git`, for scp-like
    /// `host:org/repo` too); for a local source, its filesystem path as given.
    public let path: String

    public init(_ text: String) {
        switch RepositoryLocation(text) {
        case .path(let path):
            self.init(plain: text, scheme: nil, path: path)
        case .fileURL(_, let path):
            self.init(plain: text, scheme: "file", path: path)
        case .network(let source):
            if let separator = source.range(of: "://") {
                self.init(url: source, separator: separator)
            } else {
                self.init(scpLike: source)
            }
        }
    }

    /// A source with no secrets and no host.
    private init(plain text: String, scheme: String?, path: String) {
        self.scheme = scheme
        withoutCredentials = text
        redacted = text
        username = nil
        password = nil
        host = nil
        port = nil
        self.path = path
    }

    /// `scheme://[userinfo@]host[:port][/path]`. The authority ends at the first `/`, `?` or `#`,
    /// so an `@` in the path is never taken for userinfo; inside the authority the last `@`
    /// ends the userinfo, so an unescaped `@` in a password still counts as password.
    private init(url source: String, separator: Range<String.Index>) {
        let scheme = source[..<separator.lowerBound].lowercased()
        let prefix = String(source[..<separator.upperBound])
        let rest = source[separator.upperBound...]
        let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = String(rest[authorityEnd...])
        let hostAndPort: Substring
        var user: String?
        var secret: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostAndPort = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                user = String(userinfo[..<colon])
                secret = String(userinfo[userinfo.index(after: colon)...])
            } else {
                user = String(userinfo)
            }
        } else {
            hostAndPort = authority
        }
        let keepsUser = ["ssh", "git+ssh", "ssh+git"].contains(scheme)
        self.scheme = scheme
        username = user.map { $0.removingPercentEncoding ?? $0 }
        password = secret.map { $0.removingPercentEncoding ?? $0 }
        if keepsUser, let user {
            withoutCredentials = prefix + user + "@" + hostAndPort + tail
            redacted = prefix + user + (secret == nil ? "" : ":***") + "@" + hostAndPort + tail
        } else {
            withoutCredentials = prefix + hostAndPort + tail
            redacted = user == nil && secret == nil ? source : prefix + "***@" + hostAndPort + tail
        }
        (host, port) = Self.split(hostAndPort)
        path = String(tail.drop { $0 == "/" })
    }

    /// scp-like `[user@]host:path`: ssh with the user in plain sight, nothing secret.
    private init(scpLike source: String) {
        let colon = source.firstIndex(of: ":") ?? source.endIndex
        let hostPart = source[..<colon]
        scheme = "ssh"
        withoutCredentials = source
        redacted = source
        password = nil
        port = nil
        if let at = hostPart.lastIndex(of: "@") {
            username = String(hostPart[..<at])
            host = String(hostPart[hostPart.index(after: at)...])
        } else {
            username = nil
            host = String(hostPart)
        }
        path = colon == source.endIndex ? "" : String(source[source.index(after: colon)...].drop { $0 == "/" })
    }

    /// `host[:port]`, with `[v6]` brackets kept in the host.
    private static func split(_ hostAndPort: Substring) -> (String, Int?) {
        let hostEnd = hostAndPort.hasPrefix("[") ? hostAndPort.firstIndex(of: "]") : nil
        let searchFrom = hostEnd.map { hostAndPort.index(after: $0) } ?? hostAndPort.startIndex
        guard let colon = hostAndPort[searchFrom...].lastIndex(of: ":") else { return (String(hostAndPort), nil) }
        let port = Int(hostAndPort[hostAndPort.index(after: colon)...])
        return (String(hostAndPort[..<colon]), port)
    }

    /// Whether the URL carried a password or token (for http, any userinfo).
    public var hasSecret: Bool { redacted != withoutCredentials }

    /// What to mask in any text that might quote this URL's secrets: the password, and a lone
    /// http user name (it may be a token). A plain ssh user name is no secret and not listed.
    public var secrets: [String] {
        guard hasSecret else { return [] }
        return [password ?? username].compactMap { $0 }.filter { !$0.isEmpty }
    }

    /// Whether this names a local repository (a path or `file://`), which needs no credentials.
    public var isLocal: Bool { host == nil }
}
