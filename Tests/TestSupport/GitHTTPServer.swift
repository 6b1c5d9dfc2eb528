import Foundation

/// A smart-HTTP git server on 127.0.0.1 for tests: `git-http-backend` behind a small Python
/// `http.server`, serving every bare repository under `root` for fetch and push, optionally
/// behind HTTP Basic auth. It records one `METHOD /path status` line per request (`requests`),
/// and nothing else: no header, so no credential, is written anywhere.
public final class GitHTTPServer: @unchecked Sendable {
    // @unchecked: `process` is started in init and afterwards only signalled and waited for,
    // which Process allows from any thread; the other properties are constants.
    public let port: UInt16
    private let process = Process()
    private let stateDirectory: String

    /// Starts serving `root`; with `username` and `password`, every request must carry them.
    public init(root: String, username: String? = nil, password: String? = nil) throws {
        stateDirectory = NSTemporaryDirectory() + "grove-http-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let script = stateDirectory + "/git-http-server.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let backend = try Shell.run(["git", "--exec-path"]).output + "/git-http-backend"

        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, backend, root, stateDirectory]
        var environment = Shell.environment
        // The environment, not argv: `ps` shows arguments to everyone.
        environment["GROVE_TEST_HTTP_USER"] = username
        environment["GROVE_TEST_HTTP_PASSWORD"] = password
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()

        // The script binds port 0 itself and writes the port it got (no race for a free port).
        let portFile = stateDirectory + "/port"
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && process.isRunning {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = UInt16(text),
                Loopback.accepts(port)
            {
                self.port = port
                return
            }
            usleep(20_000)
        }
        port = 0
        stop()
        throw LoopbackError(message: "the git HTTP server did not start (python3 \(script))")
    }

    deinit {
        stop()
    }

    /// `http://127.0.0.1:PORT/<name>`.
    public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// Every request so far, as `METHOD /path?query status`, oldest first.
    public func requests() -> [String] {
        let text = (try? String(contentsOfFile: stateDirectory + "/requests", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Kills exactly the server this test started and removes its files.
    public func stop() {
        if process.isRunning {
            // Not SIGTERM: Foundation's Process on Linux starts children with the spawning
            // thread's signal mask, and libdispatch's threads block SIGTERM, so it would be ignored.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// The server. git-http-backend is a CGI program: the request becomes its environment and
    /// stdin, its `Status:` and headers become the response. `REMOTE_USER` is always set, which
    /// enables receive-pack (push) without touching the served repositories' config.
    private static let script = #"""
        import base64, hmac, http.server, os, subprocess, sys

        backend, root, state = sys.argv[1], sys.argv[2], sys.argv[3]
        user = os.environ.get("GROVE_TEST_HTTP_USER")
        password = os.environ.get("GROVE_TEST_HTTP_PASSWORD")


        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass  # nothing about a request, its Authorization header least of all, is logged

            def do_GET(self):
                self.serve()

            def do_POST(self):
                self.serve()

            def authorized(self):
                if user is None:
                    return True
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                try:
                    given_user, _, given_password = base64.b64decode(header[6:]).decode().partition(":")
                except Exception:
                    return False
                return hmac.compare_digest(given_user, user) and hmac.compare_digest(given_password, password or "")

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def serve(self):
                data = self.body()
                path, _, query = self.path.partition("?")
                if not self.authorized():
                    # No body: libgit2 1.5.1 replays on the same connection and, with a body
                    # left unread, fails with "http parser error: invalid constant string".
                    self.reply(401, [("WWW-Authenticate", 'Basic realm="grove-test"')], b"")
                    return
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": root,
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_CONFIG_GLOBAL": "/dev/null",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(data)),
                    "REMOTE_USER": user or "anonymous",
                    "REMOTE_ADDR": "127.0.0.1",
                }
                for name in ("Content-Encoding", "Git-Protocol"):
                    if name in self.headers:
                        env["HTTP_" + name.upper().replace("-", "_")] = self.headers[name]
                output = subprocess.run(
                    [backend], input=data, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
                ).stdout
                head, separator, content = output.partition(b"\r\n\r\n")
                if not separator:
                    head, _, content = output.partition(b"\n\n")
                status, headers = 200, []
                for line in head.decode("latin-1").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.reply(status, headers, content)

            def reply(self, status, headers, content):
                with open(os.path.join(state, "requests"), "a") as log:
                    log.write("%s %s %d\n" % (self.command, self.path, status))
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)


        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(os.path.join(state, "port.tmp"), "w") as file:
            file.write(str(server.server_address[1]))
        os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
        server.serve_forever()
        """#
}
