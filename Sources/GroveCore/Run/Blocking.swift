import Foundation

/// Runs blocking work — libgit2 calls, file copies — on grove's own threads. Not on the
/// cooperative pool, and not on Dispatch's global queues either: on Linux the cooperative pool
/// *is* Dispatch's pool, limited to one thread per core, so blocking work there (measured: 32
/// worktree adds waiting on the worktree lock) stalls every task's continuation until it is done.
/// Each call runs on one thread from start to end, which is what libgit2's objects need.
enum Blocking {
    private static let pool = ThreadPool(limit: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))
    /// Clones and fetches wait on the network, not the CPU: they get threads of their own (their
    /// number is bounded by `--clone-jobs`), so they never hold up worktree preparation.
    private static let transferPool = ThreadPool(limit: 64)

    /// Runs `work` on a pool thread and returns its result (or throws its error).
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(work, on: pool)
    }

    /// Runs a clone or fetch (`work`) on a transfer thread.
    static func transfer<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(work, on: transferPool)
    }

    private static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T, on pool: ThreadPool)
        async throws -> T
    {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// A first-in first-out queue of jobs served by up to `limit` threads, started as needed and
/// kept for the life of the process (grove is a short-lived command).
final class ThreadPool: @unchecked Sendable {
    // @unchecked: `jobs`, `idle` and `threads` are only read and written while `condition` is locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var idle = 0
    private var threads = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let startThread = idle == 0 && threads < limit
        if startThread { threads += 1 } else { condition.signal() }
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in serve() }
            thread.name = "grove.blocking"
            thread.start()
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
