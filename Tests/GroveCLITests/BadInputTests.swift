import Foundation
import GroveCore
import TestSupport
import Testing

/// One bad input to `grove run`: a task file (bytes, so NULs, BOMs and broken UTF-8 fit) and/or
/// arguments, where the error must point, and what it must say (the last fragment is the fix).
struct BadInput: Sendable, CustomTestStringConvertible {
    var label: String
    var arguments: [String]
    var file: [UInt8]?
    var fileName: String
    /// The location the line starts with: `grove.yaml:3:11`, `--timeout`, a file name.
    var at: String
    var says: [String]
    var testDescription: String { label }

    /// A task file, run as `grove run <fileName>`.
    static func file(
        _ label: String, _ text: String, name: String = "grove.yaml", at: String, _ says: String...
    ) -> BadInput {
        BadInput(label: label, arguments: [name], file: Array(text.utf8), fileName: name, at: at, says: says)
    }

    /// Raw task file bytes.
    static func bytes(_ label: String, _ bytes: [UInt8], at: String, _ says: String...) -> BadInput {
        BadInput(label: label, arguments: ["grove.yaml"], file: bytes, fileName: "grove.yaml", at: at, says: says)
    }

    /// Flags only (no task file).
    static func flags(_ label: String, _ arguments: [String], at: String, _ says: String...) -> BadInput {
        BadInput(label: label, arguments: arguments, file: nil, fileName: "", at: at, says: says)
    }
}

