import Foundation
import Synchronization
import TestSupport
import Testing

@testable import GroveCore

/// Task files made from the grammar (every key, values of every type, YAML's odd corners)
/// and mutations of them (bytes flipped, cut, spliced, lines doubled).
struct TaskFileGenerator {
    var random: SeededRandom
    /// Earlier inputs, for splicing.
    var corpus: [String] = []
    /// This file keeps to known keys and well-typed values (so that some files are accepted and
    /// their mutations land near the valid ones); otherwise anything goes.
    var sane = false

    static let keys = TaskFileParser.topLevelKeys + ["comand", "name", "instrucions", "Tasks", "", "jobs "]
    static let taskKeys = TaskFileParser.taskKeys + ["jobs", "repos", "nmae", "depends-on"]

    static let words = [
        "main", "fix-auth", "make fix", "20m", "90s", "1h30m", "0", "-5m", "10x", "../svc-a", ".env", "/etc/passwd",
        "../../x", "a/b", "..", "-rf", "café", "fix-\u{430}uth", "日本", "🐛", "grove/{run}/{task}", "{runn}", "{task}",
        "$(touch canary)", "`id`", "; rm -rf /", "https://user:token@example.com/org/r.git", "git@h:o/r.git",
        "yes", "no", "null", "~", "0x1F", "1e9", ".inf", "\u{200B}", "a\u{0}b", "x.lock", "a..b", "HEAD", "@{-1}",
        "GROVE_TASK", "LOG_LEVEL", "1A", "*", "&", "!", "%", "|", ">", "#", "'", "\"", "\\", "\t", "{", "}", "[",
        "]", ",", ":", "? ", "- ",
    ]

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next() -> String {
        let text: String
        if corpus.isEmpty || random.chance(45) {
            sane = random.chance(50)
            text = random.chance(25) ? json() : yaml()
        } else {
            text = mutate(random.pick(corpus))
        }
        if random.chance(30) {
            if corpus.count < 200 { corpus.append(text) } else { corpus[random.below(corpus.count)] = text }
        }
        return text
    }

    // MARK: Scalars

    /// A well-typed value for `key`.
    mutating func saneWord(_ key: String) -> String {
        switch key {
        case "base": return random.pick(["main", "develop", "release/2.0"])
        case "command", "setup": return random.pick(["make fix", "npm ci", "echo {task}", "claude -p \"$GROVE_TASK\""])
        case "timeout": return random.pick(["90s", "20m", "1h30m", "2h", "14d"])
        case "branch": return random.pick(["grove/{run}/{task}", "t/{task}", "x-{run}-{task}"])
        case "retries": return "\(random.below(4))"
        case "jobs": return "\(random.below(8) + 1)"
        case "repo", "repos": return random.pick(["../svc-a", ".", "https://example.com/o/r.git", "../b"])
        case "copy": return random.pick([".env", "config/local.json"])
        case "instructions": return random.pick(["Fix the login timeout", "Répare ça — vite", "日本語で", "$(touch x)"])
        default: return "x"
        }
    }

    mutating func word() -> String {
        switch random.below(12) {
        case 0: return String(repeating: random.pick(["a", "é", "-", "ab"]), count: random.below(3) + 64)
        case 1: return String(repeating: "x", count: random.chance(2) ? 20_000 : random.pick([300, 1000]))
        case 2: return String((0..<random.below(8)).map { _ in Character(randomScalar()) })
        case 3: return "\(Int64(bitPattern: random.next()) >> random.below(64))"
        case 4: return "\(Double(random.below(10_000)) / 7)"
        default: return random.pick(Self.words)
        }
    }

