import Foundation
import GroveGit

/// What a `repo:` entry or `--repo` flag names: a local directory, or a URL to clone.
public enum RepositoryReference: Sendable, Equatable, CustomStringConvertible {
    case local(path: String)
    case remote(url: String)

    /// Classifies `text` by git's rule (GroveGit's `RepositoryLocation`): URLs, `file://` ones
    /// included (they are cloned, not used in place), and scp-like `[user@]host:path` are remote.
    public init(_ text: String) {
        if case .path = RepositoryLocation(text) {
            self = .local(path: text)
        } else {
            self = .remote(url: text)
        }
    }

    /// The text as given, with any credentials in a URL hidden (safety promise 5).
    public var description: String {
        switch self {
        case .local(let path): return path
        case .remote(let url): return Self.redacted(url)
        }
    }

    /// The name a task gets from this repository: its last path component without `.git` (of
    /// the URL without credentials: a URL with no path must not name a task after its token).
    public var taskNameStem: String {
        var text: String
        switch self {
        case .local(let path): text = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        case .remote(let url):
            text = RemoteURL(url).withoutCredentials
            while text.hasSuffix("/") { text.removeLast() }
            if let cut = text.lastIndex(where: { $0 == "/" || $0 == ":" }) {
                text = String(text[text.index(after: cut)...])
            }
        }
        if text.hasSuffix(".git") && text.count > 4 { text.removeLast(4) }
        return TaskName.sanitized(text)
    }

    /// `https://user:token@host/x` → `https://***@host/x`, and so for every form `RemoteURL`
    /// knows (`file://`, scp-like `user:pw@host:path`, a `--repo=URL` argument); other text is
    /// returned as is.
    public static func redacted(_ url: String) -> String {
        RemoteURL(url).redacted
    }
}
