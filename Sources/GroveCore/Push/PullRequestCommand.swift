import Foundation
import GroveBasics

/// `grove push --pr-command CMD`: the user's command, run once per pushed task under
/// `/bin/sh -c`, with `{branch}`, `{base}`, `{title}`, `{body}`, `{repo}` and `{task}` filled in.
///
/// Task data never reaches the shell's parser. Each placeholder becomes a *reference* to an
/// environment variable (`GROVE_PR_TITLE`…) quoted for where it stands in CMD, and the values
/// travel in the environment; the shell expands a quoted variable to one word without parsing
/// it, so a title like `"; rm -rf ~ #` stays text. Only the user's own CMD is parsed.
public struct PullRequestCommand: Sendable, Equatable {
    /// The command as the user gave it.
    public let template: String

    public init(_ template: String) {
        self.template = template
    }

    /// The placeholders and the environment variables that carry their values.
    public static let variables: [String: String] = [
        "branch": "GROVE_PR_BRANCH", "base": "GROVE_PR_BASE", "title": "GROVE_PR_TITLE", "body": "GROVE_PR_BODY",
        "repo": "GROVE_PR_REPO", "task": "GROVE_PR_TASK",
    ]

    /// The values of one task's placeholders.
    public struct Values: Sendable, Equatable {
        public var branch: String
        public var base: String
        public var title: String
        /// The path of the task's `.pr.md`.
        public var body: String
        /// The task's source URL when it has one, else its repository's path.
        public var repo: String
        public var task: String

        public init(branch: String, base: String, title: String, body: String, repo: String, task: String) {
            self.branch = branch
            self.base = base
            self.title = title
            self.body = body
            self.repo = repo
            self.task = task
        }

        /// The `GROVE_PR_*` variables. An environment value cannot hold a NUL byte: it is dropped.
        public var environment: [String: String] {
            let values = [
                "branch": branch, "base": base, "title": title, "body": body, "repo": repo, "task": task,
            ]
            var environment: [String: String] = [:]
            for (placeholder, name) in PullRequestCommand.variables {
                environment[name] = (values[placeholder] ?? "").replacingOccurrences(of: "\0", with: "")
            }
            return environment
        }
    }

    /// Where the shell's lexer stands at a point of CMD.
    enum Quoting {
        case none
        case single
        case double
    }

    /// CMD with each known `{placeholder}` replaced by its variable, quoted for its context:
    /// outside quotes `"${GROVE_PR_TITLE}"`, inside double quotes `${GROVE_PR_TITLE}`, inside
    /// single quotes `'"${GROVE_PR_TITLE}"'` (close the quote, insert, reopen). A backslash-escaped
    /// `\{`, the shell's own `${name}`, and any unknown `{word}` are left as written.
    ///
    /// The result holds only CMD's own text and `${GROVE_PR_*}` references, whatever the values:
    /// that is the safety. Quoting decides only whether a value stays one word. Known limits (the
    /// value then may be split into words, never run): a placeholder inside `$(…)` that is itself
    /// inside double quotes, or in a here-document, where the inserted quotes are literal text.
    public var shellCommand: String {
        var result = ""
        var quoting = Quoting.none
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            if quoting != .single && character == "\\" {
                // A backslash keeps the next character as it is (outside single quotes).
                result.append(character)
                index = template.index(after: index)
                if index < template.endIndex {
                    result.append(template[index])
                    index = template.index(after: index)
                }
                continue
            }
            switch quoting {
            case .single:
                if character == "'" { quoting = .none }
            case .double:
                if character == "\"" { quoting = .none }
            case .none:
                if character == "'" {
                    quoting = .single
                } else if character == "\"" {
                    quoting = .double
                }
            }
            // `${title}` is the shell's own syntax (a variable named title): left alone.
            if character == "{", result.last != "$", let (variable, end) = placeholder(at: index) {
                switch quoting {
                case .none: result += "\"${\(variable)}\""
                case .double: result += "${\(variable)}"
                case .single: result += "'\"${\(variable)}\"'"
                }
                index = end
                continue
            }
            result.append(character)
            index = template.index(after: index)
        }
        return result
    }

    /// The variable of a known placeholder starting at `start` (a `{`) and the index after its `}`.
    private func placeholder(at start: String.Index) -> (String, String.Index)? {
        let nameStart = template.index(after: start)
        guard let close = template[nameStart...].firstIndex(of: "}") else { return nil }
        let name = String(template[nameStart..<close])
        guard let variable = Self.variables[name] else { return nil }
        return (variable, template.index(after: close))
    }

    /// How one run of the command ended.
    public struct Outcome: Sendable, Equatable {
        /// Nil when a signal ended it, or when it could not start (`problem` says why).
        public var exitCode: Int32?
        public var signal: Int32?
        /// Why it could not be started.
        public var problem: String?
        /// The last `http(s)://` URL in its output.
        public var url: String?
        public var log: String

        public var succeeded: Bool { exitCode == 0 }
    }

    /// Runs the command for one task of `run` in `directory` (stdin from /dev/null, stdout and
    /// stderr written to `log`, replaced), through the launcher like a task's command, and finds
    /// the PR URL in what it printed. Cancelling the calling task ends it.
    public func run(
        values: Values, run: Int, in directory: String, log: String,
        launcher: any TaskLauncher = LocalGroupLauncher()
    ) async -> Outcome {
        var outcome = Outcome(log: log)
        // A fresh log per attempt: the URL is read from this attempt's output only.
        guard GroveHome.createPrivateFile(atPath: log, truncating: true) else {
            outcome.problem = "cannot write \(log)"
            return outcome
        }
        let spec = ProcessSpec(
            command: .shell(shellCommand), workingDirectory: directory, environment: values.environment,
            unsetEnvironment: TaskEnvironment.removed, logFile: log)
        do {
            let request = LaunchRequest(spec, purpose: .pullRequest, run: run, task: values.task)
            let ended = try await launcher.run(request, control: nil, as: values.task)
            switch ended.termination {
            case .exited(let code): outcome.exitCode = code
            case .signaled(let signal): outcome.signal = signal
            }
        } catch {
            outcome.problem = describe(error)
            return outcome
        }
        outcome.url = Self.lastURL(in: LogTail.lines(ofFileAt: log, count: 200, maxBytes: 256 * 1024))
        return outcome
    }

    /// The last `http://` or `https://` token in `lines` (escape sequences removed, trailing
    /// punctuation such as `.` or `)` dropped, credentials hidden); nil when there is none.
    public static func lastURL(in lines: [String]) -> String? {
        for line in lines.reversed() {
            for word in LogTail.clean(line).split(whereSeparator: \.isWhitespace).reversed() {
                let word = String(word)
                guard let start = word.range(of: "https://") ?? word.range(of: "http://") else { continue }
                var url = String(word[start.lowerBound...])
                while let last = url.last, ".,;:!?)]}>\"'`".contains(last) { url.removeLast() }
                guard url.count > (url.hasPrefix("https") ? 8 : 7) else { continue }
                return RepositoryReference.redacted(url)
            }
        }
        return nil
    }
}
