import Foundation
import GroveCore

/// How the reading commands (`status`, `logs`, `report`) reach the state database: they never
/// create the home, they mark a run whose grove died as interrupted first (so it does not read
/// as running forever), and they turn "nothing there" into a message that says what to do.
enum StoredRuns {
    /// The home's state store; `badInput` when grove has never run there.
    static func existingStore(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> StateStore
    {
        let home: GroveHome
        do {
            home = try GroveHome.resolve(environment: environment)
        } catch {
            throw CommandFailure.badInput(error.localizedDescription)
        }
        let store: StateStore?
        do {
            store = try StateStore.existing(home: home)
        } catch {
            throw CommandFailure("cannot read \(home.database): \(error.localizedDescription)")
        }
        guard let store else {
            throw CommandFailure.badInput("no run yet in \(home.path): start one with `grove run`")
        }
        // Failing to write this (a read-only home) must not stop the reading itself.
        _ = try? store.markInterrupted()
        return store
    }

    /// Run `number`, or the latest when nil; `badInput` when there is no such run.
    static func run(_ number: Int?, in store: StateStore) throws -> RunRecord {
        let found =
            if let number {
                try store.run(number: number)
            } else {
                try store.latestRun()
            }
        guard let found else {
            throw CommandFailure.badInput(
                (number.map { StateError.noSuchRun($0) } ?? StateError.noRuns).localizedDescription)
        }
        return found
    }
}
