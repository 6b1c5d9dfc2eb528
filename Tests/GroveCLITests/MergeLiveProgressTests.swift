import Foundation
import GroveCore
import Synchronization
import TestSupport
import Testing

@testable import GroveCLI

/// The live display of `grove merge` as a terminal receives it: queues at work redrawn in
/// place, outcomes printed above, the block erased at the end.
@Suite("merge live progress")
struct MergeLiveProgressTests {
    private final class Capture: Sendable {
        private let writes = Mutex<[String]>([])
        var sink: OutputSink { { text in self.writes.withLock { $0.append(text) } } }
        var chunks: [String] { writes.withLock { $0 } }
    }

    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func event(
        _ kind: MergeEvent.Kind, _ task: String? = nil, at offset: Double = 0,
        _ change: (inout MergeEvent) -> Void = { _ in }
    ) -> MergeEvent {
        var event = MergeEvent(kind, run: 3, repo: "/src/app", task: task, time: start.addingTimeInterval(offset))
        change(&event)
        return event
    }

    @Test func queuesAtWorkAreRedrawnAndOutcomesPrintedAbove() throws {
        let sandbox = try Sandbox()
        let log = sandbox.child("a.check.log")
        try "running tests\n\u{1B}[32mok 12 tests\u{1B}[0m\n".write(toFile: log, atomically: false, encoding: .utf8)
        let capture = Capture()
        let live = MergeLiveProgress(sink: capture.sink, size: { (70, 24) }, refresh: nil)
        live.handle(
            event(.mergeStarted) {
                $0.repos = ["/src/app"]
                $0.tasks = ["a", "b"]
            })
        live.handle(event(.taskRebasing, "a") { $0.base = "main" })
        live.draw(now: start.addingTimeInterval(0.5))
        #expect(
            capture.chunks.last
                == "merging run 3: 2 tasks in 1 repository\n[a] rebasing   0.5 s\nmerge run 3 · 0/2 done · 0.5 s\n"
        )

        live.handle(event(.taskChecking, "a", at: 1) { $0.log = log })
        live.draw(now: start.addingTimeInterval(2))
        #expect(
            capture.chunks.last
                == "\r\u{1B}[2A\u{1B}[J[a] checking   1.0 s  ok 12 tests\nmerge run 3 · 0/2 done · 2.0 s\n")

        live.handle(
            event(.taskFinished, "a", at: 3) {
                $0.result = .task(.landed)
                $0.commit = "abcdef1234"
                $0.commits = 1
            })
        live.handle(
            event(.taskFinished, "b", at: 3) {
                $0.result = .task(.conflict)
                $0.conflicts = ["conflict.txt"]
            })
        live.draw(now: start.addingTimeInterval(3))
        #expect(
            capture.chunks.last
                == "\r\u{1B}[2A\u{1B}[J[a] landed as abcdef1 (1 commit)\n[b] conflict in conflict.txt\n"
                + "merge run 3 · 2/2 done · 1 landed · 1 conflict · 3.0 s\n")

        live.handle(event(.mergeFinished, at: 4))
        #expect(capture.chunks.last == "\r\u{1B}[1A\u{1B}[J")
        let count = capture.chunks.count
        live.draw(now: start.addingTimeInterval(5))
        #expect(capture.chunks.count == count, "nothing is drawn after the merge finished")
    }

    @Test func theFrameKeepsTheTotalLineWhenTheTerminalIsShort() {
        var state = MergeLiveState()
        state.apply(
            event(.mergeStarted) {
                $0.repos = ["/src/a", "/src/b", "/src/c"]
                $0.tasks = ["x", "y", "z"]
            })
        for (repo, task) in [("/src/a", "x"), ("/src/b", "y"), ("/src/c", "z")] {
            var rebasing = event(.taskRebasing, task)
            rebasing.repo = repo
            state.apply(rebasing)
        }
        let frame = MergeLiveProgress.frame(state, now: start.addingTimeInterval(1), width: 80, height: 3)
        #expect(frame == ["[a: x] rebasing   1.0 s", "merge run 3 · 0/3 done · 1.0 s"])
    }
}
