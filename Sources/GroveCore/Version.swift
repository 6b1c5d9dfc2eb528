import GroveGit

/// grove's own version, and what it runs on.
public enum GroveVersion {
    public static let number = "0.1.0"

    /// `grove 0.1.0 (libgit2 1.5.1)`.
    public static var description: String { "grove \(number) (libgit2 \(Git.libgit2Version))" }
}
