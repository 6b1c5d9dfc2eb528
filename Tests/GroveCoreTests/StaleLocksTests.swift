import Foundation
import GroveGit
import Synchronization
import TestSupport
import Testing

@testable import GroveCore

/// The one rule for stale `.lock` files (`StaleLocks`), on a real repository, with the git CLI
/// as the second opinion: a lock file blocks git until it is gone.
@Suite("Stale locks")
struct StaleLocksTests {
    let sandbox: Sandbox
    let repo: TestRepository
    let common: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        try repo.git("branch", "grove/1/a")
        common = repo.path + "/.git"
    }

    /// `refs/heads/grove/1/a.lock`, as a grove killed mid-write leaves it.
    func leaveLock(_ name: String = "refs/heads/grove/1/a.lock") throws -> String {
        let path = common + "/" + name
        try (try repo.revParse("main") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func gitCanDeleteTheBranch() throws -> Bool {
        try Shell.run(["git", "-C", repo.path, "branch", "-D", "grove/1/a"], check: false).status == 0
    }

    @Test func nothingIsRemovedWithoutHoldingTheRepositoryLock() throws {
        let lock = try leaveLock()
        #expect(StaleLocks.remove([lock], commonDirectory: common, settle: .milliseconds(100)).isEmpty)
        #expect(FileManager.default.fileExists(atPath: lock))
        #expect(try !gitCanDeleteTheBranch())
    }

    @Test func aLeftLockIsRemovedUnderTheRepositoryLockAndGitCanWriteAgain() throws {
        let lock = try leaveLock()
        #expect(try !gitCanDeleteTheBranch())
        let held = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        defer { held.release() }
        #expect(StaleLocks.holdsRepositoryLock(RepositoryLock.path(commonDirectory: common)))
        #expect(StaleLocks.remove([lock], commonDirectory: common, settle: .milliseconds(300)) == [lock])
        #expect(!FileManager.default.fileExists(atPath: lock))
        #expect(try gitCanDeleteTheBranch())
    }

    @Test func onlyTheNamedLockFilesOfThisRepositoryGoNeverALinkNorTheGroveLock() throws {
        let named = try leaveLock()
        let unnamed = try leaveLock("packed-refs.lock")
        let outside = sandbox.child("elsewhere.lock")
        try "x\n".write(toFile: outside, atomically: false, encoding: .utf8)
        let target = sandbox.child("target")
        try "precious\n".write(toFile: target, atomically: false, encoding: .utf8)
        let link = common + "/refs/heads/link.lock"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let notALock = common + "/refs/heads/grove/1/a"
        let held = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        defer { held.release() }
        let removed = StaleLocks.remove(
            [named, outside, link, notALock, held.path], commonDirectory: common, settle: .milliseconds(100))
        #expect(removed == [named])
        for kept in [unnamed, outside, link, notALock, held.path] {
            #expect(FileManager.default.fileExists(atPath: kept), "\(kept)")
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
    }

    @Test func aLockBeingWrittenIsKept() throws {
        let lock = try leaveLock()
        let held = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        defer { held.release() }
        // A live writer: the file keeps changing while the rule waits.
        let stop = Atomic(false)
        let writer = Thread {
            var count = 0
            while !stop.load(ordering: .relaxed) {
                count += 1
                try? "\(count)\n".write(toFile: lock, atomically: true, encoding: .utf8)
                usleep(20_000)
            }
        }
        writer.start()
        let removed = StaleLocks.remove([lock], commonDirectory: common, settle: .milliseconds(500))
        stop.store(true, ordering: .relaxed)
        while !writer.isFinished { usleep(10_000) }
        #expect(removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: lock))
    }

    @Test func aLockOlderThanTheDeadOperationIsNotItsToRemove() throws {
        let lock = try leaveLock()
        try Shell.run(["touch", "-d", "1 hour ago", lock])
        let held = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        defer { held.release() }
        let began = Date().addingTimeInterval(-60)
        #expect(
            StaleLocks.remove([lock], commonDirectory: common, madeAfter: began, settle: .milliseconds(100)).isEmpty)
        #expect(FileManager.default.fileExists(atPath: lock))
        #expect(
            StaleLocks.remove(
                [lock], commonDirectory: common, madeAfter: began.addingTimeInterval(-7200),
                settle: .milliseconds(100)) == [lock])
    }
}
