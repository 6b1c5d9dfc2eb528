import Foundation

/// What a `repo:` entry or `--repo` flag names: a local directory, or a URL to clone (a later issue).
public enum RepositoryReference: Sendable, Equatable, CustomStringConvertible {
    case local(path: String)
    case remote(url: String)

    /// Classifies `text`: `scheme://…` and scp-like `user@host:path` are remote, anything else a path.
    public init(_ text: String) {
        self = Self.isRemote(text) ? .remote(url: text) : .local(path: text)
    }

    /// The text as given, with any credentials in a URL hidden (safety promise 5).
    public var description: String {
        switch self {
        case .local(let path): return path
        case .remote(let url): return Self.redacted(url)
        }
    }

    /// The name a task gets from this repository: its last path component without `.git`.
    public var taskNameStem: String {
        var text: String
        switch self {
        case .local(let path): text = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        case .remote(let url):
            text = url
            while text.hasSuffix("/") { text.removeLast() }
            if let cut = text.lastIndex(where: { $0 == "/" || $0 == ":" }) {
                text = String(text[text.index(after: cut)...])
            }
        }
        if text.hasSuffix(".git") && text.count > 4 { text.removeLast(4) }
        return TaskName.sanitized(text)
    }

    /// `https://user:token@host/x` → `https://***@host/x`; other text is returned as is.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<hostEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(rest[at...])
    }

    private static func isRemote(_ text: String) -> Bool {
        if let scheme = text.range(of: "://") {
            let name = text[..<scheme.lowerBound]
            return !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || "+.-".contains($0) }
        }
        // scp-like syntax: user@host:path, with no slash before the colon.
        guard let colon = text.firstIndex(of: ":"), let at = text.firstIndex(of: "@"), at < colon else {
            return false
        }
        return !text[..<colon].contains("/") && at != text.startIndex
    }
}
