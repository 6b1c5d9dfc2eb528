import Clibgit2
import Foundation

extension Repository {
    /// Whether checking out `commit` could transform any file (CRLF conversion, `ident`, filter
    /// drivers such as Git LFS): true when the tree holds a `.gitattributes`, the repository has
    /// `info/attributes`, an attributes file is configured or in the default global place, or
    /// `core.autocrlf` is on. When it is false, a checkout may skip libgit2's filter lookup,
    /// which resolves every file's path with `realpath` and measured half the time of checking
    /// out a 15,000-file tree on this machine.
    public func checkoutMayFilter(_ commit: ObjectID) throws -> Bool {
        if let autocrlf = try configString("core.autocrlf"),
            !["false", "no", "off", "0"].contains(autocrlf.lowercased())
        {
            return true
        }
        if try configString("core.attributesFile") != nil { return true }
        let environment = ProcessInfo.processInfo.environment
        let configHome =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { $0 + "/.config" }
        if let configHome, FileManager.default.fileExists(atPath: configHome + "/git/attributes") { return true }
        if FileManager.default.fileExists(atPath: commonDirectory + "/info/attributes") { return true }
        return try treeHasAttributesFile(commit)
    }

    private func treeHasAttributesFile(_ commit: ObjectID) throws -> Bool {
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        final class Found { var value = false }
        let found = Found()
        try withExtendedLifetime(found) {
            let payload = Unmanaged.passUnretained(found).toOpaque()
            let result = git_tree_walk(
                tree, GIT_TREEWALK_PRE,
                { _, entry, payload in
                    guard let entry, let payload, let name = git_tree_entry_name(entry) else { return 0 }
                    guard strcmp(name, ".gitattributes") == 0 else { return 0 }
                    Unmanaged<Found>.fromOpaque(payload).takeUnretainedValue().value = true
                    return -1  // found: stop the walk
                }, payload)
            if result < 0 && !found.value { try GitError.check(result, "git_tree_walk") }
        }
        return found.value
    }
}
