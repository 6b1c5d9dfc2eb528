import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// grove's own recursive removal (worktrees of landed and cleaned tasks): everything inside
/// goes, nothing outside it does — links are removed, never followed — and a mounted file
/// system inside stops it.
@Suite struct DirectoryRemovalTests {
    @Test func removesEverythingInsideAndNothingALinkPointsTo() throws {
        let sandbox = try Sandbox()
        let fileManager = FileManager.default
        let outside = sandbox.child("home")
        try fileManager.createDirectory(atPath: outside + "/docs", withIntermediateDirectories: true)
        try "keep me\n".write(toFile: outside + "/docs/canary.txt", atomically: false, encoding: .utf8)
        try "keep me too\n".write(toFile: outside + "/single.txt", atomically: false, encoding: .utf8)

        let doomed = sandbox.child("wt")
        try fileManager.createDirectory(atPath: doomed + "/a/b/c", withIntermediateDirectories: true)
        try "x\n".write(toFile: doomed + "/a/b/c/deep.txt", atomically: false, encoding: .utf8)
        try "r\n".write(toFile: doomed + "/read-only.txt", atomically: false, encoding: .utf8)
        try fileManager.setAttributes([.posixPermissions: 0o444], ofItemAtPath: doomed + "/read-only.txt")
        try fileManager.createSymbolicLink(atPath: doomed + "/home-link", withDestinationPath: outside)
        try fileManager.createSymbolicLink(
            atPath: doomed + "/a/file-link", withDestinationPath: outside + "/single.txt")
        try fileManager.createSymbolicLink(atPath: doomed + "/a/b/dangling", withDestinationPath: outside + "/nothing")
        try fileManager.createSymbolicLink(atPath: doomed + "/a/relative-up", withDestinationPath: "../../home/docs")
        #expect(mkfifo(doomed + "/a/fifo", 0o600) == 0)

        try DirectoryRemoval.remove(doomed)

        #expect(!fileManager.fileExists(atPath: doomed))
        #expect(try String(contentsOfFile: outside + "/docs/canary.txt", encoding: .utf8) == "keep me\n")
        #expect(try String(contentsOfFile: outside + "/single.txt", encoding: .utf8) == "keep me too\n")
    }

    @Test func aLinkInPlaceOfTheDirectoryIsRefusedAndItsTargetKept() throws {
        let sandbox = try Sandbox()
        let target = sandbox.child("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try "keep\n".write(toFile: target + "/canary.txt", atomically: false, encoding: .utf8)
        let link = sandbox.child("wt")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(throws: DirectoryRemoval.Failure.self) { try DirectoryRemoval.remove(link) }
        #expect(FileManager.default.fileExists(atPath: target + "/canary.txt"))
    }

    /// Needs root to mount a tmpfs; skipped otherwise.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aMountedFileSystemInsideStopsTheRemoval() throws {
        let sandbox = try Sandbox()
        let doomed = sandbox.child("wt")
        let mountPoint = doomed + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard try Shell.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint], check: false).status == 0
        else {
            Issue.record("mount failed although running as root")
            return
        }
        defer { _ = try? Shell.run(["umount", mountPoint], check: false) }
        try "on another file system\n".write(toFile: mountPoint + "/kept.txt", atomically: false, encoding: .utf8)
        #expect(throws: DirectoryRemoval.Failure.self) { try DirectoryRemoval.remove(doomed) }
        #expect(FileManager.default.fileExists(atPath: mountPoint + "/kept.txt"))
    }
}
