import Foundation
import GroveCore

/// How the commands reach the state database: they never create the home, a run whose grove
/// died reads as interrupted (so it does not read as running forever), and "nothing there" becomes
/// a message that says what to do. The reading commands (`status`, `logs`, `report`) open it with
/// `reader`, which never writes; the others with `existingStore`.
enum StoredRuns {
    /// The home's state, opened read-only (`StateStore.reader`); `badInput` when grove has never run there.
    static func reader(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StateStore {
        let home = try resolveHome(environment: environment)
        let store: StateStore?
        do {
            store = try StateStore.reader(home: home)
        } catch {
            throw CommandFailure("cannot read \(home.database): \(error.localizedDescription)")
        }
        guard let store else { throw noRunYet(home) }
        return store
    }

    /// The home's state store, for commands that write it; `badInput` when grove has never run there.
    /// A run whose grove died is marked interrupted first.
    static func existingStore(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> StateStore
    {
        let home = try resolveHome(environment: environment)
        let store: StateStore?
        do {
            store = try StateStore.existing(home: home)
        } catch {
            throw CommandFailure("cannot read \(home.database): \(error.localizedDescription)")
        }
        guard let store else { throw noRunYet(home) }
        // Failing to write this (a read-only home) must not stop the reading itself.
        _ = try? store.markInterrupted()
        return store
    }

    private static func resolveHome(environment: [String: String]) throws -> GroveHome {
        do {
            return try GroveHome.resolve(environment: environment)
        } catch {
            throw CommandFailure.badInput(error.localizedDescription)
        }
    }

    private static func noRunYet(_ home: GroveHome) -> CommandFailure {
        CommandFailure.badInput("no run yet in \(home.path): start one with `grove run`")
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
