import Synchronization

/// `GROVE_SLOT` values: the lowest free number in `0..<count`, so slots stay small and reusable (ports).
final class SlotPool: Sendable {
    private let free: Mutex<Set<Int>>

    init(count: Int) {
        free = Mutex(Set(0..<max(1, count)))
    }

    /// The lowest free slot. The scheduler never runs more than `count` tasks, so one is always free.
    func take() -> Int {
        free.withLock { free in
            let slot = free.min() ?? 0
            free.remove(slot)
            return slot
        }
    }

    func give(back slot: Int) {
        _ = free.withLock { $0.insert(slot) }
    }
}
