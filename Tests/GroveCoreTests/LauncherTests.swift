import Foundation
import GroveCore
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The launcher seam: wrappers nest around the command in order, the claim names what was
/// started, and a claim left by a grove that died is reaped.
@Suite("launcher", .timeLimit(.minutes(1)))
struct LauncherTests {
    /// Runs the command inside `sh -c 'echo <label> in; "$@"'`: its output shows the nesting.
    struct Announcing: CommandWrapper {
        let label: String

        func wrap(_ spec: ProcessSpec, for request: LaunchRequest) throws -> ProcessSpec {
            var wrapped = spec
            let inner: [String] =
                switch spec.command {
                case .shell(let line): ["/bin/sh", "-c", line]
                case .argv(let argv): argv
                }
            wrapped.command = .argv(
                ["/bin/sh", "-c", "echo \(label) \(request.purpose.rawValue) $GROVE_TASK; exec \"$@\"", "sh"] + inner)
            return wrapped
        }
    }

    @Test func wrappersNestFirstOutermostAndTheClaimIsTheGroup() async throws {
        let sandbox = try Sandbox()
        let log = sandbox.child("task.log")
        let spec = ProcessSpec(
            command: .shell("echo \"command pid $$\""), workingDirectory: sandbox.path,
            environment: ["GROVE_TASK": "t1"], logFile: log)
        let launcher = WrappedLauncher(
            base: LocalGroupLauncher(), wrappers: [Announcing(label: "outer"), Announcing(label: "inner")])
        let claims = Claims()
        let outcome = try await launcher.run(
            LaunchRequest(spec, purpose: .check, run: 1, task: "t1"), control: RunControl(), as: "t1"
        ) { claims.add($0) }

        #expect(outcome.taskState == .succeeded)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        // `exec` keeps one process from the outer wrapper to the command: the group's leader.
        #expect(lines == ["outer check t1", "inner check t1", "command pid \(outcome.processID)"])
        #expect(claims.all == [.processGroup(outcome.processID)])
    }

    @Test func reapEndsTheGroupAClaimNames() async throws {
        let sandbox = try Sandbox()
        let spec = ProcessSpec(
            command: .shell("sleep 60 & sleep 60; wait"), workingDirectory: sandbox.path,
            logFile: sandbox.child("task.log"))
        let claims = Claims()
        let running = Task {
            try await LocalGroupLauncher().launch(
                LaunchRequest(spec, purpose: .command, run: 1, task: "t1"), handle: TaskProcessHandle()
            ) { claims.add($0) }
        }
        while claims.all.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let claim = try #require(claims.all.first)
        guard case .processGroup(let group) = claim else { throw CancellationError() }
        #expect(groupHasLiveMember(group), "the group runs")

        // A later grove, knowing only the stored claim, ends it.
        await LocalGroupLauncher().reap(claim)
        let outcome = try await running.value
        #expect(outcome.termination == .signaled(SIGKILL))
        // No process of the group runs (a zombie the container's init has not reaped yet does not).
        #expect(!groupHasLiveMember(group), "no process of the group is left")
    }

    @Test func aClaimIsStoredAsTypedJSON() throws {
        let claim = ProcessClaim.processGroup(4242)
        let json = String(decoding: try JSONEncoder().encode(claim), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object.count == 2 && object["kind"] as? String == "process_group" && object["pgid"] as? Int == 4242)
        #expect(try JSONDecoder().decode(ProcessClaim.self, from: Data(json.utf8)) == claim)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ProcessClaim.self, from: Data(#"{"kind":"unknown","pgid":1}"#.utf8))
        }
    }
}

/// Claims reported by `onStart`, from whichever thread reports them.
private final class Claims: Sendable {
    private let claims = Mutex<[ProcessClaim]>([])
    func add(_ claim: ProcessClaim) { claims.withLock { $0.append(claim) } }
    var all: [ProcessClaim] { claims.withLock { $0 } }
}
