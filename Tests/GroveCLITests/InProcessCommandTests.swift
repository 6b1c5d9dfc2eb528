import Foundation
import GroveCore
import Synchronization
import TestSupport
import Testing

@testable import GroveCLI

/// The commands run in-process through a `CommandContext` whose home, directory and output are
/// the test's, held against the same commands run through the built binary: what a command
/// prints must not depend on how it was started.
@Suite("commands in-process")
struct InProcessCommandTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
    }

    /// What one command printed and how it ended.
    struct Outcome: Equatable, CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String

        var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    /// Bytes a command wrote to one of its streams.
    private final class Capture: Sendable {
        private let bytes = Mutex<[UInt8]>([])

        var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }

        /// A stream writing here: not a terminal (as the binary's are under `Shell.run`) unless
        /// `terminal` says otherwise.
        func channel(_ terminal: Terminal = Terminal(isTerminal: false, environment: [:])) -> OutputChannel {
            OutputChannel(
                terminal: terminal, size: { (80, 24) },
                write: { buffer in self.bytes.withLock { $0.append(contentsOf: buffer) } })
        }
    }

    /// Runs `arguments` in this process: the suite's environment, the repository as the current
    /// directory, captured output, and `signals` for Ctrl-C (none by default: the test runner's
    /// own signals stay as they are).
    func inProcess(
        _ arguments: [String], signals: SignalSource = .untrapped, terminal: [String: String]? = nil
    ) async -> Outcome {
        let (stdout, stderr) = (Capture(), Capture())
        // With `terminal`, both streams are terminals under that environment (TERM, NO_COLOR).
        let streams = terminal.map { Terminal(isTerminal: true, environment: $0) }
        let context = CommandContext(
            environment: environment.merging(terminal ?? [:]) { $1 }, currentDirectory: repo.path,
            arguments: ["grove"] + arguments, stdout: streams.map(stdout.channel) ?? stdout.channel(),
            stderr: streams.map(stderr.channel) ?? stderr.channel(), signals: signals)
        let status = await GroveCommand.execute(arguments, in: context)
        return Outcome(status: status, stdout: stdout.text, stderr: stderr.text)
    }

    /// The same command through the built binary.
    func binary(_ arguments: [String]) throws -> Outcome {
        let result = try grove(arguments)
        return Outcome(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// `text` with every decimal number (a time) and run number `run` made the same, and runs of
    /// spaces (table padding around those numbers) as one.
    func withoutTimings(_ text: String, run: Int) -> String {
        text.replacing(/[0-9]+\.[0-9]+/, with: "T").replacingOccurrences(of: "run \(run)", with: "run N")
            .replacing(/[ ]+/, with: " ")
    }

    @Test func theReadingCommandsPrintWhatTheBinaryPrintsAfterAnInProcessRun() async throws {
        let run = await inProcess(["run", "--name", "fix", "--", "sh", "-c", "echo x > f; echo wrote f"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("fix"))
        #expect(run.stderr.contains("grove: [fix] succeeded"), "\(run)")
        // The git CLI agrees that the run happened: the task's branch holds what its command wrote.
        #expect(try repo.output("show", "grove/1/fix:f") == "x")
        #expect(try repo.output("rev-list", "--count", "main..grove/1/fix") == "1")

        for arguments in [
            ["status"], ["status", "--json"], ["status", "1"], ["logs", "fix"], ["logs", "fix", "1"],
            ["report", "--json"], ["report"], ["merge", "--plan"], ["merge", "--plan", "--json"],
            // Bad input: the same one line and exit 2 either way.
            ["status", "9"], ["logs", "nope"], ["report", "--json", "--format", "md"], ["status", "--frob"],
        ] {
            let inside = await inProcess(arguments)
            let outside = try binary(arguments)
            #expect(inside == outside, "grove \(arguments.joined(separator: " "))")
        }
        // The bad inputs said so, and the good ones printed something.
        #expect(await inProcess(["status", "9"]).status == 2)
        #expect(await inProcess(["logs", "fix"]).stdout == "wrote f\n")
        #expect(try status().tasks.map(\.state) == [.succeeded])
    }

    @Test func anInProcessRunPrintsWhatTheBinaryPrintsForTheSameRun() async throws {
        // One at a time, so both runs start and end their tasks in the same order.
        let arguments = ["run", "--count", "2", "--name", "v", "-j", "1", "--", "sh", "-c", "echo \"$GROVE_TASK\" > f"]
        let inside = await inProcess(arguments)
        let outside = try binary(arguments)
        #expect(inside.status == 0, "\(inside)")
        #expect(outside.status == 0, "\(outside)")
        #expect(withoutTimings(inside.stdout, run: 1) == withoutTimings(outside.stdout, run: 2))
        #expect(withoutTimings(inside.stderr, run: 1) == withoutTimings(outside.stderr, run: 2))
        for run in [1, 2] {
            for task in ["v-1", "v-2"] { #expect(try repo.output("show", "grove/\(run)/\(task):f") == task) }
        }
        // --json: the same events, and a summary line that is the run's status document.
        let json = await inProcess(["run", "--name", "j", "--json", "--", "true"])
        let lines = json.stdout.split(separator: "\n")
        let summary = try JSONDecoder().decode(StatusReport.self, from: Data((lines.last ?? "").utf8))
        #expect(summary == (try status(3)))
        let kinds = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["event"] as? String
        }
        #expect(kinds == ["run_started", "task_preparing", "task_started", "task_finished", "run_finished", "summary"])
        #expect(json.stderr.isEmpty, "\(json)")
    }

    @Test func beforeAnyRunTheReadingCommandsSayWhatToDoAndCreateNothing() async throws {
        for arguments in [["status"], ["logs", "fix"], ["report"]] {
            let inside = await inProcess(arguments)
            #expect(inside == (try binary(arguments)), "grove \(arguments.joined(separator: " "))")
            #expect(inside.status == 2)
            #expect(inside.stderr == "error: no run yet in \(home): start one with `grove run`\n")
        }
        #expect(!FileManager.default.fileExists(atPath: home))
    }

    /// Only the commands that run processes or remove worktrees hear Ctrl-C; the reading ones
    /// leave signals alone.
    @Test func onlyTheCommandsThatRunProcessesTrapSignals() async throws {
        let traps = Mutex(0)
        let counting = SignalSource { _ in traps.withLock { $0 += 1 } }
        func trapsSet(by arguments: [String]) async -> Int {
            let before = traps.withLock { $0 }
            let outcome = await inProcess(arguments, signals: counting)
            #expect(!outcome.stderr.contains("error:"), "grove \(arguments.joined(separator: " ")): \(outcome)")
            return traps.withLock { $0 } - before
        }
        #expect(await trapsSet(by: ["run", "--name", "t", "--", "true"]) == 1)
        for reading in [["status"], ["status", "--json"], ["logs", "t"], ["report"], ["report", "--json"]] {
            #expect(await trapsSet(by: reading) == 0, "grove \(reading.joined(separator: " "))")
        }
        #expect(await trapsSet(by: ["merge", "--plan"]) == 1)
        #expect(await trapsSet(by: ["clean", "--dry-run"]) == 1)
    }

    /// A Ctrl-C that comes as soon as `grove run` listens (before it plans) reaches the run
    /// through the context: no task starts, the run ends interrupted with 130, and what is
    /// stored says so to the binary's `grove status`.
    @Test func aCtrlCThroughTheContextStopsTheRunBeforeAnyTaskStarts() async throws {
        let pressed = SignalSource { handler in handler(1) }
        let run = await inProcess(["run", "--name", "stopped", "--", "sh", "-c", "echo x > f"], signals: pressed)
        #expect(run.status == ExitStatus.interrupted, "\(run)")
        let report = try status(1)
        #expect(report.state == .interrupted)
        #expect(report.tasks.map(\.state) == [.cancelled])
        #expect(report.tasks.first?.reason == "not started: grove was interrupted")
        #expect(run.stderr.contains("grove: run 1 interrupted after "), "\(run)")
        // Nothing was made for the task: the git CLI sees no branch and no worktree.
        #expect(try repo.output("branch", "--list", "grove/*").isEmpty)
        #expect(!(try repo.output("worktree", "list", "--porcelain").contains("/worktrees/1/stopped")))
    }

    /// What the streams are is the context's to say: on a terminal `run` draws its live block
    /// (cursor movement, colour) and `status` colours its states; NO_COLOR or TERM=dumb in the
    /// context's environment take that away, as they do for the binary.
    @Test func aTerminalInTheContextGetsTheLiveDisplayAndColour() async throws {
        let term = ["TERM": "xterm-256color"]
        // Long enough for the block to be drawn (and erased) most times; nothing below depends on it.
        let run = await inProcess(["run", "--name", "live", "--", "sh", "-c", "echo x > f; sleep 0.4"], terminal: term)
        #expect(run.status == 0, "\(run)")
        let green = "\u{1B}[32msucceeded\u{1B}[0m"
        // The block is erased at the end, the task's line stays, and the run's line ends the display.
        #expect(run.stderr.contains("[live] \(green) in "), "\(run)")
        // After the last erase of the block (when one was drawn) only permanent lines are left.
        let last = run.stderr.components(separatedBy: "\u{1B}[J").last?.split(separator: "\n").last ?? ""
        #expect(last.hasPrefix("run 1 finished in ") && last.hasSuffix(": 1 \(green)"), "\(run)")
        #expect(!run.stderr.contains("grove: "), "no line display on a terminal")
        #expect(await inProcess(["status"], terminal: term).stdout.contains(green))
        let noColour = await inProcess(["status"], terminal: term.merging(["NO_COLOR": ""]) { $1 })
        #expect(noColour.status == 0 && !noColour.stdout.contains("\u{1B}"), "\(noColour)")
        let dumb = await inProcess(["run", "--name", "plain", "--", "true"], terminal: ["TERM": "dumb"])
        #expect(dumb.stderr.contains("grove: [plain] succeeded in "), "\(dumb)")
        #expect(!dumb.stderr.contains("\u{1B}"))

        #expect(ProgressDisplay.choice(json: true, progress: Terminal(isTerminal: true, environment: term)) == .events)
        #expect(
            ProgressDisplay.choice(json: false, progress: Terminal(isTerminal: true, environment: term))
                == .live(colour: true))
        #expect(
            ProgressDisplay.choice(json: false, progress: Terminal(isTerminal: true, environment: ["NO_COLOR": "1"]))
                == .live(colour: false))
        #expect(ProgressDisplay.choice(json: false, progress: Terminal(isTerminal: false, environment: term)) == .lines)
    }
}
