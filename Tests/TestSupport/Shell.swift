import Foundation

/// The result of running a process to completion.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// stdout without its trailing newline.
    public var output: String { stdout.trimmingCharacters(in: .newlines) }
    public var lines: [String] { output.isEmpty ? [] : output.components(separatedBy: "\n") }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public let command: [String]
    public let result: ProcessResult
    public var description: String {
        "`\(command.joined(separator: " "))` exited \(result.status): \(result.stderr)\(result.stdout)"
    }
}

/// Runs processes for tests: fully isolated from the host's git configuration.
public enum Shell {
    /// The environment every test process gets: no global or system git config, a fixed identity.
    public static let environment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_AUTHOR_NAME"] = "Test Author"
        environment["GIT_AUTHOR_EMAIL"] = "author@example.com"
        environment["GIT_COMMITTER_NAME"] = "Test Committer"
        environment["GIT_COMMITTER_EMAIL"] = "committer@example.com"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        return environment
    }()

    /// Runs `arguments` (looked up on PATH) in `directory` and returns what it printed.
    @discardableResult
    public static func run(
        _ arguments: [String], in directory: String? = nil, environment extra: [String: String] = [:],
        check: Bool = true
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = environment.merging(extra) { $1 }
        let outFile = try TemporaryFile()
        let errFile = try TemporaryFile()
        process.standardOutput = outFile.handle
        process.standardError = errFile.handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let result = ProcessResult(
            status: process.terminationStatus, stdout: outFile.contents(), stderr: errFile.contents())
        if check && result.status != 0 { throw ProcessFailure(command: arguments, result: result) }
        return result
    }

    /// `git -C directory arguments…`, failing the test when git fails.
    @discardableResult
    public static func git(_ arguments: String..., in directory: String, check: Bool = true) throws -> ProcessResult {
        try run(["git", "-C", directory] + arguments, check: check)
    }
}

/// A file for a child's output (pipes can fill up and deadlock; files cannot).
final class TemporaryFile {
    let path: String
    let handle: FileHandle

    init() throws {
        path = NSTemporaryDirectory() + "grove-test-output-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    func contents() -> String {
        try? handle.close()
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
