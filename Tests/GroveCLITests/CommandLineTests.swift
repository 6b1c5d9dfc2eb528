import ArgumentParser
import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// The commands DESIGN.md promises, in the order `grove --help` lists them.
private let designCommands = ["run", "status", "logs", "merge", "clean", "push", "report"]

@Suite("grove command line")
struct CommandLineTests {
    @Test func helpListsEveryCommandOfTheDesign() {
        let help = GroveCommand.helpMessage()
        for command in designCommands {
            #expect(help.contains("  \(command) "), "grove --help does not list \(command)")
        }
        #expect(help.contains("Exit status"))
    }

    @Test func versionNamesGroveAndLibgit2() throws {
        let error = try #require(throws: (any Error).self) { _ = try GroveCommand.parseAsRoot(["--version"]) }
        let message = GroveCommand.message(for: error)
        #expect(message.hasPrefix("grove \(GroveVersion.number)"))
        #expect(message.contains("libgit2 1."))
    }

    @Test func theBinaryAnswersHelpAndVersion() throws {
        let binary = try builtBinary()
        let version = try Shell.run([binary, "--version"])
        #expect(version.status == 0)
        #expect(version.output == GroveVersion.description)
        let help = try Shell.run([binary, "--help"])
        #expect(help.status == 0)
        for command in designCommands { #expect(help.stdout.contains("  \(command) ")) }
    }

    /// `grove push` before any run: bad input (exit 2) that names the fix, and nothing is
    /// created — not even the home.
    @Test func pushWithoutARunIsBadInputAndChangesNothing() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let before = try repo.refs()
        let result = try Shell.run(
            [try builtBinary(), "push", "--remote", "origin"], in: repo.path,
            environment: ["GROVE_HOME": sandbox.child("home")], check: false)
        #expect(result.status == ExitStatus.badInput)
        #expect(result.stderr.contains("no run yet in \(sandbox.child("home"))"))
        #expect(result.stdout.isEmpty)
        #expect(try repo.refs() == before)
        #expect(!FileManager.default.fileExists(atPath: sandbox.child("home")))
    }

    @Test func anUnknownCommandIsAUsageError() throws {
        let result = try Shell.run([try builtBinary(), "frobnicate"], check: false)
        #expect(result.status == ExitStatus.badInput)
        #expect(result.stderr.contains("frobnicate"))
    }
}

/// The `grove` executable SwiftPM built beside the test runner (`swift test` builds every
/// product into the same bin directory as the `*PackageTests.xctest` runner).
func builtBinary() throws -> String {
    let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
    var directory = runner.deletingLastPathComponent()
    // On some platforms the runner sits inside a bundle (…/X.xctest/Contents/MacOS/X).
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("grove").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: runner.path + "/../grove"])
}
