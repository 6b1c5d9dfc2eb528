import Foundation
import GroveBasics
import Yams

/// Turns task file text into a `TaskFile`, reporting the first problem with its line and column.
struct TaskFileParser {
    static let topLevelKeys = [
        "base", "jobs", "timeout", "command", "setup", "copy", "env", "branch", "retries", "repos", "tasks",
    ]
    static let taskKeys = [
        "name", "repo", "base", "command", "setup", "copy", "env", "timeout", "instructions", "depends_on",
        "branch", "retries",
    ]

    let path: String
    let format: TaskFile.Format

    func parse(_ text: String) throws(PlanError) -> TaskFile {
        let root: Node
        try YAMLShape.checkAliases(text, path: path)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PlanError(.path(path), "the task file is empty; add `command:` and `tasks:` (or `repos:`)")
            }
            root = node
        } catch let error as PlanError {
            throw error
        } catch {
            throw syntaxError(error)
        }
        guard let mapping = root.mapping else {
            throw PlanError(
                location(root),
                "the task file must be a mapping of keys, not \(kind(root)); start it with `command:` and `tasks:`")
        }
        var file = TaskFile(path: path, format: format, jobs: nil, defaults: TaskSettings(), tasks: [])
        var repos: [Located<RepositoryReference>] = []
        var explicit: [TaskEntry] = []
        var tasksKey: Node?
        for (keyNode, value) in mapping {
            let key = try keyName(keyNode)
            if try readSetting(key, value, into: &file.defaults) { continue }
            switch key {
            case "jobs": file.jobs = try jobs(value)
            case "repos":
                repos = try list(value, key: key).map { item throws(PlanError) in
                    try repository(item, key: "repos")
                }
            case "tasks":
                tasksKey = keyNode
                let items = try list(value, key: key)
                for (index, item) in items.enumerated() {
                    explicit.append(try task(item, number: index + 1))
                }
            default:
                throw unknownKey(
                    key, keyNode, known: Self.topLevelKeys, other: Self.taskKeys, place: "at the top level")
            }
        }
        if repos.isEmpty && explicit.isEmpty {
            let place = tasksKey.map(location) ?? .file(path: path, line: 1, column: 1)
            throw PlanError(place, "no tasks; add entries under `tasks:` or repositories under `repos:`")
        }
        file.tasks = try named(fanOut: repos, explicit: explicit)
        try checkDependencies(file.tasks)
        return file
    }

    // MARK: - Tasks

    private func task(_ node: Node, number: Int) throws(PlanError) -> TaskEntry {
        guard let mapping = node.mapping else {
            throw PlanError(
                location(node),
                "task \(number) must be a mapping, not \(kind(node)); write it like `- name: fix-auth` with its keys below"
            )
        }
        guard let nameNode = mapping["name"] else {
            throw PlanError(location(node), "task \(number) has no name; add `name: <name>`")
        }
        let name = try nonEmptyText(nameNode, key: "name")
        guard TaskName.isValid(name) else { throw PlanError(location(nameNode), TaskName.problem(name)) }
        var entry = TaskEntry(name: Located(name, at: location(nameNode)), repo: nil)
        for (keyNode, value) in mapping {
            let key = try keyName(keyNode)
            if try readSetting(key, value, into: &entry.settings) { continue }
            switch key {
            case "name": break
            case "repo": entry.repo = try repository(value, key: key)
            case "instructions": entry.instructions = try text(value, key: key, allowEmpty: true)
            case "depends_on":
                entry.dependsOn = try stringList(value, key: key).map { item throws(PlanError) in
                    guard TaskName.isValid(item.value) else {
                        throw PlanError(
                            item.location,
                            "depends_on names \"\(PlanError.excerpt(item.value))\", which is not a valid task name;"
                                + " name a task of this file")
                    }
                    return item
                }
            default:
                throw unknownKey(
                    key, keyNode, known: Self.taskKeys, other: Self.topLevelKeys, place: "in task \"\(name)\"")
            }
        }
        return entry
    }

    /// Names the fan-out tasks after their repositories (`-2`, `-3`… for repeats and for names an
    /// explicit task already uses) and rejects explicit duplicates.
    private func named(fanOut: [Located<RepositoryReference>], explicit: [TaskEntry]) throws(PlanError) -> [TaskEntry] {
        // Keyed by the lowercased name: names that differ only in case would share a worktree
        // folder and a branch on a case-insensitive file system (macOS).
        var seen: [String: Located<String>] = [:]
        for entry in explicit {
            if let first = seen[entry.name.value.lowercased()] {
                if first.value == entry.name.value {
                    throw PlanError(
                        entry.name.location,
                        "duplicate task name \"\(entry.name.value)\" (first used at \(first.location)); give each task"
                            + " its own name")
                }
                throw PlanError(
                    entry.name.location,
                    "task name \"\(entry.name.value)\" differs from \"\(first.value)\" (at \(first.location)) only in"
                        + " case; they would share a folder on case-insensitive file systems, so rename one")
            }
            seen[entry.name.value.lowercased()] = entry.name
        }
        var taken = Set(seen.keys)
        var tasks: [TaskEntry] = []
        for repo in fanOut {
            let name = TaskName.unique(repo.value.taskNameStem, avoiding: taken)
            taken.insert(name.lowercased())
            tasks.append(TaskEntry(name: Located(name, at: repo.location), repo: repo))
        }
        return tasks + explicit
    }

    private func checkDependencies(_ tasks: [TaskEntry]) throws(PlanError) {
        let names = tasks.map(\.name.value)
        var graph: [String: [Located<String>]] = [:]
        for task in tasks {
            for dependency in task.dependsOn {
                if dependency.value == task.name.value {
                    throw PlanError(
                        dependency.location, "task \"\(task.name.value)\" depends on itself; remove it from depends_on")
                }
                if !names.contains(dependency.value) {
                    throw PlanError(
                        dependency.location,
                        "task \"\(task.name.value)\" depends on unknown task \"\(dependency.value)\""
                            + Self.dependencyHint(dependency.value, names: names))
                }
            }
            graph[task.name.value] = task.dependsOn
        }
        // Depth-first search; a grey node reached again closes a cycle.
        var state: [String: Bool] = [:]  // false: on the current path, true: done
        var path: [String] = []
        func visit(_ name: String) throws(PlanError) {
            state[name] = false
            path.append(name)
            for dependency in graph[name] ?? [] {
                switch state[dependency.value] {
                case .some(false):
                    let start = path.firstIndex(of: dependency.value) ?? 0
                    var names = Array(path[start...]) + [dependency.value]
                    // A long cycle is shown by its ends, so the line stays readable.
                    if names.count > 7 { names = names.prefix(3) + ["…"] + names.suffix(3) }
                    let cycle = names.joined(separator: " → ")
                    throw PlanError(
                        dependency.location,
                        "depends_on makes a cycle (\(cycle)); remove one of these dependencies")
                case .some(true): continue
                case .none: try visit(dependency.value)
                }
            }
            path.removeLast()
            state[name] = true
        }
        for name in names where state[name] == nil { try visit(name) }
    }

    /// "Did you mean" when a name is close, else the names there are.
    static func dependencyHint(_ name: String, names: [String]) -> String {
        let hint = Suggestion.hint(for: name, in: names)
        if !hint.isEmpty { return hint }
        return "; name one of this file's tasks: \(summarize(names))"
    }

    // MARK: - Keys shared by the top level and tasks

    /// Reads `key` into `settings` when it is one of the shared keys; false otherwise.
    private func readSetting(_ key: String, _ value: Node, into settings: inout TaskSettings) throws(PlanError) -> Bool
    {
        switch key {
        case "base":
            let name = try nonEmptyText(value, key: key)
            settings.base = Located(name, at: location(value))
        case "command": settings.command = Located(try command(value, key: key), at: location(value))
        case "setup": settings.setup = Located(try command(value, key: key), at: location(value))
        case "copy": settings.copy = try copyList(value)
        case "env": settings.env = try environment(value)
        case "timeout": settings.timeout = try timeout(value)
        case "branch": settings.branch = Located(try branchTemplate(value), at: location(value))
        case "retries": settings.retries = try retries(value)
        default: return false
        }
        return true
    }

    private func command(_ node: Node, key: String) throws(PlanError) -> TaskCommand {
        if node.sequence != nil {
            let items = try stringList(node, key: key, allowEmptyItems: true)
            guard !items.isEmpty else {
                throw PlanError(location(node), "\(key) is an empty list; give the program and its arguments")
            }
            guard !items[0].value.isEmpty else {
                throw PlanError(items[0].location, "\(key) starts with an empty program name; name the program")
            }
            return .arguments(items.map(\.value))
        }
        let script = try text(node, key: key, allowEmpty: true, expecting: "a string or a list of strings")
        guard !script.allSatisfy(\.isWhitespace) else {
            throw PlanError(location(node), "\(key) is empty; give a command like \"make fix\"")
        }
        return .shell(script)
    }

    private func copyList(_ node: Node) throws(PlanError) -> [Located<String>] {
        let items =
            node.sequence == nil
            ? [Located(try text(node, key: "copy"), at: location(node))]
            : try stringList(node, key: "copy")
        for item in items {
            if let problem = Self.copyProblem(item.value) { throw PlanError(item.location, problem) }
        }
        return items
    }

    /// Why a `copy:` entry cannot be used, if it cannot: it must stay inside the checkout.
    static func copyProblem(_ path: String) -> String? {
        if path.isEmpty { return "copy entry is empty; give a path relative to the repository" }
        if path.hasPrefix("/") || path.hasPrefix("~") {
            return
                "copy entry \"\(PlanError.excerpt(path))\" is absolute; give a path relative to the repository's checkout"
        }
        var depth = 0
        for component in path.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": depth -= 1
            default: depth += 1
            }
            if depth < 0 {
                return
                    "copy entry \"\(PlanError.excerpt(path))\" climbs out of the repository with \"..\"; give a path inside it"
            }
        }
        if depth == 0 {
            return "copy entry \"\(PlanError.excerpt(path))\" names the whole checkout; name the files to copy"
        }
        return nil
    }

    private func environment(_ node: Node) throws(PlanError) -> [String: String] {
        guard let mapping = node.mapping else {
            throw PlanError(
                location(node), "env must be a mapping, not \(kind(node)); write it like `env: { LOG_LEVEL: debug }`")
        }
        var environment: [String: String] = [:]
        for (keyNode, value) in mapping {
            let name = try keyName(keyNode)
            let validName =
                name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
                && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            guard validName else {
                throw PlanError(
                    location(keyNode),
                    "invalid environment variable name \"\(PlanError.excerpt(name))\"; use letters, digits and \"_\", not starting with a digit"
                )
            }
            guard !name.hasPrefix("GROVE_") else {
                throw PlanError(
                    location(keyNode), "\(name) is set by grove for every task; use a name without the GROVE_ prefix")
            }
            if tagName(value) == .null {
                environment[name] = ""
            } else {
                environment[name] = try text(value, key: "env.\(PlanError.excerpt(name))", allowEmpty: true)
            }
        }
        return environment
    }

    private func timeout(_ node: Node) throws(PlanError) -> Located<Duration> {
        let raw = try text(node, key: "timeout", allowEmpty: true)
        guard let duration = TaskDuration.parse(raw) else {
            throw PlanError(location(node), "bad timeout \"\(PlanError.excerpt(raw))\"; \(TaskDuration.expected)")
        }
        return Located(duration, at: location(node))
    }

    private func jobs(_ node: Node) throws(PlanError) -> Located<Int> {
        guard tagName(node) == .int, let count = node.int else {
            throw PlanError(
                location(node),
                "jobs must be a whole number of tasks at once, not \(kind(node)); write it like `jobs: 4`")
        }
        guard count >= 1 else {
            throw PlanError(location(node), "jobs is \(count); give at least 1 (or leave it out for one per CPU core)")
        }
        return Located(count, at: location(node))
    }

    private func retries(_ node: Node) throws(PlanError) -> Located<Int> {
        guard tagName(node) == .int, let count = node.int else {
            throw PlanError(
                location(node),
                "retries must be a whole number of extra attempts, not \(kind(node)); write it like `retries: 2`")
        }
        guard (0...100).contains(count) else {
            throw PlanError(location(node), "retries is \(count); give 0 to 100 extra attempts")
        }
        return Located(count, at: location(node))
    }

    private func branchTemplate(_ node: Node) throws(PlanError) -> String {
        let template = try nonEmptyText(node, key: "branch")
        for name in Placeholders.names(in: template) where !["run", "task"].contains(name) {
            let hint = Suggestion.closest(to: name, in: ["run", "task"]).map { "; did you mean {\($0)}?" }
            throw PlanError(
                location(node),
                "unknown placeholder {\(PlanError.excerpt(name))} in branch" + (hint ?? "; use {run} and {task}"))
        }
        return template
    }

    private func repository(_ node: Node, key: String) throws(PlanError) -> Located<RepositoryReference> {
        Located(RepositoryReference(try nonEmptyText(node, key: key)), at: location(node))
    }

    // MARK: - Node helpers

    /// A well-formed line for `key`, shown as the fix when a value has the wrong type.
    static func example(_ key: String) -> String {
        let base = key.hasSuffix(" item") ? String(key.dropLast(" item".count)) : key
        switch base {
        case "base": return "base: main"
        case "command": return key == base ? "command: make fix" : "command: [make, fix]"
        case "setup": return key == base ? "setup: npm ci" : "setup: [npm, ci]"
        case "copy": return "copy: [.env]"
        case "timeout": return "timeout: 20m"
        case "branch": return "branch: grove/{run}/{task}"
        case "repos": return "repos: [../svc-a, ../svc-b]"
        case "tasks": return "tasks: [{name: fix-auth}]"
        case "name": return "name: fix-auth"
        case "repo": return "repo: ../svc-a"
        case "instructions": return "instructions: Fix the login timeout"
        case "depends_on": return "depends_on: [other-task]"
        default:
            if base.hasPrefix("env.") { return "\(base.dropFirst(4)): some text" }
            return "\(base): some text"
        }
    }

    private func keyName(_ node: Node) throws(PlanError) -> String {
        guard let scalar = node.scalar else {
            throw PlanError(
                location(node), "a key must be a plain word, not \(kind(node)); write keys like `command:` and `tasks:`"
            )
        }
        return scalar.string
    }

    private func list(_ node: Node, key: String) throws(PlanError) -> [Node] {
        guard let sequence = node.sequence else {
            throw PlanError(
                location(node), "\(key) must be a list, not \(kind(node)); write it like `\(Self.example(key))`")
        }
        return Array(sequence)
    }

    private func stringList(_ node: Node, key: String, allowEmptyItems: Bool = false) throws(PlanError)
        -> [Located<String>]
    {
        if node.scalar != nil && tagName(node) != .null && key == "depends_on" {
            return [Located(try nonEmptyText(node, key: key), at: location(node))]
        }
        return try list(node, key: key).map { item throws(PlanError) in
            Located(
                allowEmptyItems
                    ? try text(item, key: "\(key) item", allowEmpty: true) : try nonEmptyText(item, key: "\(key) item"),
                at: location(item))
        }
    }

    private func nonEmptyText(_ node: Node, key: String) throws(PlanError) -> String {
        let value = try text(node, key: key, allowEmpty: true)
        guard !value.isEmpty else { throw PlanError(location(node), "\(key) is empty; give it a value") }
        return value
    }

    /// A scalar's text; numbers and booleans are taken as written (`base: 2024` is a branch name).
    private func text(_ node: Node, key: String, allowEmpty: Bool = false, expecting: String = "a string")
        throws(PlanError) -> String
    {
        guard let scalar = node.scalar else {
            throw PlanError(
                location(node), "\(key) must be \(expecting), not \(kind(node)); write it like `\(Self.example(key))`")
        }
        if tagName(node) == .null && !allowEmpty {
            throw PlanError(location(node), "\(key) has no value; give it one")
        }
        if tagName(node) == .null { return "" }
        return scalar.string
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch tagName(node) {
            case .null: return "empty"
            case .int, .float: return "a number (\(PlanError.excerpt(node.scalar?.string ?? "")))"
            case .bool: return "a boolean (\(PlanError.excerpt(node.scalar?.string ?? "")))"
            default: return "the text \"\(PlanError.excerpt(node.scalar?.string ?? ""))\""
            }
        }
    }

    private func location(_ node: Node) -> PlanLocation {
        .file(path: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    private func unknownKey(_ key: String, _ node: Node, known: [String], other: [String], place: String) -> PlanError {
        let hint = Suggestion.hint(for: key, in: known)
        if hint.isEmpty && other.contains(key) {
            let fix =
                place == "at the top level"
                ? "it belongs to a task; move it under an entry of `tasks:`"
                : "it is only allowed at the top level; move it there"
            return PlanError(location(node), "key \"\(PlanError.excerpt(key))\" is not allowed \(place); \(fix)")
        }
        let fix = hint.isEmpty ? "; known keys: \(known.joined(separator: ", "))" : hint
        return PlanError(location(node), "unknown key \"\(PlanError.excerpt(key))\" \(place)\(fix)")
    }

    private func syntaxError(_ error: Error) -> PlanError {
        let language = format == .json ? "JSON" : "YAML"
        let fix = "fix the \(language) syntax there (check indentation, quotes, brackets and commas)"
        guard let yaml = error as? YamlError else {
            return PlanError(.path(path), "cannot parse the task file as \(language): \(error); \(fix)")
        }
        switch yaml {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return PlanError(
                .file(path: path, line: mark.line, column: mark.column), "invalid \(language): \(detail); \(fix)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().prefix(3).map { "\"\(PlanError.excerpt($0))\"" }.joined(separator: ", ")
            return PlanError(
                .file(path: path, line: context.mark.line, column: context.mark.column),
                "key \(keys) appears twice in the same mapping; keep one")
        case .reader(let problem, let offset, let value, let text):
            let character = value >= 0 ? String(format: " U+%04X", Int(value)) : ""
            return PlanError(
                readerLocation(offset: offset, in: text),
                "cannot read the task file: \(problem)\(character); remove that character or save the file as"
                    + " UTF-8 text")
        default:
            return PlanError(.path(path), "cannot parse the task file as \(language): \(yaml); \(fix)")
        }
    }
}

extension TaskFileParser {
    /// Where a byte offset of libyaml's reader falls, as line and column (columns count characters).
    fileprivate func readerLocation(offset: Int?, in text: String) -> PlanLocation {
        guard let offset else { return .path(path) }
        let before = text.utf8.prefix(max(0, offset))
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { before.index(after: $0) } ?? before.startIndex
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column = (String(before[lineStart...]) ?? "").count + 1
        return .file(path: path, line: line, column: column)
    }
}

/// The resolved YAML type of a node (`Tag.name` is not public in Yams).
private func tagName(_ node: Node) -> Tag.Name {
    Tag.Name(rawValue: node.tag.rawValue)
}