    mutating func randomScalar() -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [
            0...0x7F, 0x80...0x7FF, 0x400...0x4FF, 0x2000...0x206F, 0xFE00...0xFFFF, 0x1F300...0x1F6FF,
        ]
        let range = random.pick(ranges)
        let value = range.lowerBound + UInt32(random.below(Int(range.upperBound - range.lowerBound) + 1))
        return Unicode.Scalar(value) ?? "?"
    }

    /// A YAML scalar: plain, single- or double-quoted (with escapes), or a block scalar.
    mutating func yamlScalar(_ text: String, indent: String) -> String {
        switch random.below(6) {
        case 0: return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        case 1:
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case _ where scalar.value < 0x20: escaped += String(format: "\\x%02X", scalar.value)
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            if !sane && random.chance(10) { escaped += random.pick(["\\0", "\\u200B", "\\t", "\\q", "\\x"]) }
            return "\"" + escaped + "\""
        case 2: return random.pick(["|", ">", "|-", ">+"]) + "\n" + indent + "  " + text
        default: return text
        }
    }

    // MARK: YAML from the grammar

    mutating func yaml() -> String {
        var lines: [String] = []
        if random.chance(5) { lines.append(random.pick(["%YAML 1.1", "%TAG ! tag:x,2024:", "---", "--- !!map"])) }
        if sane { lines.append("command: " + yamlScalar(saneWord("command"), indent: "")) }
        for key in chosenKeys(sane ? TaskFileParser.topLevelKeys : Self.keys) where !(sane && key == "command") {
            lines.append(yamlEntry(key, indent: ""))
        }
        if !sane && random.chance(3) { lines.append(random.pick(["---", "...", "--- x"])) }
        var text = lines.joined(separator: random.chance(10) ? "\r\n" : "\n")
        if random.chance(5) { text = "\u{FEFF}" + text }
        if sane { return text }
        if random.chance(3) {
            text.insert("\u{0}", at: text.index(text.startIndex, offsetBy: random.below(text.count)))
        }
        if random.chance(5) { text = text.replacingOccurrences(of: "  ", with: "\t") }
        return text
    }

    mutating func chosenKeys(_ keys: [String]) -> [String] {
        var chosen = keys.filter { _ in random.chance(35) }
        if (sane || random.chance(80)) && keys.contains("tasks") && !chosen.contains("tasks") { chosen.append("tasks") }
        if !sane && random.chance(10), let repeated = chosen.first { chosen.append(repeated) }
        return chosen.shuffled(using: &random)
    }

    mutating func yamlEntry(_ key: String, indent: String) -> String {
        let anchor = random.chance(5) ? " &\(random.pick(["a", "b", "c"]))" : ""
        let head = indent + (random.chance(3) ? "? " + key + "\n" + indent + ":" : key + ":") + anchor
        if sane { return saneEntry(key, head: head, indent: indent) }
        if random.chance(6) { return head + " *" + random.pick(["a", "b", "c", "zz"]) }
        switch key {
        case "tasks":
            if random.chance(10) { return head + " " + yamlValue(depth: 1, indent: indent) }
            if random.chance(15) {
                return head + " [" + (0..<random.below(4)).map { _ in "{name: \(word())}" }.joined(separator: ", ")
                    + "]"
            }
            var lines = [head]
            for _ in 0..<random.below(6) {
                let keys = chosenKeys(Self.taskKeys).filter { $0 != "tasks" }
                var first = true
                for taskKey in (random.chance(85) ? ["name"] : []) + keys where !(taskKey == "name" && !first) {
                    let entry = yamlEntry(taskKey, indent: indent + "    ")
                    lines.append(first ? indent + "  - " + String(entry.dropFirst(indent.count + 4)) : entry)
                    first = false
                }
                if first { lines.append(indent + "  - " + word()) }
            }
            return lines.joined(separator: "\n")
        case "env":
            if random.chance(20) { return head + " " + yamlValue(depth: 1, indent: indent) }
            let pairs = (0..<random.below(4)).map { _ in
                "\(random.pick(["LOG_LEVEL", "GROVE_X", "1A", "A B", "_ok", word()])): \(yamlScalar(word(), indent: indent))"
            }
            return head + " {" + pairs.joined(separator: ", ") + "}"
        case "repos", "copy", "depends_on":
            if random.chance(20) { return head + " " + yamlValue(depth: 1, indent: indent) }
            return head + " [" + (0..<random.below(5)).map { _ in word() }.joined(separator: ", ") + "]"
        case "command", "setup":
            if random.chance(40) {
                return head + " ["
                    + (0..<random.below(4)).map { _ in yamlScalar(word(), indent: indent) }
                    .joined(separator: ", ") + "]"
            }
            return head + " " + yamlScalar(word(), indent: indent)
        default:
            if random.chance(20) { return head + " " + yamlValue(depth: 1, indent: indent) }
            return head + " " + yamlScalar(word(), indent: indent)
        }
    }

    /// A well-typed entry: known keys only, valid names (unique), values from `saneWord`.
    mutating func saneEntry(_ key: String, head: String, indent: String) -> String {
        switch key {
        case "tasks":
            var lines = [head]
            let stem = random.pick(["t", "fix-", "Task.", "a_"])
            for number in 0..<(random.below(5) + 1) {
                lines.append(indent + "  - name: " + stem + "\(number)")
                for taskKey in chosenKeys(TaskFileParser.taskKeys)
                where !["name", "tasks", "depends_on"].contains(taskKey) {
                    lines.append(saneEntry(taskKey, head: indent + "    " + taskKey + ":", indent: indent + "    "))
                }
                if number > 0 && random.chance(20) { lines.append(indent + "    depends_on: [\(stem)0]") }
            }
            return lines.joined(separator: "\n")
        case "env": return head + " {LOG_LEVEL: debug, N: \(random.below(9)), EMPTY: }"
        case "repos", "copy":
            return head + " [" + (0..<(random.below(3) + 1)).map { _ in saneWord(key) }.joined(separator: ", ") + "]"
        case "command",
            "setup" where random.chance(40):
            return head + " [" + saneWord(key).split(separator: " ").joined(separator: ", ") + "]"
        default: return head + " " + yamlScalar(saneWord(key), indent: indent)
        }
    }

    /// Any value: a scalar, a flow list or mapping, nested.
    mutating func yamlValue(depth: Int, indent: String) -> String {
        if depth > 4 || random.chance(50) { return yamlScalar(word(), indent: indent) }
        let items = (0..<random.below(4)).map { _ in yamlValue(depth: depth + 1, indent: indent) }
        if random.chance(50) { return "[" + items.joined(separator: ", ") + "]" }
        return "{" + items.map { "\(word()): \($0)" }.joined(separator: ", ") + "}"
    }

    // MARK: JSON from the grammar

    mutating func json() -> String {
        var members: [String] = []
        for key in chosenKeys(sane ? TaskFileParser.topLevelKeys : Self.keys) {
            let value: String
            switch key {
            case _ where sane:
                value =
                    key == "tasks"
                    ? "[" + (0..<(random.below(4) + 1)).map { "{\"name\": \"j\($0)\"}" }.joined(separator: ", ") + "]"
                    : key == "env"
                        ? "{\"A\": \"b\"}"
                        : ["repos", "copy"].contains(key) ? "[\(jsonString(saneWord(key)))]" : jsonString(saneWord(key))
            case "tasks":
                let tasks = (0..<random.below(5)).map { _ in
                    let keys = (random.chance(85) ? ["name"] : []) + chosenKeys(Self.taskKeys).filter { $0 != "tasks" }
                    return "{"
                        + keys.map { "\(jsonString($0)): \(jsonValue(for: $0, depth: 1))" }.joined(separator: ", ")
                        + "}"
                }
                value = "[" + tasks.joined(separator: ",\n  ") + (random.chance(5) ? "," : "") + "]"
            default: value = jsonValue(for: key, depth: 0)
            }
            members.append("\(jsonString(key)): \(value)")
        }
        if sane && !members.contains(where: { $0.hasPrefix("\"command\"") }) { members.append("\"command\": \"make\"") }
        return "{\n  " + members.joined(separator: !sane && random.chance(5) ? "\n  " : ",\n  ") + "\n}"
    }

    mutating func jsonValue(for key: String, depth: Int) -> String {
        if depth > 4 { return jsonString(word()) }
        switch random.below(10) {
        case 0: return random.pick(["true", "false", "null", "0", "-3", "2.5", "1e400", "4"])
        case 1:
            return "["
                + (0..<random.below(4)).map { _ in jsonValue(for: key, depth: depth + 1) }.joined(separator: ", ") + "]"
        case 2:
            return "{"
                + (0..<random.below(3)).map { _ in "\(jsonString(word())): \(jsonValue(for: key, depth: depth + 1))" }
                .joined(separator: ", ") + "}"
        default:
            if ["repos", "copy", "depends_on", "command", "setup"].contains(key) && random.chance(60) {
                return "[" + (0..<random.below(4)).map { _ in jsonString(word()) }.joined(separator: ", ") + "]"
            }
            return jsonString(word())
        }
    }

    mutating func jsonString(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20: escaped += String(format: "\\u%04x", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        if !sane && random.chance(3) { escaped += random.pick(["\\ud800", "\\u00", "\\/", "\\a"]) }
        return "\"" + escaped + "\""
    }

    // MARK: Mutations

    static let tokens = [
        "*a", "&a ", ": ", "- ", "[", "]", "{", "}", "\"", "'", "\t", "\u{0}", "\u{FEFF}", "\r\n", "\r", "? ",
        "!!binary ", "!!int ", "%YAML 1.2\n", "---\n", "#", "|\n", ">-\n", "\u{85}", "\u{2028}", "<<: *a\n", ",",
        "\\", "\u{1F41B}", "\u{430}",
    ]

    mutating func mutate(_ input: String) -> String {
        var bytes = Array(input.utf8)
        for _ in 0...random.below(4) {
            let position = random.below(bytes.count + 1)
            switch random.below(8) {
            case 0 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] ^= UInt8(1 << random.below(8))
            case 1: bytes = Array(bytes.prefix(position))
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, position + random.below(20) + 1)
                if position < end { bytes.removeSubrange(position..<end) }
            case 3: bytes.insert(contentsOf: Array(random.pick(Self.tokens).utf8), at: position)
            case 4:
                var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
                if !lines.isEmpty {
                    let line = random.below(lines.count)
                    lines.insert(lines[line], at: random.below(lines.count + 1))
                }
                bytes = Array(lines.joined(separator: "\n").utf8)
            case 5:
                let other = Array(random.pick(corpus).utf8)
                let cut = random.below(other.count + 1)
                bytes = Array(bytes.prefix(position)) + Array(other.suffix(from: cut))
            case 6: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            default:
                var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
                if !lines.isEmpty { lines.remove(at: random.below(lines.count)) }
                bytes = Array(lines.joined(separator: "\n").utf8)
            }
        }
        // The parser takes text: broken UTF-8 reads as replacement characters, as a decoder would.
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A watchdog for the no-hang property: when one input runs past `limit`, it prints the input's
/// seed and number and ends the process, so a hang is reported rather than waited out.
final class Watchdog: Sendable {
    private let current = Mutex<(index: Int, started: ContinuousClock.Instant)?>(nil)
    private let done = Atomic<Bool>(false)

