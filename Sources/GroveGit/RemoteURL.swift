import Foundation
import GroveBasics

/// A repository source split into the part that may be stored and shown, and the secrets it
/// carried. This is the one place grove splits credentials off a source, for every form git
/// accepts; only the stripped form ever reaches libgit2, `.git/config`, grove's state, logs and
/// output, and the user name and password travel separately, through the credential callback.
///
/// What counts as a secret:
/// - `http(s)://`, `git://` (every scheme but ssh and file): the whole userinfo. `user:password@`
///   is obviously secret; a lone `name@` is ambiguous — git reads it as a user name, but GitHub
///   and others accept a token there (`https://ghp_…@github.com/…`). The safe reading wins: it
///   is stripped from `withoutCredentials`, hidden in `redacted`, and offered as `username`
///   (with an empty password first, see `Credentials`).
/// - `ssh://user:password@` and scp-like `user:password@host:path`: the password only. The user
///   name stays (ssh needs it, it is no secret), as in scp-like `git@host:org/repo`. In the
///   scp-like form the userinfo ends at the last `@` followed by `host:` (a colon before any
///   `/`), so `u:p@host:path` is user `u` at `host`, not — as git itself would read it — host `u`
///   with `p@host:path` as the path, which would carry the password into every path made of it.
/// - `file://user:password@/path`: the whole userinfo, and a host too. git ignores both when it
///   opens a `file://` URL, so the repository is the path alone; the userinfo is dropped, shown
///   as `***@`, and never offered to anyone (a local clone asks for no credentials).
/// - Plain paths carry nothing.
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
    /// `host:org/repo` too); for a path, the path as given; for a `file://` URL, the filesystem
    /// path it names (percent-decoded, without userinfo or host).
    public let path: String

    public init(_ text: String) {
        switch RepositoryLocation(text) {
        case .path(let path):
            self.init(plain: text, path: path)
        case .fileURL, .network:
            if let separator = text.range(of: "://") {
                self.init(url: text, separator: separator)
            } else {
                self.init(scpLike: text)
            }
        }
    }

    /// A plain path: no secrets and no host.
    private init(plain text: String, path: String) {
        scheme = nil
        withoutCredentials = text
        redacted = text
        username = nil
        password = nil
        host = nil
        port = nil
        self.path = path
    }

    /// The parts of `scheme://[userinfo@]host[:port][/path]`. The authority ends at the first
    /// `/`, `?` or `#`, so an `@` in the path is never taken for userinfo; inside the authority
    /// the last `@` ends the userinfo, so an unescaped `@` in a password still counts as password.
    struct Parts {
        /// `scheme://`, as written.
        var prefix: Substring
        var userinfo: Substring?
        var hostAndPort: Substring
        /// From the first `/`, `?` or `#` after the authority on.
        var tail: Substring

        init(_ source: String, separator: Range<String.Index>) {
            prefix = source[..<separator.upperBound]
            let rest = source[separator.upperBound...]
            let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            tail = rest[authorityEnd...]
            if let at = authority.lastIndex(of: "@") {
                userinfo = authority[..<at]
                hostAndPort = authority[authority.index(after: at)...]
            } else {
                hostAndPort = authority
            }
        }

        /// The filesystem path a `file://` URL names: everything after the authority
        /// (userinfo and host are ignored, as git does), percent-decoded.
        var filePath: String {
            let path = tail.isEmpty ? "/" : String(tail)
            return path.removingPercentEncoding ?? path
        }
    }

    /// `scheme://[userinfo@]host[:port][/path]` (see `Parts`).
    private init(url source: String, separator: Range<String.Index>) {
        let parts = Parts(source, separator: separator)
        let scheme = source[..<separator.lowerBound].lowercased()
        var user: String?
        var secret: String?
        if let userinfo = parts.userinfo {
            if let colon = userinfo.firstIndex(of: ":") {
                user = String(userinfo[..<colon])
                secret = String(userinfo[userinfo.index(after: colon)...])
            } else {
                user = String(userinfo)
            }
        }
        let prefix = String(parts.prefix)
        let tail = String(parts.tail)
        self.scheme = scheme
        username = user.map { $0.removingPercentEncoding ?? $0 }
        password = secret.map { $0.removingPercentEncoding ?? $0 }
        if ["ssh", "git+ssh", "ssh+git"].contains(scheme), let user {
            withoutCredentials = prefix + user + "@" + parts.hostAndPort + tail
            redacted = prefix + user + (secret == nil ? "" : ":***") + "@" + parts.hostAndPort + tail
        } else {
            withoutCredentials = prefix + parts.hostAndPort + tail
            redacted = parts.userinfo == nil ? source : prefix + "***@" + parts.hostAndPort + tail
        }
        if scheme == "file" {
            (host, port) = (nil, nil)
            path = parts.filePath
        } else {
            (host, port) = Self.split(parts.hostAndPort)
            path = String(tail.drop { $0 == "/" })
        }
    }

    /// scp-like `[user[:password]@]host:path` (ssh). The userinfo ends at the last `@` that is
    /// followed by a host and its colon (`host:`, `[v6]:`), so an `@` in the path stays there.
    private init(scpLike source: String) {
        var at: String.Index?
        var colon = Self.hostEnd(source[...])
        for index in source.indices.reversed() where source[index] == "@" {
            if let end = Self.hostEnd(source[source.index(after: index)...]) {
                at = index
                colon = end
                break
            }
        }
        scheme = "ssh"
        port = nil
        let hostStart = at.map { source.index(after: $0) } ?? source.startIndex
        let hostEnd = colon ?? source.endIndex
        host = String(source[hostStart..<hostEnd])
        path = hostEnd == source.endIndex ? "" : String(source[source.index(after: hostEnd)...].drop { $0 == "/" })
        let hostAndPath = source[hostStart...]
        guard let at else {
            (username, password) = (nil, nil)
            (withoutCredentials, redacted) = (source, source)
            return
        }
        let userinfo = source[..<at]
        if let split = userinfo.firstIndex(of: ":") {
            let user = String(userinfo[..<split])
            username = user
            password = String(userinfo[userinfo.index(after: split)...])
            withoutCredentials = user + "@" + hostAndPath
            redacted = user + ":***@" + hostAndPath
        } else {
            username = String(userinfo)
            password = nil
            (withoutCredentials, redacted) = (source, source)
        }
    }

    /// Where the host of a scp-like `host:path` ends (at its colon): after `[v6]`, or at the
    /// first colon when no `/` comes before it; nil when `text` does not start with a host.
    private static func hostEnd(_ text: Substring) -> String.Index? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let next = text.index(after: close)
            return next < text.endIndex && text[next] == ":" ? next : nil
        }
        guard let colon = text.firstIndex(of: ":"), colon > text.startIndex, !text[..<colon].contains("/") else {
            return nil
        }
        return colon
    }

    /// `host[:port]`, with `[v6]` brackets kept in the host.
    private static func split(_ hostAndPort: Substring) -> (String, Int?) {
        let hostEnd = hostAndPort.hasPrefix("[") ? hostAndPort.firstIndex(of: "]") : nil
        let searchFrom = hostEnd.map { hostAndPort.index(after: $0) } ?? hostAndPort.startIndex
        guard let colon = hostAndPort[searchFrom...].lastIndex(of: ":") else { return (String(hostAndPort), nil) }
        let port = Int(hostAndPort[hostAndPort.index(after: colon)...])
        return (String(hostAndPort[..<colon]), port)
    }

    /// Whether the URL carried a password or token (for every scheme but ssh, any userinfo).
    public var hasSecret: Bool { redacted != withoutCredentials }

    /// What to mask in any text that might quote this URL's secrets: the password, else a lone
    /// user name of a non-ssh URL (it may be a token). An ssh user name is no secret and not listed.
    public var secrets: [String] {
        guard hasSecret else { return [] }
        return [password ?? username].compactMap { $0 }.filter { !$0.isEmpty }
    }

    /// Whether this names a local repository (a path or `file://`), which needs no credentials.
    public var isLocal: Bool { host == nil }

    /// The filesystem path of a local source, absolute (a path, or the path a `file://` URL
    /// names, without its userinfo); nil for network sources.
    public var localPath: String? { isLocal ? absolutePath(path) : nil }
}
