import Foundation
import GroveGit
import Synchronization
import TestSupport
import Testing

@testable import GroveCore

/// A repository with a finished run whose tasks the merge tests land: real branches and
/// worktrees made by `Runner`, and the git CLI to look at what the queue did.
struct MergeFixture {
    let sandbox: Sandbox
    let home: GroveHome
    let repo: TestRepository
    /// A fixed committer, so rebased commits can be told from the originals; dated now at each
    /// use, as grove's own committer is: a date fixed at the first use would make rebased commits
    /// older than the commits under them, and libgit2 1.5.1's revision walk gives up on more than
    /// five such commits (its "slop"), replaying commits that base already has.
    static var committer: Signature { Signature(name: "Merge Bot", email: "merge@example.com") }

    init(_ label: String = #function) throws {
        try self.init(
            label,
            files: [
                "README.md": "hello\n", "conflict.txt": "line 1\nline 2\nline 3\n",
                ".gitignore": "*.log\n",
            ])
    }

    /// A fixture whose repository's first commit holds `files`.
    init(_ label: String = #function, files: [String: String]) throws {
        sandbox = try Sandbox(label)
        home = GroveHome(path: sandbox.child("home"))
        repo = try sandbox.repository("repo", files: files)
    }

    /// A task of the task file: `command` is a shell line run in its worktree.
    struct Task {
        var name: String
        var command: String
        /// Another repository than the fixture's.
        var repo: String?
        /// `depends_on`: tasks of the same run this one starts from and lands after.
        var dependsOn: [String]

        init(name: String, command: String, repo: String? = nil, dependsOn: [String] = []) {
            self.name = name
            self.command = command
            self.repo = repo
            self.dependsOn = dependsOn
        }

        /// Writes `<name>.txt` (a change no other task touches).
        static func own(_ name: String) -> Task {
            Task(name: name, command: "echo \(name) > \(name).txt")
        }

        /// Rewrites line 1 of conflict.txt: conflicts with every other such task.
        static func conflicting(_ name: String) -> Task {
            Task(name: name, command: Fixtures.agent("conflict-edit"))
        }

        /// Leaves nothing behind.
        static func idle(_ name: String) -> Task {
            Task(name: name, command: "true")
        }

        static func failing(_ name: String) -> Task {
            Task(name: name, command: "exit 3")
        }
    }

    /// Runs `tasks` as one run (4 at once) and returns its number.
    @discardableResult
    func run(_ tasks: [Task], file: String = "grove.yaml") async throws -> Int {
        let lines = tasks.map {
            "  - name: \($0.name)\n    repo: \($0.repo ?? repo.path)\n    command: \"\($0.command)\""
                + ($0.dependsOn.isEmpty ? "" : "\n    depends_on: [\($0.dependsOn.joined(separator: ", "))]")
        }
        let text = "base: main\njobs: 4\ntasks:\n" + lines.joined(separator: "\n") + "\n"
        let path = sandbox.child(file)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let runner = try Runner.start(
            flags: RunFlags(file: path), home: home, currentDirectory: repo.path, processorCount: 2)
        return try await runner.execute(observer: SilentObserver(), control: RunControl()).run
    }

    var store: StateStore {
        get throws { try StateStore(home: home) }
    }

    /// Merges like `grove merge`, in process.
    func merge(
        _ options: MergeOptions = MergeOptions(), observer: any MergeObserver = SilentMergeObserver(),
        control: RunControl = RunControl()
    ) async throws -> MergeReport {
        var options = options
        if options.committer == nil { options.committer = Self.committer }
        let queue = try MergeQueue.prepare(options: options, store: try store, home: home)
        return try await queue.execute(observer: observer, control: control)
    }

    func task(_ run: Int, _ name: String) throws -> TaskRecord {
        try #require(try store.task(run: run, name: name))
    }

    /// `git rev-parse --verify -q`: nil when the ref does not exist.
    func tip(_ ref: String) throws -> String? {
        let result = try Shell.run(["git", "-C", repo.path, "rev-parse", "--verify", "-q", ref], check: false)
        return result.status == 0 ? result.output : nil
    }

    /// Every file of a directory (but `.git`) with its bytes: to prove a worktree
    /// was not touched at all.
    static func snapshot(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            if path == ".git" || path.hasPrefix(".git/") { continue }
            let full = directory + "/" + path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            files[path] = try Data(contentsOf: URL(fileURLWithPath: full))
        }
        return files
    }

    /// `git fsck` finds no problem (dangling objects left by rebases are not problems).
    func expectFsckClean(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fsck = try Shell.run(["git", "-C", repo.path, "fsck", "--no-dangling"], check: false)
        #expect(fsck.status == 0, "\(fsck.stderr)", sourceLocation: sourceLocation)
        #expect(!fsck.stderr.contains("error"), "\(fsck.stderr)", sourceLocation: sourceLocation)
    }
}

/// Records merge events, for tests that look at what was reported or act in between steps.
final class MergeEventLog: MergeObserver {
    let events = Mutex<[MergeEvent]>([])
    let onEvent: @Sendable (MergeEvent) -> Void

    init(onEvent: @escaping @Sendable (MergeEvent) -> Void = { _ in }) {
        self.onEvent = onEvent
    }

    func handle(_ event: MergeEvent) {
        events.withLock { $0.append(event) }
        onEvent(event)
    }

    var all: [MergeEvent] { events.withLock { $0 } }
}
