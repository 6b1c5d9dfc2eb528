import Foundation
import GroveGit

/// A unique temporary directory for one test (in `$TMPDIR`, else /tmp), removed when the test
/// lets go of it; nothing else is created, so a test run leaves nothing in the temporary
/// directory. libgit2's global, XDG and system config lookups are pointed at a directory that
/// cannot exist first, so the host's `~/.gitconfig` never reaches a test (and tests never touch
/// the user's real home).
public final class Sandbox {
    public let path: String

    public init(_ label: String = #function) throws {
        Sandbox.isolateLibgit2
        let safe = label.filter { $0.isLetter || $0.isNumber }.prefix(40)
        path = NSTemporaryDirectory() + "grove-test-" + safe + "-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A path inside the sandbox (not created).
    public func child(_ name: String) -> String { path + "/" + name }

    /// A new repository at `name` with a fixed identity and one commit holding `files`.
    public func repository(
        _ name: String = "repo", files: [String: String] = ["README.md": "hello\n"]
    ) throws -> TestRepository {
        let repository = try TestRepository(path: child(name))
        if !files.isEmpty {
            try repository.write(files)
            try repository.commit("initial")
        }
        return repository
    }

    private static let isolateLibgit2: Void = {
        // A path below a device file: no config file is ever found there, none can be written
        // there, and there is no directory to remove afterwards (a shared one in $TMPDIR was
        // left behind by every run).
        try? Git.setGlobalConfigDirectory(noConfigDirectory)
    }()

    /// Where libgit2 looks for global, XDG and system config during tests: nowhere.
    private static let noConfigDirectory = "/dev/null/grove-tests-no-config"
}

/// A repository made with the git CLI (`git init -b main`), driven from tests.
public struct TestRepository: Sendable {
    public let path: String

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Shell.run(["git", "init", "-q", "-b", "main", path])
        try git("config", "user.name", "Test User")
        try git("config", "user.email", "test@example.com")
        try git("config", "commit.gpgsign", "false")
    }

    /// Wraps a repository or worktree that already exists (e.g. one grove made), changing nothing.
    public init(existing path: String) {
        self.path = path
    }

    /// Runs git in this repository.
    @discardableResult
    public func git(_ arguments: String...) throws -> ProcessResult {
        try Shell.run(["git", "-C", path] + arguments)
    }

    /// `git` output, trimmed.
    public func output(_ arguments: String...) throws -> String {
        try Shell.run(["git", "-C", path] + arguments).output
    }

    /// Writes files (creating folders) relative to the working tree.
    public func write(_ files: [String: String]) throws {
        for (name, text) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: false, encoding: .utf8)
        }
    }

    public func read(_ name: String) throws -> String {
        try String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }

    /// Stages everything and commits; returns the new commit id.
    @discardableResult
    public func commit(_ message: String, files: [String: String] = [:]) throws -> String {
        try write(files)
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return try output("rev-parse", "HEAD")
    }

    /// `git rev-parse REV`.
    public func revParse(_ revision: String) throws -> String {
        try output("rev-parse", revision)
    }

    /// All refs and where they point (`git for-each-ref`), to compare before/after.
    public func refs() throws -> String {
        try output("for-each-ref", "--format=%(refname) %(objectname)")
    }

    /// `git status --porcelain`.
    public func porcelainStatus() throws -> String {
        try output("status", "--porcelain")
    }

    /// Opens it with GroveGit.
    public func open() throws -> Repository {
        try Repository.open(at: path)
    }
}
