import Foundation

/// Paths as grove compares them. Every module that compares paths uses these, so `/tmp/x/`,
/// `/tmp/./x` and a link to it name one directory everywhere.

/// An absolute, standardized form of `path` (relative paths resolve against the current directory).
public func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}

/// Symbolic links resolved, `.`/`..` and trailing slashes gone (`/tmp` vs `/private/tmp`).
public func canonicalPath(_ path: String) -> String {
    URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path.withoutTrailingSlash
}

/// Whether `path` is `directory` or inside it (both in the same form, e.g. both canonical).
public func isPath(_ path: String, inside directory: String) -> Bool {
    path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
}

extension String {
    /// The path without trailing slashes; `/` stays `/`.
    public var withoutTrailingSlash: String {
        var text = self
        while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
