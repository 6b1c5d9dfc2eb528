import Foundation
import GroveCore

/// How the commands reach the state database: they never create the home, a run whose grove
/// died reads as interrupted (so it does not read as running forever), and "nothing there" becomes
/// a message that says what to do. The reading commands (`status`, `logs`, `report`) open it with
/// `reader`, which never writes; the others with `existingStore`.
enum StoredRuns {
    /// The home's state, opened read-only (`StateStore.reader`); `badInput` when grove has never run there.
    static func reader(home: GroveHome) throws -> StateStore {
        try open(home) { try StateStore.reader(home: $0) }
    }

    /// The home's state store, for commands that write it; `badInput` when grove has never run there.
    /// A run whose grove died is marked interrupted first.
    static func existingStore(home: GroveHome) throws -> StateStore {
        let store = try open(home) { try StateStore.existing(home: $0) }
        // Failing to write this (a read-only home) must not stop the reading itself.
        _ = try? store.markInterrupted()
        return store
    }

    private static func open(_ home: GroveHome, with opener: (GroveHome) throws -> StateStore?) throws -> StateStore {
        let store: StateStore?
        do {
            store = try opener(home)
        } catch {
            throw CommandFailure("cannot read \(home.database): \(error.localizedDescription)")
        }
        guard let store else {
            throw CommandFailure.badInput("no run yet in \(home.path): start one with `grove run`")
        }
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

extension CommandContext {
    /// The state of the home the environment names, read-only: for `status`, `logs`, `report`.
    func reader() throws -> StateStore {
        try StoredRuns.reader(home: home())
    }
}