    init(seed: UInt64, limit: Duration) {
        let thread = Thread { [self] in
            while !done.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 0.5)
                if let (index, started) = current.withLock({ $0 }), ContinuousClock.now - started > limit {
                    FileHandle.standardError.write(
                        Data("task file fuzz: input #\(index) ran past \(limit) (GROVE_FUZZ_SEED=\(seed))\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    func starting(_ index: Int) { current.withLock { $0 = (index, .now) } }
    func finish() { done.store(true, ordering: .relaxed) }
}

@Suite("task file parser fuzz")
struct TaskFileFuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let long = environment["GROVE_TEST_LONG"] == "1"
    /// 100,000 with GROVE_TEST_LONG=1, else 3,000 (a few seconds); GROVE_FUZZ_COUNT overrides.
    static let count = environment["GROVE_FUZZ_COUNT"].flatMap(Int.init) ?? (long ? 100_000 : 3_000)
    /// Fixed for the normal run (reproducible in CI); a fresh one for each long run.
    static let seed: UInt64 =
        environment["GROVE_FUZZ_SEED"].flatMap { UInt64($0) }
        ?? (long ? UInt64(Date().timeIntervalSince1970 * 1000) : 0x6772_6F76_65)

    /// What a task file error must look like: located at a line and column inside the input (or,
    /// for a file with no document at all, the file itself), one line, what is wrong and then the fix.
    static func problems(with error: PlanError, for text: String, path: String) -> [String] {
        var problems: [String] = []
        switch error.location {
        case .file(let file, let line, let column):
            // libyaml breaks lines at \n, \r, NEL and the Unicode separators; a bound, not an exact count.
            let breaks = text.unicodeScalars.count { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }
            if file != path { problems.append("names \(file), not \(path)") }
            if !(1...(breaks + 2)).contains(line) { problems.append("line \(line) is outside 1...\(breaks + 2)") }
            if !(1...(text.unicodeScalars.count + 2)).contains(column) {
                problems.append("column \(column) is outside")
            }
        case .path(let file):
            if file != path { problems.append("names \(file), not \(path)") }
            if !error.message.hasPrefix("the task file is empty") {
                problems.append("has no line and column but is not about an empty file")
            }
        case .flag(let flag): problems.append("names the flag \(flag) for a file's content")
        }
        if !error.description.hasPrefix(error.location.description + ": ") { problems.append("location not first") }
        if error.description.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            problems.append("is not one line (a control character)")
        }
        if !error.message.contains("; ") { problems.append("offers no fix after \"; \"") }
        if error.description.count > 600 { problems.append("is \(error.description.count) characters long") }
        return problems
    }

    /// What an accepted file promises the planner.
    static func problems(with file: TaskFile) -> [String] {
        var problems: [String] = []
        if file.tasks.isEmpty { problems.append("accepted with no tasks") }
        let names = file.tasks.map(\.name.value)
        if let bad = names.first(where: { !TaskName.isValid($0) }) { problems.append("accepted task name \"\(bad)\"") }
        if Set(names.map { $0.lowercased() }).count != names.count { problems.append("accepted duplicate names") }
        let settings = [file.defaults] + file.tasks.map(\.settings)
        for setting in settings {
            for item in setting.copy ?? [] where TaskFileParser.copyProblem(item.value) != nil {
                problems.append("accepted copy entry \"\(item.value)\"")
            }
            if let timeout = setting.timeout?.value, timeout <= .zero { problems.append("accepted timeout \(timeout)") }
            if case .arguments(let argv)? = setting.command?.value, argv.first?.isEmpty ?? true {
                problems.append("accepted an empty program")
            }
            for name in (setting.env ?? [:]).keys where name.hasPrefix("GROVE_") || name.isEmpty {
                problems.append("accepted env \(name)")
            }
        }
        if let jobs = file.jobs?.value, jobs < 1 { problems.append("accepted jobs \(jobs)") }
        return problems
    }

    /// Escaped and cut, for a failure message.
    static func shown(_ text: String) -> String {
        let escaped = PlanError.oneLine(text)
        return escaped.count > 400 ? String(escaped.prefix(400)) + "… (\(text.utf8.count) bytes)" : escaped
    }

    @Test func generatedAndMutatedTaskFilesNeverCrashHangOrFailUnlocated() throws {
        var generator = TaskFileGenerator(seed: Self.seed)
        let watchdog = Watchdog(seed: Self.seed, limit: .seconds(20))
        defer { watchdog.finish() }
        let clock = ContinuousClock()
        let start = clock.now
        var slowest: (duration: Duration, index: Int, bytes: Int) = (.zero, 0, 0)
        var accepted = 0
        var failures = 0
        for index in 0..<Self.count {
            let text = generator.next()
            let path = generator.random.chance(30) ? "grove.json" : "grove.yaml"
            watchdog.starting(index)
            let began = clock.now
            let problems: [String]
            do {
                let file = try TaskFile.parse(text, path: path)
                accepted += 1
                problems = Self.problems(with: file)
            } catch {
                problems = Self.problems(with: error, for: text, path: path).map { "\($0): \(error.description)" }
            }
            let took = clock.now - began
            if took > slowest.duration { slowest = (took, index, text.utf8.count) }
            if !problems.isEmpty {
                failures += 1
                let report = "input #\(index) (GROVE_FUZZ_SEED=\(Self.seed)): \(problems.joined(separator: "; "))"
                Issue.record(Comment(rawValue: report + "\ninput: " + Self.shown(text)))
                if failures >= 20 { break }
            }
            // No hang: a task file is parsed in milliseconds; ten seconds is a blow-up, not noise.
            #expect(
                took < .seconds(10),
                "input #\(index) (GROVE_FUZZ_SEED=\(Self.seed)) took \(took): \(Self.shown(text))")
        }
        let total = clock.now - start
        print(
            "task file fuzz: \(Self.count) inputs (seed \(Self.seed)) in \(total), \(accepted) accepted;"
                + " slowest #\(slowest.index) (\(slowest.bytes) bytes) took \(slowest.duration)")
        // The generator must reach both sides of the parser, or the properties say little.
        #expect(accepted > Self.count / 50, "only \(accepted) of \(Self.count) inputs were accepted")
        #expect(accepted < Self.count * 9 / 10, "\(accepted) of \(Self.count) inputs were accepted")
    }

    /// An input that once was or could be pathological; named so that a test report shows the
    /// name, not megabytes of input.
    struct Pathological: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        var testDescription: String { "\(name) (\(text.utf8.count) bytes)" }
    }

