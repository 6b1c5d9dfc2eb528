import Foundation
import GroveGit

/// The `grove report` document: the run's status plus, per task, what it changed (a diffstat
/// from its base commit to its branch tip), why it failed and the end of its log — everything a
/// reviewer needs in one place. Like `StatusReport`, every key is always present, `null` when
/// unknown, so scripts can rely on the shape.
public struct RunReport: Codable, Sendable, Equatable {
    public var run: Int
    public var state: RunState
    public var wallSeconds: Double
    public var taskSeconds: Double
    public var speedup: Double
    /// Lines added and removed over all tasks (binary files count none).
    public var insertions: Int
    public var deletions: Int
    public var tasks: [TaskReport]

    /// One file of a task's diffstat (`git diff --numstat -M base_commit head_commit`).
    public struct FileChange: Codable, Sendable, Equatable {
        public var path: String
        /// Where a renamed or copied file came from.
        @Nullable public var oldPath: String?
        public var insertions: Int
        public var deletions: Int
        /// Binary files have no line counts (0 and 0 here, `-` in git's numstat).
        public var binary: Bool

        public init(path: String, oldPath: String?, insertions: Int, deletions: Int, binary: Bool) {
            self.path = path
            self.oldPath = oldPath
            self.insertions = insertions
            self.deletions = deletions
            self.binary = binary
        }

        enum CodingKeys: String, CodingKey {
            case path, insertions, deletions, binary
            case oldPath = "old_path"
        }
    }

    /// One task: its `TaskFacts` (as `grove status` shows them), what it changed, and how it ended.
    public typealias TaskReport = TaskDocument<TaskChanges>

    /// What the report says of a task beyond its `TaskFacts`.
    public struct TaskChanges: Codable, Sendable, Equatable {
        @Nullable public var signal: Int32?
        @Nullable public var baseCommit: String?
        @Nullable public var headCommit: String?
        /// Empty, with `note` saying why, when it cannot be computed.
        public var diffstat: [FileChange]
        public var insertions: Int
        public var deletions: Int
        /// Why `diffstat` is empty when that is not because nothing changed; nil otherwise.
        @Nullable public var note: String?
        /// The last lines of the log (empty when there is no log yet).
        public var logTail: [String]

        enum CodingKeys: String, CodingKey {
            case signal, diffstat, insertions, deletions, note
            case baseCommit = "base_commit"
            case headCommit = "head_commit"
            case logTail = "log_tail"
        }
    }

    enum CodingKeys: String, CodingKey {
        case run, state, speedup, insertions, deletions, tasks
        case wallSeconds = "wall_seconds"
        case taskSeconds = "task_seconds"
    }

    /// Builds the report of run `number` (the latest when nil) from the state database and the
    /// tasks' repositories and logs. Marks crashed runs interrupted first, so a run whose grove
    /// died is not reported as running. Throws `StateError.noSuchRun` / `.noRuns`.
    public init(store: StateStore, run number: Int? = nil, now: Date = Date(), logLines: Int = 20) throws {
        // Failing to write this (a read-only home) must not stop the reading itself.
        _ = try? store.markInterrupted()
        let (run, records) = try store.runWithTasks(number: number)
        let status = StatusReport(run: run, tasks: records, pushes: try store.pushes(run: run.number), now: now)
        self.run = status.run
        state = status.state
        wallSeconds = status.wallSeconds
        taskSeconds = status.taskSeconds
        speedup = status.speedup

        var repositories = OpenedRepositories()
        tasks = zip(records, status.tasks).map { record, entry in
            let (diffstat, note) = repositories.diffstat(of: record)
            return TaskReport(
                entry.facts,
                TaskChanges(
                    signal: record.signal, baseCommit: record.baseCommit, headCommit: record.headCommit,
                    diffstat: diffstat, insertions: diffstat.reduce(0) { $0 + $1.insertions },
                    deletions: diffstat.reduce(0) { $0 + $1.deletions }, note: note,
                    logTail: LogTail.lines(ofFileAt: record.log, count: logLines)))
        }
        insertions = tasks.reduce(0) { $0 + $1.insertions }
        deletions = tasks.reduce(0) { $0 + $1.deletions }
    }

    /// The document as indented JSON with sorted keys: a report is read and kept, not streamed.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// Opens each repository once for all the tasks that share it (a fan-out run has many).
private struct OpenedRepositories {
    private var open: [String: Repository] = [:]

    /// The task's diffstat from its base commit to its head commit, or no files and why.
    mutating func diffstat(of task: TaskRecord) -> ([RunReport.FileChange], String?) {
        guard let baseHex = task.baseCommit, let headHex = task.headCommit else {
            if !task.state.isFinal { return ([], "no diffstat yet: the task is \(task.state.rawValue)") }
            let missing = task.baseCommit == nil ? "base" : "head"
            return ([], "no diffstat: grove recorded no \(missing) commit for this task")
        }
        guard let base = ObjectID(hex: baseHex), let head = ObjectID(hex: headHex) else {
            return ([], "no diffstat: the recorded commits \(baseHex) and \(headHex) are not object ids")
        }
        // The task's repository, else its worktree (the same objects; the only local copy when
        // `repo` is a URL); whichever opens and still has the commits answers.
        var problems: [String] = []
        var searched: Set<String> = []
        for path in [task.repo, task.worktree] {
            let repository: Repository
            do {
                repository = try self.repository(at: path)
            } catch RepositoryOpenError.missing {
                problems.append("\(path) is gone")
                continue
            } catch {
                problems.append(error.localizedDescription)
                continue
            }
            // A worktree shares its repository's objects: asking it again would say the same.
            guard searched.insert(repository.commonDirectory).inserted else { continue }
            do {
                let stats = try repository.diffStat(from: base, to: head)
                return (
                    stats.map {
                        RunReport.FileChange(
                            path: $0.path, oldPath: $0.oldPath, insertions: $0.insertions, deletions: $0.deletions,
                            binary: $0.isBinary)
                    }, nil
                )
            } catch let error as GitError where error.isNotFound {
                problems.append("\(base.short)..\(head.short) is no longer in \(path)")
            } catch {
                problems.append("\(path): \(error.localizedDescription)")
            }
        }
        return ([], "no diffstat: " + problems.joined(separator: "; "))
    }

    private mutating func repository(at path: String) throws -> Repository {
        if let repository = open[path] { return repository }
        let repository = try Repository.open(at: path)
        open[path] = repository
        return repository
    }
}
