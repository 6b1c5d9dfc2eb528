import Foundation

/// git's credential helpers, asked through `git credential fill` so that whatever the user set
/// up for git (`credential.helper` store, cache, libsecret, a token script) works for grove too.
enum CredentialHelper {
    /// How long a helper may take before it is killed: a helper waiting on a GUI must not hang grove.
    static let timeout: TimeInterval = 30

    /// The user name and password git's helpers hold for `url`, or nil when they have none.
    /// Nothing is prompted (`GIT_TERMINAL_PROMPT=0`, `GCM_INTERACTIVE=never`, no `SSH_ASKPASS`)
    /// and nothing the helper prints is logged or kept beyond the returned value.
    static func fill(
        url: RemoteURL, username: String?, environment: [String: String]?
    ) -> (username: String, password: String)? {
        guard let scheme = url.scheme, let host = url.host else { return nil }
        var request = "protocol=\(scheme)\nhost=\(host)\(url.port.map { ":\($0)" } ?? "")\npath=\(url.path)\n"
        if let username { request += "username=\(username)\n" }
        request += "\n"
        // A value with a newline would let the URL inject fields of its own: refuse it.
        guard !([scheme, host, url.path] + [username].compactMap { $0 }).contains(where: { $0.contains("\n") })
        else { return nil }

        var environment = environment ?? ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GCM_INTERACTIVE"] = "never"
        environment["SSH_ASKPASS"] = nil
        guard let output = run(["git", "credential", "fill"], input: request, environment: environment) else {
            return nil
        }
        var fields: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let password = fields["password"], !password.isEmpty else { return nil }
        return (fields["username"] ?? username ?? "", password)
    }

    /// Runs `/usr/bin/env arguments` with `input` on stdin and returns stdout when it succeeds.
    /// The output goes through a pipe, never a file: it holds a password.
    private static func run(_ arguments: [String], input: String, environment: [String: String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        // Written before the child starts (a few bytes fit the pipe's buffer): a child that dies
        // early can then never turn our write into a SIGPIPE.
        stdin.fileHandleForWriting.write(Data(input.utf8))
        do { try process.run() } catch { return nil }
        try? stdin.fileHandleForWriting.close()
        let finished = Finished()
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            finished.ifNotFinished { kill(pid, SIGKILL) }
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        finished.mark()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Whether a helper process has ended, so the timeout does not signal it (or a recycled pid) afterwards.
private final class Finished: @unchecked Sendable {
    // @unchecked: `done` is only read and written under `lock`.
    private let lock = NSLock()
    private var done = false

    /// Runs `body` under the lock unless `mark()` was called.
    func ifNotFinished(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if !done { body() }
    }

    func mark() {
        lock.lock()
        done = true
        lock.unlock()
    }
}
