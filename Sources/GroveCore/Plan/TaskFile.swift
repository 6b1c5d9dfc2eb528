import Foundation

/// A value read from a task file or a flag, with where it came from, so later checks (a missing
/// base branch, an existing branch) can still point at the line that caused them.
public struct Located<Value: Sendable & Equatable>: Sendable, Equatable {
    public let value: Value
    public let location: PlanLocation

    public init(_ value: Value, at location: PlanLocation) {
        self.value = value
        self.location = location
    }
}

/// The keys a task may set itself or inherit from the file's top level (task values win).
public struct TaskSettings: Sendable, Equatable {
    public var base: Located<String>?
    public var command: Located<TaskCommand>?
    public var setup: Located<TaskCommand>?
    public var copy: [Located<String>]?
    public var env: [String: String]?
    public var timeout: Located<Duration>?
    /// Branch name template; `{run}` and `{task}` are filled in by the plan.
    public var branch: Located<String>?
    /// Extra attempts after a failed or timed-out one.
    public var retries: Located<Int>?

    public init() {}

    /// These settings with every unset key taken from `defaults`; `env` merges key by key.
    public func inheriting(_ defaults: TaskSettings) -> TaskSettings {
        var merged = self
        merged.base = base ?? defaults.base
        merged.command = command ?? defaults.command
        merged.setup = setup ?? defaults.setup
        merged.copy = copy ?? defaults.copy
        merged.timeout = timeout ?? defaults.timeout
        merged.branch = branch ?? defaults.branch
        merged.retries = retries ?? defaults.retries
        if let inherited = defaults.env {
            merged.env = inherited.merging(env ?? [:]) { $1 }
        }
        return merged
    }
}

/// One task as the file describes it: an entry of `tasks:`, or one repository of `repos:`.
public struct TaskEntry: Sendable, Equatable {
    public var name: Located<String>
    /// nil means the directory holding the task file.
    public var repo: Located<RepositoryReference>?
    public var instructions: String
    public var dependsOn: [Located<String>]
    /// The task's own keys (not yet merged with the file's defaults).
    public var settings: TaskSettings

    public init(
        name: Located<String>, repo: Located<RepositoryReference>?, instructions: String = "",
        dependsOn: [Located<String>] = [], settings: TaskSettings = TaskSettings()
    ) {
        self.name = name
        self.repo = repo
        self.instructions = instructions
        self.dependsOn = dependsOn
        self.settings = settings
    }
}

/// A parsed and self-consistent `grove.yaml` (or JSON) file: keys, types, names, durations and
/// dependencies are checked; repositories and branches are checked later by `PlanBuilder`.
public struct TaskFile: Sendable, Equatable {
    public enum Format: String, Sendable { case yaml, json }

    /// The path as the user gave it (used in messages).
    public var path: String
    public var format: Format
    public var jobs: Located<Int>?
    /// Top-level defaults for every task.
    public var defaults: TaskSettings
    /// Every task in order: the `repos:` fan-out first, then `tasks:` in file order.
    public var tasks: [TaskEntry]

    /// Reads and parses the file at `path` (relative to `currentDirectory`); messages name it as given.
    public static func load(
        path: String, currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(PlanError) -> TaskFile {
        let data: Data
        let fullPath = absolute(path, against: currentDirectory)
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: fullPath))
        } catch {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: fullPath, isDirectory: &isDirectory) {
                throw PlanError(.path(path), "task file not found; check the path or create it")
            }
            if isDirectory.boolValue {
                throw PlanError(.path(path), "is a directory, not a task file; give the path of grove.yaml")
            }
            throw PlanError(.path(path), "cannot read the task file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PlanError(.path(path), "the task file is not UTF-8 text; save it as UTF-8")
        }
        return try parse(text, path: path)
    }

    /// Parses task file text; `path` is used for the format (`.json`) and in messages.
    public static func parse(_ text: String, path: String) throws(PlanError) -> TaskFile {
        let trimmed = text.drop { $0.isWhitespace }
        let format: Format = path.lowercased().hasSuffix(".json") || trimmed.hasPrefix("{") ? .json : .yaml
        return try TaskFileParser(path: path, format: format).parse(text)
    }
}
