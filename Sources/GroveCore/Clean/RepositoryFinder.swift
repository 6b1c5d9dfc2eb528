import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `grove clean --stale --scan DIR`: the repositories under a directory, found from directory
/// entries alone (nothing is opened), so a tree of hundreds of repositories is listed in
/// milliseconds.
enum RepositoryFinder {
    /// Directories at most `depth` levels below `root` (`root` itself is level 0) that hold a
    /// repository: a checkout (a `.git` directory) or a bare repository (`HEAD`, `objects/`,
    /// `refs/`). A repository's own tree is not searched further, nor is a linked worktree or
    /// a submodule (a `.git` file: it belongs to a repository found elsewhere, or outside DIR).
    /// Symbolic links are not followed, so a link cycle cannot loop. Sorted.
    static func repositories(under root: String, depth: Int) -> [String] {
        var found: [String] = []
        var level = [(root as NSString).standardizingPath]
        for current in 0...max(0, depth) {
            var next: [String] = []
            for directory in level {
                switch kind(of: directory) {
                case .checkout, .bare: found.append(directory)
                case .linked: continue
                case .plain:
                    guard current < depth else { continue }
                    next += subdirectories(of: directory)
                }
            }
            level = next
            if level.isEmpty { break }
        }
        return found.sorted()
    }

    private enum Kind {
        case checkout, bare, linked, plain
    }

    private static func kind(of directory: String) -> Kind {
        switch fileType(directory + "/.git") {
        case S_IFDIR: return .checkout
        case S_IFREG: return .linked
        default: break
        }
        if fileType(directory + "/HEAD") == S_IFREG && fileType(directory + "/objects") == S_IFDIR
            && fileType(directory + "/refs") == S_IFDIR
        {
            return .bare
        }
        return .plain
    }

    /// The file type bits of `path` (not following a symbolic link); nil when it does not exist.
    private static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    /// Real directories directly inside `directory` (symbolic links left out), sorted.
    private static func subdirectories(of directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().compactMap { name in
            let path = directory == "/" ? "/" + name : directory + "/" + name
            return fileType(path) == S_IFDIR ? path : nil
        }
    }
}
