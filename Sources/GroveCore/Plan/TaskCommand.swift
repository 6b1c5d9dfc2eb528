/// A task's command: a string runs under `/bin/sh -c` and reads task data from the `GROVE_*`
/// environment; a list runs as argv with placeholders filled inside each item, so task data never
/// meets a shell.
public enum TaskCommand: Sendable, Equatable, Codable {
    case shell(String)
    case arguments([String])

    /// The argv to execute, with `{task}`, `{instructions}`, `{repo}`, `{branch}`, `{base}` and
    /// `{worktree}` replaced in list items (a shell string is passed through untouched).
    public func argv(_ values: CommandValues) -> [String] {
        switch self {
        case .shell(let script): return ["/bin/sh", "-c", script]
        case .arguments(let items): return items.map { values.substitute(in: $0) }
        }
    }
}

/// The values placeholders in an argv command stand for.
public struct CommandValues: Sendable, Equatable {
    public var task: String
    public var instructions: String
    public var repo: String
    public var branch: String
    public var base: String
    public var worktree: String

    public init(task: String, instructions: String, repo: String, branch: String, base: String, worktree: String) {
        self.task = task
        self.instructions = instructions
        self.repo = repo
        self.branch = branch
        self.base = base
        self.worktree = worktree
    }

    /// The placeholder names argv commands may use.
    public static let placeholders = ["task", "instructions", "repo", "branch", "base", "worktree"]

    /// `text` with each known `{name}` replaced, in one pass: a value that itself contains
    /// `{task}` is not expanded again, and unknown braces (`jq '{a: .b}'`) are left alone.
    public func substitute(in text: String) -> String {
        Placeholders.fill(text) { name in
            switch name {
            case "task": return task
            case "instructions": return instructions
            case "repo": return repo
            case "branch": return branch
            case "base": return base
            case "worktree": return worktree
            default: return nil
            }
        }
    }
}

/// Single-pass `{name}` replacement shared by commands and branch templates.
enum Placeholders {
    /// Replaces each `{name}` for which `value` returns text; everything else is copied as is.
    static func fill(_ text: String, _ value: (String) -> String?) -> String {
        var result = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"),
                let replacement = value(String(rest[afterOpen..<close]))
            {
                result += replacement
                rest = rest[rest.index(after: close)...]
            } else {
                result.append("{")
                rest = rest[afterOpen...]
            }
        }
        return result + rest
    }

    /// The `{name}` words in `text` (letters and underscores only).
    static func names(in text: String) -> [String] {
        var names: [String] = []
        _ = fill(text) { name in
            if !name.isEmpty && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") }) { names.append(name) }
            return nil
        }
        return names
    }
}
