import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How Ctrl-C and SIGTERM reach a command: `trap(handler)` makes `handler(count)` run for each
/// signal, `count` being how many came so far. Set only by the commands that run processes or
/// change repositories (run, retry, merge, clean, push); the reading ones die as any program does.
struct SignalSource: Sendable {
    let trap: @Sendable (_ handler: @escaping @Sendable (_ count: Int) -> Void) -> Void

    /// The process's signal trap (`SignalTrap`).
    static let process = SignalSource { handler in SignalTrap.install { _, count in handler(count) } }
    /// No signal reaches the command: one run in-process by a test, whose runner keeps its own signals.
    static let untrapped = SignalSource { _ in }
}

/// Ctrl-C and SIGTERM for the commands that run processes: instead of dying (and orphaning task
/// processes in their own sessions), grove hears each signal and lets the run end its tasks. The handler only writes
/// the signal number to a pipe (async-signal-safe); a thread reads it and calls back with how
/// many signals came so far, so the second Ctrl-C can kill at once.
enum SignalTrap {
    /// The pipe's write end, read by the C handler (which cannot capture anything).
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    /// Installs the trap for SIGINT and SIGTERM; `handler(signal, count)` runs on a background thread.
    static func install(_ handler: @escaping @Sendable (Int32, Int) -> Void) {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec: task processes must not inherit the pipe.
        guard pipe(&ends) == 0 else { return }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        writeEnd = ends[1]
        let readEnd = ends[0]
        for signalNumber in [SIGINT, SIGTERM] {
            _ = signal(signalNumber) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(SignalTrap.writeEnd, &byte, 1)
            }
        }
        // A parent (a test runner, a CI agent) may have started grove with these blocked;
        // then nothing would ever reach the handler.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)

        Thread.detachNewThread {
            var count = 0
            var byte: UInt8 = 0
            while true {
                let got = read(readEnd, &byte, 1)
                if got == 1 {
                    count += 1
                    handler(Int32(byte), count)
                } else if got < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
