import Foundation

/// A process a test starts and keeps going while it looks at it from outside (e.g. `grove run`
/// while `grove status` reads), then signals or waits for. Output goes to files, never pipes.
public final class BackgroundProcess: @unchecked Sendable {
    // @unchecked: `process` is only started in init and then read (pid, wait), which Process allows
    // from any thread; the files are written by the child and read after it ended.
    private let process: Process
    private let outFile: TemporaryFile
    private let errFile: TemporaryFile

    /// Starts `arguments` (looked up on PATH) in `directory` with Shell's isolated environment plus `extra`.
    public init(_ arguments: [String], in directory: String? = nil, environment extra: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = Shell.environment.merging(extra) { $1 }
        outFile = try TemporaryFile()
        errFile = try TemporaryFile()
        process.standardOutput = outFile.handle
        process.standardError = errFile.handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The child's pid (`/usr/bin/env` execs the command, so it is the command's pid).
    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the process.
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the end (SIGKILL after `limit`, so a hang fails the test instead of blocking it).
    public func wait(limit: Duration = .seconds(60)) -> ProcessResult {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: outFile.contents(), stderr: errFile.contents())
    }

    /// What the process wrote to stdout so far.
    public func outputSoFar() -> String {
        (try? String(contentsOfFile: outFile.path, encoding: .utf8)) ?? ""
    }
}

/// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
public func eventually(within limit: Duration = .seconds(20), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: limit)
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
