import Clibgit2
import Foundation

/// A clone, fetch or push that failed in the transport, sorted into what a person does next:
/// fix the URL, fix the network, or fix the credentials. Local failures (a destination that
/// exists, a cancelled transfer) stay `GitError`s.
public struct RemoteError: Error, Sendable, Equatable, LocalizedError {
    public enum Kind: Sendable, Equatable {
        /// No repository there: a missing path, http 404, a daemon that does not export it.
        case notFound
        /// The host could not be reached: refused, unresolvable, timed out.
        case unreachable
        /// The server refused every credential offered (or none could be offered).
        case authenticationFailed
        /// Any other transport failure; `message` says what.
        case other
    }

    public let kind: Kind
    /// The remote, redacted (`https://***@host/x`): safe to print.
    public let url: String
    /// libgit2's message, scrubbed of every secret grove knew for this operation.
    public let message: String

    public init(kind: Kind, url: String, message: String) {
        self.kind = kind
        self.url = url
        self.message = message
    }

    public var errorDescription: String? {
        switch kind {
        case .notFound:
            return "\(url): repository not found; check the URL"
        case .unreachable:
            return "\(url): unreachable (\(reason)); check the network and the host"
        case .authenticationFailed:
            if RemoteURL(url).scheme == "ssh" {
                return "\(url): authentication failed; load a key the host accepts into ssh-agent (ssh-add)"
            }
            return "\(url): authentication failed; set GROVE_TOKEN, configure a git credential helper,"
                + " or put user:token in the URL"
        case .other:
            return "\(url): \(message); check that git reaches it (`git ls-remote \(url)`), then try again"
        }
    }

    /// Why the host could not be reached, in a few words.
    private var reason: String {
        let lowered = message.lowercased()
        if lowered.contains("connection refused") { return "connection refused" }
        if lowered.contains("resolve address") || lowered.contains("resolve host") { return "could not resolve host" }
        if lowered.contains("timed out") || lowered.contains("timeout") { return "timed out" }
        return message
    }
}

extension RemoteError {
    /// Sorts a libgit2 failure of a clone, fetch or push of `url`; nil when it is not a
    /// transport failure (the caller rethrows the `GitError`). `authenticationFailed` is the
    /// credential callback's verdict; `secrets` are scrubbed from the message, as is the URL's.
    init?(classifying error: GitError, url: RemoteURL, authenticationFailed: Bool, secrets: [String]) {
        let message = Self.scrub(error.message, url: url, secrets: secrets)
        let lowered = message.lowercased()
        let transportClasses: Set<Int32> = [
            Int32(GIT_ERROR_NET.rawValue), Int32(GIT_ERROR_SSL.rawValue), Int32(GIT_ERROR_SSH.rawValue),
            Int32(GIT_ERROR_HTTP.rawValue),
        ]
        let isTransport = transportClasses.contains(error.errorClass)
        // A callback's own "stop" (progress cancelled the transfer) is the caller's doing.
        if error.code == GIT_EUSER.rawValue && !authenticationFailed { return nil }
        let kind: Kind
        if authenticationFailed || error.code == GIT_EAUTH.rawValue || lowered.contains("authentication")
            || lowered.contains("status code: 401") || lowered.contains("status code: 403")
        {
            kind = .authenticationFailed
        } else if Self.isMissingLocalRepository(url) || lowered.contains("could not find repository")
            || lowered.contains("status code: 404") || lowered.contains("not exported")
            || lowered.contains("no such repository") || lowered.contains("does not appear to be a git repository")
            || (isTransport && lowered.contains("not found"))
        {
            kind = .notFound
        } else if lowered.contains("connection refused") || lowered.contains("failed to connect")
            || lowered.contains("resolve address") || lowered.contains("resolve host") || lowered.contains("timed out")
            || lowered.contains("network is unreachable") || lowered.contains("no route to host")
            || lowered.contains("connection reset")
        {
            kind = .unreachable
        } else if isTransport {
            kind = .other
        } else {
            return nil
        }
        self.init(kind: kind, url: url.redacted, message: message)
    }

    /// A local source that is not there, which libgit2 reports in several ways ("unsupported
    /// URL protocol" for a missing path, "failed to resolve path" for a missing `file://` one).
    private static func isMissingLocalRepository(_ url: RemoteURL) -> Bool {
        guard let path = RepositoryLocation(url.withoutCredentials).localPath else { return false }
        return !FileManager.default.fileExists(atPath: path)
    }

    /// `text` with the URL's and the session's secrets masked, plain and in the usual
    /// percent-encodings, and the URL's stripped form shown as its redacted one.
    static func scrub(_ text: String, url: RemoteURL, secrets: [String]) -> String {
        let all = secrets + url.secrets
        var scrubbed = text
        if url.hasSecret { scrubbed = scrubbed.replacingOccurrences(of: url.withoutCredentials, with: url.redacted) }
        let spellings = all.flatMap { secret in
            [secret]
                + [CharacterSet.urlPasswordAllowed, .urlUserAllowed, .alphanumerics].compactMap {
                    secret.addingPercentEncoding(withAllowedCharacters: $0)
                }
        }
        // Longest first, so no shorter spelling leaves the tail of a longer one behind.
        for spelling in Set(spellings).sorted(by: { $0.count > $1.count }) where !spelling.isEmpty {
            scrubbed = scrubbed.replacingOccurrences(of: spelling, with: "***")
        }
        return scrubbed.replacingOccurrences(of: "\n", with: " ")
    }
}