/// Every bad input to `grove run`, through the built binary: exit 2, nothing on stdout, exactly
/// one line on stderr that says where (file:line:column, the flag, or the file) and how to fix
/// it, and nothing changed on disk — refs, worktrees, every file under the sandbox, and no
/// `$GROVE_HOME` (or, with an existing home, not one byte or mtime of it).
@Suite("bad input to grove run: one line, exit 2, nothing changed")
struct BadInputTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    /// A repository with commits, and beside it: a file, a plain directory, a bare repository
    /// and a repository without commits, and one with a detached HEAD.
    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n", "config/app.json": "{}\n"])
        home = sandbox.child("home")
        try "not a repository\n".write(toFile: sandbox.child("notes.txt"), atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: sandbox.child("plain"), withIntermediateDirectories: true)
        try Shell.run(["git", "init", "-q", "--bare", sandbox.child("bare.git")])
        let empty = try sandbox.repository("empty", files: [:])
        let detached = try sandbox.repository("detached")
        try detached.git("checkout", "-q", "--detach")
        _ = empty
    }

    /// `grove run` with `arguments`.
    func groveRun(_ arguments: [String]) throws -> ProcessResult {
        try grove(["run"] + arguments)
    }

    /// refs and worktrees of the main repository as git reports them, and every file under the
    /// sandbox (the other repositories' `.git` folders included) and the home.
    func snapshot() throws -> DiskSnapshot {
        try DiskSnapshot(repositories: [repo.path], directories: [sandbox.path, home])
    }

    // MARK: The inputs

    static let longName = String(repeating: "a", count: 1000)

    /// Task files: syntax, types, keys, names, paths, repositories, durations, numbers, commands.
    static let fileInputs: [BadInput] = [
        // Syntax, located by line and column.
        .file(
            "YAML: an unclosed flow list", "command: [a, b\ntasks: []\n", at: "grove.yaml:2:6", "invalid YAML",
            "fix the YAML syntax"),
        .file(
            "YAML: a tab for indentation", "command: x\ntasks:\n  - name: a\n\tbase: main\n", at: "grove.yaml:4:1",
            "invalid YAML", "fix the YAML syntax"),
        .file(
            "YAML: an unclosed quote", "command: \"make fix\ntasks:\n  - name: a\n", at: "grove.yaml:4:1",
            "invalid YAML", "fix the YAML syntax"),
        .file(
            "YAML: a value where a mapping goes on", "command: x\ntasks:\n  - name: a\n  repo: .\n",
            at: "grove.yaml:4:3", "invalid YAML", "fix the YAML syntax"),
        .file(
            "YAML: an undefined alias", "command: *cmd\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "undefined alias", "fix the YAML syntax"),
        .file(
            "YAML: two documents", "command: x\ntasks: [{name: a}]\n---\ncommand: y\n", at: "grove.yaml:3:1",
            "another document", "fix the YAML syntax"),
        .file(
            "YAML: a duplicated key", "command: x\ncommand: y\ntasks:\n  - name: a\n", at: "grove.yaml:1:1",
            "appears twice", "keep one"),
        .file(
            "YAML: an alias bomb",
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                + "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                + "? *f\n: 1\n",
            at: "grove.yaml:5:36", "alias *d expands", "use fewer nested aliases"),
        .file(
            "JSON: a missing comma", "{\"command\": \"x\"\n \"tasks\": []}", name: "grove.json", at: "grove.json:2:2",
            "invalid JSON", "fix the JSON syntax"),
        .file(
            "JSON: an unclosed brace", "{\"command\": \"x\", \"tasks\": [{\"name\": \"a\"}]", name: "grove.json",
            at: "grove.json:2:1", "invalid JSON", "fix the JSON syntax"),
        .file(
            "JSON: an unknown key", "{\"command\": \"x\", \"tasks\": [{\"name\": \"a\", \"comand\": 1}]}",
            name: "grove.json", at: "grove.json:1:42", "unknown key \"comand\"", "did you mean \"command\"?"),
        .file(
            "JSON: tasks as an object", "{\"command\": \"x\", \"tasks\": {\"name\": \"a\"}}", name: "grove.json",
            at: "grove.json:1:27", "tasks must be a list, not a mapping"),
        // Wrong types.
        .file(
            "type: jobs is text", "jobs: many\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:7",
            "jobs must be a whole number", "write it like `jobs: 4`"),
        .file(
            "type: jobs is a fraction", "jobs: 2.5\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:7",
            "jobs must be a whole number", "write it like `jobs: 4`"),
        .file(
            "type: tasks is text", "command: x\ntasks: a\n", at: "grove.yaml:2:8", "tasks must be a list",
            "not the text \"a\""),
        .file(
            "type: a task is text", "command: x\ntasks:\n  - a\n", at: "grove.yaml:3:5", "task 1 must be a mapping",
            "write it like `- name: fix-auth`"),
        .file(
            "type: env is a list", "command: x\nenv: [a]\ntasks:\n  - name: a\n", at: "grove.yaml:2:6",
            "env must be a mapping", "{ LOG_LEVEL: debug }"),
        .file(
            "type: command is a mapping", "command: {a: b}\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "command must be a string or a list of strings"),
        .file(
            "type: a command item is a list", "command: [make, [x]]\ntasks:\n  - name: a\n", at: "grove.yaml:1:17",
            "command item must be a string"),
        .file(
            "type: instructions is a list", "command: x\ntasks:\n  - name: a\n    instructions: [x]\n",
            at: "grove.yaml:4:19", "instructions must be a string"),
        .file(
            "type: retries is a boolean", "retries: yes\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "retries must be a whole number", "write it like `retries: 2`"),
        .file(
            "type: timeout is a list", "timeout: [1m]\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "timeout must be a string"),
        .file(
            "type: repos is text", "command: x\nrepos: ../a\n", at: "grove.yaml:2:8", "repos must be a list"),
        .file(
            "type: base is a list", "command: x\nbase: [main]\ntasks:\n  - name: a\n", at: "grove.yaml:2:7",
            "base must be a string"),
        .file(
            "type: the file is a list", "- command: x\n", at: "grove.yaml:1:1", "must be a mapping of keys"),
        .file(
            "type: a key is a list", "[command]: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:1",
            "a key must be a plain word", "write keys like `command:`"),
        // Unknown keys.
        .file(
            "key: a top-level typo", "comand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:1",
            "unknown key \"comand\" at the top level", "did you mean \"command\"?"),
        .file(
            "key: a task typo", "command: x\ntasks:\n  - name: a\n    instrucions: fix\n", at: "grove.yaml:4:5",
            "unknown key \"instrucions\" in task \"a\"", "did you mean \"instructions\"?"),
        .file(
            "key: depends-on spelled with a dash", "command: x\ntasks:\n  - name: a\n    depends-on: [b]\n",
            at: "grove.yaml:4:5", "unknown key \"depends-on\"", "did you mean \"depends_on\"?"),
        .file(
            "key: nothing like any key", "command: x\nzzzzzz: 1\ntasks:\n  - name: a\n", at: "grove.yaml:2:1",
            "unknown key \"zzzzzz\"", "known keys: base, jobs"),
        .file(
            "key: a task key at the top level", "command: x\nname: a\ntasks:\n  - name: a\n", at: "grove.yaml:2:1",
            "not allowed at the top level", "move it under an entry of `tasks:`"),
        .file(
            "key: a top-level key in a task", "command: x\ntasks:\n  - name: a\n    jobs: 2\n", at: "grove.yaml:4:5",
            "only allowed at the top level", "move it there"),
        // No tasks.
        .file("empty: an empty file", "", at: "grove.yaml", "the task file is empty", "add `command:` and `tasks:`"),
        .file(
            "empty: only comments", "# nothing yet\n", at: "grove.yaml", "the task file is empty",
            "add `command:` and `tasks:`"),
        .file(
            "empty: an empty task list", "command: x\ntasks: []\n", at: "grove.yaml:2:1", "no tasks",
            "add entries under `tasks:`"),
        .file("empty: no tasks key", "command: x\n", at: "grove.yaml:1:1", "no tasks", "add entries under `tasks:`"),
        .file("empty: an empty JSON object", "{}", name: "grove.json", at: "grove.json:1:1", "no tasks", "add entries"),
        // Names.
        .file(
            "name: duplicated", "command: x\ntasks:\n  - name: a\n  - name: b\n  - name: a\n", at: "grove.yaml:5:11",
            "duplicate task name \"a\" (first used at grove.yaml:3:11)", "give each task its own name"),
        .file(
            "name: differs only in case", "command: x\ntasks:\n  - name: fix-auth\n  - name: Fix-Auth\n",
            at: "grove.yaml:4:11", "only in case", "rename one"),
        .file(
            "name: a Cyrillic look-alike of another task's name",
            "command: x\ntasks:\n  - name: fix-auth\n  - name: fix-\u{430}uth\n", at: "grove.yaml:4:11",
            "U+0430 CYRILLIC SMALL LETTER A", "is not ASCII", "(e.g. \"fix-auth\")"),
        .file(
            "name: accented", "command: x\ntasks:\n  - name: café\n", at: "grove.yaml:3:11", "U+00E9",
            "(e.g. \"cafe\")"),
        .file(
            "name: CJK", "command: x\ntasks:\n  - name: 日本\n", at: "grove.yaml:3:11", "U+65E5", "is not ASCII"),
        .file(
            "name: an emoji", "command: x\ntasks:\n  - name: fix-🐛\n", at: "grove.yaml:3:11", "U+1F41B",
            "is not ASCII"),
        .file(
            "name: a zero-width space", "command: x\ntasks:\n  - name: \"fix\\u200Bauth\"\n", at: "grove.yaml:3:11",
            "U+200B ZERO WIDTH SPACE", "(e.g. \"fix-auth\")"),
        .file(
            "name: fullwidth letters", "command: x\ntasks:\n  - name: ｆｉｘ\n", at: "grove.yaml:3:11",
            "U+FF46 FULLWIDTH LATIN SMALL LETTER F", "(e.g. \"fix\")"),
        .file(
            "name: a slash", "command: x\ntasks:\n  - name: a/b\n", at: "grove.yaml:3:11", "invalid task name \"a/b\"",
            "(e.g. \"a-b\")"),
        .file(
            "name: dot-dot", "command: x\ntasks:\n  - name: '..'\n", at: "grove.yaml:3:11", "invalid task name \"..\"",
            "starting with a letter or digit"),
        .file(
            "name: climbing out", "command: x\ntasks:\n  - name: ../../etc\n", at: "grove.yaml:3:11",
            "invalid task name \"../../etc\"", "(e.g. \"etc\")"),
        .file(
            "name: a space", "command: x\ntasks:\n  - name: 'fix auth'\n", at: "grove.yaml:3:11",
            "invalid task name \"fix auth\"", "(e.g. \"fix-auth\")"),
        .file(
            "name: a leading dash", "command: x\ntasks:\n  - name: '-rf'\n", at: "grove.yaml:3:11",
            "invalid task name \"-rf\"", "(e.g. \"rf\")"),
        .file(
            "name: a leading dot", "command: x\ntasks:\n  - name: .hidden\n", at: "grove.yaml:3:11",
            "invalid task name \".hidden\"", "(e.g. \"hidden\")"),
        .file(
            "name: a line break", "command: x\ntasks:\n  - name: \"fix\\nauth\"\n", at: "grove.yaml:3:11",
            "invalid task name \"fix\\nauth\"", "(e.g. \"fix-auth\")"),
        .file(
            "name: a NUL", "command: x\ntasks:\n  - name: \"fix\\0auth\"\n", at: "grove.yaml:3:11",
            "invalid task name \"fix\\u{0}auth\"", "(e.g. \"fix-auth\")"),
        .file(
            "name: 1,000 characters", "command: x\ntasks:\n  - name: \(longName)\n", at: "grove.yaml:3:11",
            "is 1000 characters long, more than 64", "shorten it"),
        .file(
            "name: 65 characters", "command: x\ntasks:\n  - name: \(String(repeating: "b", count: 65))\n",
            at: "grove.yaml:3:11", "more than 64", "shorten it"),
        .file("name: empty", "command: x\ntasks:\n  - name: ''\n", at: "grove.yaml:3:11", "name is empty", "give it"),
        .file(
            "name: missing", "command: x\ntasks:\n  - repo: .\n", at: "grove.yaml:3:5", "task 1 has no name",
            "add `name: <name>`"),
        .file(
            "name: makes an invalid branch (.lock)", "command: x\ntasks:\n  - name: x.lock\n", at: "grove.yaml:3:11",
            "for task \"x.lock\" is not valid in git", "change the task name"),
        .file(
            "name: makes an invalid branch (..)", "command: x\ntasks:\n  - name: a..b\n", at: "grove.yaml:3:11",
            "is not valid in git", "change the task name"),
        // copy: must stay inside the checkout.
        .file(
            "copy: an absolute path", "command: x\ncopy: [/etc/passwd]\ntasks:\n  - name: a\n", at: "grove.yaml:2:8",
            "copy entry \"/etc/passwd\" is absolute", "give a path relative to the repository's checkout"),
        .file(
            "copy: a home path", "command: x\ncopy: ['~/.ssh/id_rsa']\ntasks:\n  - name: a\n", at: "grove.yaml:2:8",
            "is absolute", "give a path relative"),
        .file(
            "copy: climbing out", "command: x\ncopy: [../secret]\ntasks:\n  - name: a\n", at: "grove.yaml:2:8",
            "climbs out of the repository", "give a path inside it"),
        .file(
            "copy: climbing out through a folder", "command: x\ntasks:\n  - name: a\n    copy: [config/../../x]\n",
            at: "grove.yaml:4:12", "climbs out of the repository", "give a path inside it"),
        .file(
            "copy: the whole checkout", "command: x\ncopy: [.]\ntasks:\n  - name: a\n", at: "grove.yaml:2:8",
            "names the whole checkout", "name the files to copy"),
        .file(
            "copy: a file that is not there", "command: x\ncopy: [.env]\ntasks:\n  - name: a\n", at: "grove.yaml:2:8",
            "copy entry \".env\" does not exist", "create it or remove the entry"),
        // Repositories.
        .file(
            "repo: a file", "command: x\ntasks:\n  - name: a\n    repo: ../notes.txt\n", at: "grove.yaml:4:11",
            "is a file, not a repository"),
        .file(
            "repo: a directory that is not a repository", "command: x\ntasks:\n  - name: a\n    repo: ../plain\n",
            at: "grove.yaml:4:11", "is not inside a git repository"),
        .file(
            "repo: a bare repository with no commits", "command: x\ntasks:\n  - name: a\n    repo: ../bare.git\n",
            at: "grove.yaml:4:11", "has no commits yet", "commit --allow-empty"),
        .file(
            "repo: a repository with no commits", "command: x\ntasks:\n  - name: a\n    repo: ../empty\n",
            at: "grove.yaml:4:11", "has no commits yet", "commit --allow-empty"),
        .file(
            "repo: missing", "command: x\ntasks:\n  - name: a\n    repo: ../nowhere\n", at: "grove.yaml:4:11",
            "does not exist"),
        .file(
            "repo: a detached HEAD and no base", "command: x\ntasks:\n  - name: a\n    repo: ../detached\n",
            at: "grove.yaml:4:11", "is detached and task \"a\" names no base", "add `base: <branch>`"),
        .file(
            "base: does not exist", "command: x\nbase: mian\ntasks:\n  - name: a\n", at: "grove.yaml:2:7",
            "base branch \"mian\" does not exist", "did you mean \"main\"?"),
        .file(
            "base: nothing close", "command: x\nbase: release-2031\ntasks:\n  - name: a\n", at: "grove.yaml:2:7",
            "base branch \"release-2031\" does not exist", "set `base:` to one of:"),
        .file(
            "base: not a branch name", "command: x\nbase: \"ma\\nin\"\ntasks:\n  - name: a\n", at: "grove.yaml:2:7",
            "base \"ma\\nin\" is not a valid branch name", "give the name of a branch"),
        .file(
            "branch: an unknown placeholder", "command: x\nbranch: 'x/{runn}/{task}'\ntasks:\n  - name: a\n",
            at: "grove.yaml:2:9", "unknown placeholder {runn}", "did you mean {run}?"),
        .file(
            "branch: a template that makes no valid name",
            "command: x\nbranch: \"bad..name/{task}\"\ntasks:\n  - name: a\n", at: "grove.yaml:2:9",
            "branch name \"bad..name/a\" for task \"a\" is not valid in git", "change the task name or the branch"),
        .file(
            "branch: the same for two tasks", "command: x\nbranch: same\ntasks:\n  - name: a\n  - name: b\n",
            at: "grove.yaml:2:9", "would both use branch \"same\"", "put {task} in the branch template"),
        // Durations and numbers.
        .file(
            "timeout: 0", "timeout: 0\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10", "bad timeout \"0\"",
            "use a positive duration like 90s"),
        .file(
            "timeout: -5m", "timeout: -5m\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "bad timeout \"-5m\"", "use a positive duration"),
        .file(
            "timeout: 10x", "timeout: 10x\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "bad timeout \"10x\"", "use a positive duration"),
        .file(
            "timeout: no unit", "command: x\ntasks:\n  - name: a\n    timeout: 90\n", at: "grove.yaml:4:14",
            "bad timeout \"90\"", "like 90s, 20m, 2h or 1h30m"),
        .file(
            "timeout: words", "timeout: 5 minutes\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "bad timeout \"5 minutes\"", "use a positive duration"),
        .file(
            "jobs: 0", "jobs: 0\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:7", "jobs is 0",
            "give at least 1"),
        .file(
            "jobs: -3", "jobs: -3\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:7", "jobs is -3",
            "give at least 1"),
        .file(
            "retries: 101", "retries: 101\ncommand: x\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "retries is 101", "give 0 to 100"),
        // Commands, environment, dependencies.
        .file(
            "command: missing", "tasks:\n  - name: a\n", at: "grove.yaml:2:11", "task \"a\" has no command",
            "add `command:`"),
        .file(
            "command: blank", "command: '  '\ntasks:\n  - name: a\n", at: "grove.yaml:1:10", "command is empty",
            "give a command like"),
        .file(
            "command: an empty list", "command: []\ntasks:\n  - name: a\n", at: "grove.yaml:1:10",
            "command is an empty list", "give the program and its arguments"),
        .file(
            "command: an empty program", "command: ['', x]\ntasks:\n  - name: a\n", at: "grove.yaml:1:11",
            "starts with an empty program name", "name the program"),
        .file(
            "env: a bad variable name", "command: x\nenv: {1A: x}\ntasks:\n  - name: a\n", at: "grove.yaml:2:7",
            "invalid environment variable name \"1A\"", "use letters, digits and \"_\""),
        .file(
            "env: a GROVE_ variable", "command: x\nenv: {GROVE_TASK: x}\ntasks:\n  - name: a\n", at: "grove.yaml:2:7",
            "GROVE_TASK is set by grove", "use a name without the GROVE_ prefix"),
        .file(
            "depends_on: an unknown task", "command: x\ntasks:\n  - name: a\n    depends_on: [bb]\n  - name: b\n",
            at: "grove.yaml:4:18", "depends on unknown task \"bb\"", "did you mean \"b\"?"),
        .file(
            "depends_on: a cycle",
            "command: x\ntasks:\n  - name: a\n    depends_on: [b]\n  - name: b\n    depends_on: [a]\n",
            at: "grove.yaml:6:18", "cycle (a → b → a)", "remove one of these dependencies"),
    ]

    /// Bytes no text editor should produce, and line endings some do.
    static let byteInputs: [BadInput] = [
        .bytes(
            "bytes: a NUL", Array("command: x\u{0}\ntasks:\n  - name: a\n".utf8), at: "grove.yaml:1:11",
            "control characters are not allowed", "U+0000", "remove that character"),
        .bytes(
            "bytes: not UTF-8", Array("command: x\ntasks:\n  - name: a".utf8) + [0xFF, 0xFE, 0x0A], at: "grove.yaml",
            "not UTF-8 text", "save it as UTF-8"),
        .bytes(
            "bytes: a BOM, then an unknown key", [0xEF, 0xBB, 0xBF] + Array("comand: x\ntasks:\n  - name: a\n".utf8),
            at: "grove.yaml:1:1", "unknown key \"comand\"", "did you mean \"command\"?"),
        .bytes(
            "bytes: CRLF line ends, then a bad name", Array("command: x\r\ntasks:\r\n  - name: a/b\r\n".utf8),
            at: "grove.yaml:3:11", "invalid task name \"a/b\"", "(e.g. \"a-b\")"),
        .bytes(
            "bytes: a bell in a key", Array("command: x\ntasks:\n  - name: a\n    \"co\\amand\": y\n".utf8),
            at: "grove.yaml:4:5", "unknown key \"co\\u{7}mand\"", "did you mean \"command\"?"),
    ]

    /// Flags, and task files that are not files.
    static let flagInputs: [BadInput] = [
        .flags("flags: -j 0", ["-j", "0", "--", "true"], at: "-j", "-j is 0", "give at least 1"),
        .flags("flags: -j -1", ["-j", "-1", "--", "true"], at: "-j", "-j is -1", "give at least 1"),
        .flags("flags: --jobs 0", ["--jobs", "0", "--", "true"], at: "-j", "-j is 0", "give at least 1"),
        .flags(
            "flags: -j not a number", ["-j", "many", "--", "true"], at: "The value 'many' is invalid for '-j <jobs>'",
            "see 'grove run --help'"),
        .flags(
            "flags: --timeout 0", ["--timeout", "0", "--", "true"], at: "--timeout", "bad timeout \"0\"",
            "use a positive duration"),
        .flags(
            "flags: --timeout -5m", ["--timeout", "-5m", "--", "true"], at: "--timeout", "bad timeout \"-5m\"",
            "use a positive duration"),
        .flags(
            "flags: --timeout 10x", ["--timeout", "10x", "--", "true"], at: "--timeout", "bad timeout \"10x\"",
            "use a positive duration"),
        .flags("flags: --count 0", ["--count", "0", "--", "true"], at: "--count", "--count is 0", "give at least 1"),
        .flags(
            "flags: --name with a slash", ["--name", "a/b", "--", "true"], at: "--name", "invalid task name \"a/b\"",
            "(e.g. \"a-b\")"),
        .flags(
            "flags: --name with a space", ["--name", "a b", "--", "true"], at: "--name", "invalid task name \"a b\"",
            "(e.g. \"a-b\")"),
        .flags(
            "flags: --name 1,000 characters", ["--name", longName, "--", "true"], at: "--name",
            "is 1000 characters long", "shorten it"),
        .flags(
            "flags: --repo is a file", ["--repo", "../notes.txt", "--", "true"], at: "--repo",
            "is a file, not a repository"),
        .flags(
            "flags: --repo is not a repository", ["--repo", "../plain", "--", "true"], at: "--repo",
            "is not inside a git repository"),
        .flags(
            "flags: --repo is missing", ["--repo", "../missing", "--", "true"], at: "--repo", "does not exist"),
        .flags(
            "flags: no command", ["--repo", "."], at: "--", "no command to run",
            "give one after `--` (e.g. `grove run --repo . -- make fix`)"),
        .flags(
            "flags: --retries 101", ["--retries", "101", "--", "true"], at: "--retries", "--retries is 101",
            "give 0 to 100"),
        .flags("flags: --first 2 of 1", ["--first", "2", "--", "true"], at: "--first", "--first is 2", "give 1 to 1"),
        // --copy: checked like copy:, and named in the message.
        .flags(
            "flags: --copy an absolute path", ["--copy", "/etc/passwd", "--", "true"], at: "--copy",
            "path \"/etc/passwd\" is absolute", "give a path relative to the repository's checkout"),
        .flags(
            "flags: --copy climbing out", ["--copy", "config/../../secret", "--", "true"], at: "--copy",
            "climbs out of the repository", "give a path inside it"),
        .flags("flags: --copy empty", ["--copy", "", "--", "true"], at: "--copy", "path is empty", "give a path"),
        .flags(
            "flags: --copy the whole checkout", ["--copy", ".", "--", "true"], at: "--copy",
            "names the whole checkout", "name the files to copy"),
        .flags(
            "flags: --copy a path that is not there", ["--copy", "README.md", "--copy", ".env", "--", "true"],
            at: "--copy", "path \".env\" does not exist in", "create it or remove this --copy"),
        BadInput(
            label: "flags: --copy with a task file", arguments: ["grove.yaml", "--copy", "README.md"],
            file: Array("command: x\ntasks:\n  - name: a\n".utf8), fileName: "grove.yaml", at: "--copy",
            says: ["--copy cannot be combined with a task file", "list the paths under `copy:`"]),
        .flags(
            "flags: an unknown option", ["--frob", "--", "true"], at: "Unknown option '--frob'",
            "see 'grove run --help'"),
        .flags(
            "flags: a missing task file", ["missing.yaml"], at: "missing.yaml", "task file not found", "check the path"),
        .flags(
            "flags: the task file is a directory", ["../plain"], at: "../plain", "is a directory, not a task file",
            "give the path of grove.yaml"),
    ]

    static let allInputs = fileInputs + byteInputs + flagInputs

    // MARK: The tests

    /// Checks one result: exit 2, stdout empty, one line on stderr: `error: <at>: what; fix`.
    func expectRejected(
        _ result: ProcessResult, _ input: BadInput, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let context = Comment(rawValue: "\(input.label): \(result.stderr)")
        #expect(result.status == 2, context, sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, context, sourceLocation: sourceLocation)
        #expect(result.stderr.hasSuffix("\n"), context, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 1, context, sourceLocation: sourceLocation)
        let line = String(lines.first ?? "")
        #expect(line.hasPrefix("error: \(input.at)"), context, sourceLocation: sourceLocation)
        for fragment in input.says {
            #expect(line.contains(fragment), "missing \"\(fragment)\" — \(context)", sourceLocation: sourceLocation)
        }
        // What is wrong, then what to do: every message offers a fix after "; " (or in parentheses).
        #expect(line.contains("; ") || line.contains(" (see "), context, sourceLocation: sourceLocation)
        #expect(line.count < 400, "not one readable line: \(context)", sourceLocation: sourceLocation)
    }

    func write(_ input: BadInput) throws {
        if let file = input.file {
            try Data(file).write(to: URL(fileURLWithPath: repo.path + "/" + input.fileName))
        }
    }

    /// A fresh machine: no home yet. It must still not exist afterwards. (One test walks all
    /// inputs over one fixture: a fixture per input costs ~20 git processes, ten times the input.)
    @Test func everyInputIsRejectedWithoutCreatingAHome() throws {
        for input in Self.allInputs {
            try write(input)
            let before = try snapshot()
            expectRejected(try groveRun(input.arguments), input)
            let after = try snapshot()
            #expect(after == before, "\(input.label) changed the disk:\n\(after.difference(from: before))")
            #expect(!FileManager.default.fileExists(atPath: home), "\(input.label) created \(home)")
        }
    }

    /// A home with a finished run (database, logs, a worktree): bad input leaves it alone, byte
    /// for byte and mtime for mtime, and the next run still gets number 2. grove reads the home
    /// once, before planning (the next run number), the same way whatever the input, so every
    /// fifth input (a sample across syntax, types, names, repositories and flags) stands for all.
    @Test func inputsAreRejectedWithAnExistingHomeUntouched() throws {
        let first = try groveRun(["--name", "earlier", "--", "sh", "-c", "echo hi > out.txt"])
        #expect(first.status == 0, "\(first.stderr)")
        for (index, input) in Self.allInputs.enumerated() where index % 5 == 0 {
            try write(input)
            // The listing covers refs and worktrees too (every file of every `.git`), so here
            // git's own view is left out: it halves the processes this loop starts.
            let before = try DiskSnapshot(repositories: [], directories: [sandbox.path])
            expectRejected(try groveRun(input.arguments), input)
            let after = try DiskSnapshot(repositories: [], directories: [sandbox.path])
            #expect(after == before, "\(input.label) changed the disk:\n\(after.difference(from: before))")
        }
        let next = try groveRun(["--name", "later", "--", "true"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(FileManager.default.fileExists(atPath: home + "/worktrees/2/later"))
    }

    /// A task branch that already exists is the user's: the run is refused before anything,
    /// naming the command that would free the name.
    @Test func aBranchThatAlreadyExistsIsRejected() throws {
        try repo.git("branch", "grove/1/taken")
        let input = BadInput.flags(
            "an existing branch", ["--name", "taken", "--", "true"], at: "--name",
            "branch \"grove/1/taken\" already exists", "git -C \(repo.path) branch -D grove/1/taken")
        let before = try snapshot()
        expectRejected(try groveRun(input.arguments), input)
        #expect(try snapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: home))
    }

    /// The count the issue asks for, kept honest: every input above is a distinct one.
    @Test func theInputsAreDistinct() {
        let keys = Self.allInputs.map { "\($0.fileName)\u{0}\($0.file ?? [])\u{0}\($0.arguments)" }
        #expect(Set(keys).count == keys.count)
        #expect(Set(Self.allInputs.map(\.label)).count == Self.allInputs.count)
        #expect(Self.allInputs.count >= 100)
    }

    // MARK: Not bad input: a command that is not found fails its task, not the run's input

    /// A program that does not exist is not knowable before the task runs (it may be created by
    /// `setup:` or live in the worktree): the task fails with exit 127 and says so, the other
    /// tasks still run, and grove exits 1.
    @Test func aCommandThatIsNotFoundFailsItsTaskWith127() throws {
        try """
        command: "true"
        tasks:
          - name: argv
            command: [no-such-program-grove-test, --flag]
          - name: shell
            command: no-such-program-grove-test --flag
          - name: fine
        """.write(toFile: repo.path + "/grove.yaml", atomically: false, encoding: .utf8)
        let result = try groveRun(["grove.yaml"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("command not found: no-such-program-grove-test (exit 127)"), "\(result.stderr)")
        let report = try status()
        let tasks = Dictionary(uniqueKeysWithValues: report.tasks.map { ($0.name, $0) })
        #expect(tasks["argv"]?.state == .failed)
        #expect(tasks["argv"]?.exitCode == 127)
        #expect(tasks["argv"]?.reason?.contains("command not found: no-such-program-grove-test") == true)
        #expect(tasks["shell"]?.state == .failed)
        #expect(tasks["shell"]?.exitCode == 127)
        #expect(tasks["shell"]?.reason?.contains("command not found") == true)
        #expect(tasks["fine"]?.state == .succeeded)
        let table = try Shell.run(
            [try builtBinary(), "status"], in: repo.path, environment: environment, check: false)
        #expect(table.stdout.contains("argv: command not found"), "\(table.stdout)")
    }
}
