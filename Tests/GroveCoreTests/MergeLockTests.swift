import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// One merge per repository: the lock file in its git common directory.
@Suite("Repository lock")
struct MergeLockTests {
    /// A pid that certainly names no process: one of ours, already exited and reaped.
    static func reapedPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func aSecondHolderIsRefusedWithTheFirstOnesPid() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let common = try repo.open().commonDirectory
        let lock = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        #expect(lock.path == common + "/grove.lock")
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
        let error = #expect(throws: RepositoryLockedError.self) {
            _ = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        }
        #expect(error?.holder == getpid())
        #expect(error?.errorDescription?.contains("pid \(getpid())") == true)
        lock.release()
        #expect(!FileManager.default.fileExists(atPath: lock.path))
        let again = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        again.release()
    }

    @Test func aLockLeftByADeadGroveIsTakenOver() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let common = try repo.open().commonDirectory
        let path = RepositoryLock.path(commonDirectory: common)
        try "\(try Self.reapedPID())\n".write(toFile: path, atomically: true, encoding: .utf8)
        let lock = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(getpid())\n")
        lock.release()
    }

    @Test func aHeldLockStopsTheMergeBeforeAnythingMoves() async throws {
        let fixture = try MergeFixture()
        try await fixture.run([.own("one")])
        let refs = try fixture.repo.refs()
        let common = try fixture.repo.open().commonDirectory
        let lock = try RepositoryLock.acquire(commonDirectory: common, repository: fixture.repo.path)
        await #expect(throws: RepositoryLockedError.self) { _ = try await fixture.merge() }
        #expect(try fixture.repo.refs() == refs)
        lock.release()
        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.landed])
        // The merge let its lock go.
        #expect(!FileManager.default.fileExists(atPath: common + "/grove.lock"))
    }
}
