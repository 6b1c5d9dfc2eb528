import Foundation
import GroveBasics

/// Where a repository source lives, classified by git's own rule (`url_is_local_not_ssh`): a
/// `scheme://` URL, or `host:path` with no `/` before the colon, is not a local path. One
/// classifier for the whole project, so planning and cloning never disagree about a source.
public enum RepositoryLocation: Sendable, Equatable {
    /// A plain filesystem path, as given.
    case path(String)
    /// A `file://` URL and the path it names. Both without the URL's userinfo (which git
    /// ignores on `file://` URLs): `file://user:pw@/srv/x.git` is `file:///srv/x.git`, path
    /// `/srv/x.git` — credentials are split off by `RemoteURL`, here as everywhere.
    case fileURL(url: String, path: String)
    /// A network source: `https://`, `ssh://`, `git://`…, or scp-like `[user@]host:path`.
    case network(String)

    public init(_ source: String) {
        if let scheme = source.range(of: "://") {
            let name = source[..<scheme.lowerBound]
            if name.lowercased() == "file" {
                let parts = RemoteURL.Parts(source, separator: scheme)
                self = .fileURL(url: String(parts.prefix + parts.hostAndPort + parts.tail), path: parts.filePath)
                return
            }
            if !name.isEmpty && name.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }) {
                self = .network(source)
                return
            }
        }
        if let colon = source.firstIndex(of: ":"), !source[..<colon].contains("/") {
            self = .network(source)
            return
        }
        self = .path(source)
    }

    /// The absolute filesystem path of a local source (a path or a `file://` URL); nil for network sources.
    public var localPath: String? {
        switch self {
        case .path(let path): return absolutePath(path)
        case .fileURL(_, let path): return absolutePath(path)
        case .network: return nil
        }
    }
}
