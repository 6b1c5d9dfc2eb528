import Foundation

/// Why the state store refused a request, phrased so the user knows what to do next.
public enum StateError: Error, LocalizedError, Equatable {
    case noSuchRun(Int)
    case noSuchTask(run: Int, name: String)
    case noRuns
    case newerSchema(path: String)
    case runNumberTaken(Int)

    public var errorDescription: String? {
        switch self {
        case .noSuchRun(let number):
            return "there is no run \(number): `grove status` lists the latest run"
        case .noSuchTask(let run, let name):
            return "run \(run) has no task named '\(name)': `grove status \(run)` lists its tasks"
        case .noRuns:
            return "no run yet: start one with `grove run`"
        case .runNumberTaken(let number):
            return "another grove started run \(number) at the same time; start this run again"
        case .newerSchema(let path):
            return "\(path) was written by a newer grove: upgrade grove to read it"
        }
    }
}