    /// Inputs that once were or could be pathological, each bounded.
    static let pathological: [Pathological] = {
        // Ten nested aliases of ten: 10^10 nodes if expanded, as a mapping key.
        var bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let items = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            bomb += "l\(level): &l\(level) [\(items)]\n"
        }
        bomb += "? *l9\n: 1\n"
        let tasks = Array(repeating: "{name: a}", count: 10).joined(separator: ", ")
        return [
            Pathological(name: "an alias bomb as a mapping key", text: bomb),
            Pathological(name: "a task list aliased as repos", text: "command: x\ntasks: &t [\(tasks)]\nrepos: *t\n"),
            Pathological(name: "100,000 open brackets", text: String(repeating: "[", count: 100_000)),
            Pathological(name: "50,000 nested sequences", text: String(repeating: "- ", count: 50_000) + "x"),
            Pathological(
                name: "a 200,000-character key",
                text: "command: x\ntasks:\n  - name: a\n    " + String(repeating: "k", count: 200_000) + ": 1\n"),
            Pathological(
                name: "a 2 MB command",
                text: "command: " + String(repeating: "x", count: 2_000_000) + "\ntasks: [{name: a}]\nzz: 1\n"),
            Pathological(name: "one alias as two keys", text: "a: &a b\n? *a\n: 1\n? *a\n: 1\n"),
        ]
    }()

    @Test(arguments: pathological)
    func pathologicalInputsAreBounded(_ input: Pathological) throws {
        let text = input.text
        let clock = ContinuousClock()
        let began = clock.now
        let error = #expect(throws: PlanError.self) { try TaskFile.parse(text, path: "grove.yaml") }
        #expect(clock.now - began < .seconds(10), "took \(clock.now - began): a blow-up, not noise")
        if let error {
            let problems = Self.problems(with: error, for: text, path: "grove.yaml")
            #expect(problems.isEmpty, "\(problems): \(error.description)")
        }
    }
}
