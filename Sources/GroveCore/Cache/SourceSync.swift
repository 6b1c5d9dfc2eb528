import Foundation
import GroveBasics
import GroveGit
import Synchronization

/// Brings a run's URL repositories into the clone cache before their tasks start: each distinct
/// repository once, at most `jobs` at a time, in plan order, while tasks of repositories that
/// are ready already run. A task waits for its own repository only, and a repository that
/// cannot be cloned fails its own tasks only.
final class SourceSync: Sendable {
    /// What became of one repository.
    enum Outcome: Sendable, Equatable {
        case ready(RepositoryCache.Synced)
        /// Why it could not be cloned or fetched, one line, without credentials.
        case failed(String)
    }

    private struct State {
        var outcomes: [String: Outcome] = [:]
        var waiters: [String: [CheckedContinuation<Outcome, Never>]] = [:]
    }

    /// The distinct repositories, by cache path, in the order their first task is planned.
    let sources: [RemoteSource]
    private let cache: RepositoryCache
    private let state = Mutex(State())

    init(plan: Plan, cache: RepositoryCache) {
        var seen: Set<String> = []
        sources = plan.tasks.compactMap(\.source).filter { seen.insert($0.cachePath).inserted }
        self.cache = cache
    }

    /// Syncs every repository, `jobs` at once; a stop through `control` cancels transfers under
    /// way and starts no new one. Returns when every repository has an outcome.
    func run(jobs: Int, run: Int, control: RunControl, observer: any RunObserver) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for source in sources {
                if running == max(1, jobs) {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await self.sync(source, run: run, control: control, observer: observer) }
            }
        }
    }

    /// Waits until the repository cloned to `cachePath` has an outcome.
    func outcome(of cachePath: String) async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready: Outcome? = state.withLock { state in
                if let outcome = state.outcomes[cachePath] { return outcome }
                state.waiters[cachePath, default: []].append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func sync(_ source: RemoteSource, run: Int, control: RunControl, observer: any RunObserver) async {
        let display = source.display
        guard !control.isStopping else {
            return settle(source, .failed("not cloned or fetched: the run was stopped"))
        }
        let action: RunEvent.Action = FileManager.default.fileExists(atPath: source.cachePath) ? .fetch : .clone
        observer.handle(.repoSyncing(run: run, repo: display, action: action))
        let clock = ContinuousClock()
        let begun = clock.now
        let throttle = ProgressThrottle(interval: .milliseconds(250))
        let outcome: Outcome
        do {
            let cache = cache
            let synced = try await Blocking.transfer {
                try cache.sync(source) { progress in
                    if throttle.due(
                        final: progress.totalObjects > 0 && progress.receivedObjects == progress.totalObjects)
                    {
                        observer.handle(
                            .repoProgress(
                                run: run, repo: display, receivedObjects: progress.receivedObjects,
                                totalObjects: progress.totalObjects, receivedBytes: progress.receivedBytes))
                    }
                    return !control.isStopping
                }
            }
            outcome = .ready(synced)
        } catch {
            outcome = .failed(Self.describe(error, source: source, stopped: control.isStopping))
        }
        let elapsed = (clock.now - begun).components
        let seconds = ((Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18) * 1000).rounded() / 1000
        let (ended, reason): (SyncOutcome, String?) =
            switch outcome {
            case .ready(let synced): (synced.action.outcome, nil)
            case .failed(let reason): (.failed, reason)
            }
        observer.handle(.repoSynced(run: run, repo: display, outcome: ended, seconds: seconds, reason: reason))
        settle(source, outcome)
    }

    private func settle(_ source: RemoteSource, _ outcome: Outcome) {
        let waiters = state.withLock { state in
            state.outcomes[source.cachePath] = outcome
            return state.waiters.removeValue(forKey: source.cachePath) ?? []
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }

    /// One line naming the repository by its URL without credentials, and what went wrong.
    private static func describe(_ error: any Error, source: RemoteSource, stopped: Bool) -> String {
        if stopped { return "\(source.display): clone or fetch cancelled: the run was stopped" }
        if let remote = error as? RemoteError { return remote.errorDescription ?? "\(remote)" }
        return source.scrub(GroveBasics.describe(error))
    }
}

/// Lets through at most one progress report per `interval`, plus the final one.
final class ProgressThrottle: Sendable {
    private let interval: Duration
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(interval: Duration) {
        self.interval = interval
    }

    func due(final: Bool) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if final || last == nil || now - last! >= interval {
                last = now
                return true
            }
            return false
        }
    }
}
