import Foundation
import GroveCore
import TestSupport
import Testing

/// The `push` table: one row per (run, task, remote), replaced by each push, listed in task order.
@Suite("push: state store")
struct PushRecordTests {
    private func store(_ sandbox: Sandbox, tasks names: [String]) throws -> StateStore {
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        try store.createRun(jobs: 1) { run in
            names.enumerated().map { position, name in
                TaskRecord(
                    run: run.number, name: name, position: position, repo: "/r", base: "main",
                    branch: "grove/\(run.number)/\(name)", worktree: "/w/\(name)", command: ["true"],
                    log: "/l/\(name).log")
            }
        }
        return store
    }

    @Test func aPushIsUpsertedPerRunTaskAndRemote() throws {
        let sandbox = try Sandbox()
        let store = try store(sandbox, tasks: ["b", "a"])
        #expect(try store.pushes(run: 1).isEmpty)
        #expect(try store.push(run: 1, task: "a", remote: "origin") == nil)

        let old = Date(timeIntervalSince1970: 1_000)
        try store.savePush(
            PushRecord(
                run: 1, task: "a", remote: "origin", ref: "refs/heads/grove/1/a", state: .pushed, commit: "abc",
                prBody: "/l/a.pr.md", prExitCode: 0, prURL: "https://x/1", prLog: "/l/a.pr.log", updatedAt: old))
        var saved = try #require(try store.push(run: 1, task: "a", remote: "origin"))
        #expect(saved.state == .pushed)
        #expect(saved.commit == "abc")
        #expect(saved.hasPullRequest)
        #expect(saved.updatedAt > old)

        saved.state = .rejected
        saved.reason = "non-fast-forward"
        try store.savePush(saved)
        try store.savePush(PushRecord(run: 1, task: "a", remote: "fork", ref: "refs/heads/grove/1/a", state: .failed))
        try store.savePush(
            PushRecord(run: 1, task: "b", remote: "origin", ref: "refs/heads/grove/1/b", state: .upToDate))

        let rows = try store.pushes(run: 1)
        // Task order (b was planned first), then remote.
        #expect(
            rows.map { "\($0.task) \($0.remote) \($0.state.rawValue)" } == [
                "b origin up_to_date", "a fork failed", "a origin rejected",
            ])
        #expect(rows.last?.commit == "abc")
        #expect(rows.last?.reason == "non-fast-forward")
        #expect(try store.pushes(run: 2).isEmpty)

        // Rows go with their run (grove never deletes one; by hand, the schema cascades).
        try Shell.run([
            "sqlite3", sandbox.child("grove.sqlite"), "PRAGMA foreign_keys = ON; DELETE FROM run WHERE number = 1;",
        ])
        #expect(try store.pushes(run: 1).isEmpty)
    }

    @Test func pushStatesReadAsTheirJSONWords() {
        #expect(PushState.allCases.map(\.rawValue) == ["pushed", "up_to_date", "rejected", "failed"])
        #expect(PushState.allCases.filter(\.isSuccess) == [.pushed, .upToDate])
    }
}
