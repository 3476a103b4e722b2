import Foundation
import Synchronization

/// Where the partitions meet between windows: a barrier, each partition's next event time and
/// progress, and the handovers from each partition to each other (`outboxes[from · n + to]`).
// @unchecked Sendable: slots and outboxes are written by one partition each and read by others only across the barrier (acquire/release).
final class WindowSync: @unchecked Sendable {
    let partitions: Int
    let arrived = Atomic<Int>(0)
    let generation = Atomic<Int>(0)
    let nextTime: AlignedArray<Double>
    let done: AlignedArray<Int>
    let outboxes: AlignedArray<[Handover]>

    init(partitions: Int) {
        self.partitions = partitions
        nextTime = AlignedArray(repeating: 0, count: partitions)
        done = AlignedArray(repeating: 0, count: partitions)
        outboxes = AlignedArray(repeating: [], count: partitions * partitions)
    }

    /// Returns once every partition has called it. Spins (windows are short), then yields the core
    /// to whatever else wants it, then sleeps: a busy machine must not turn the wait into a fight
    /// for cores.
    func wait() {
        let current = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == partitions {
            arrived.store(0, ordering: .relaxed)
            sleepers.lock()
            generation.store(current + 1, ordering: .releasing)
            sleepers.broadcast()
            sleepers.unlock()
            return
        }
        for _ in 0..<WindowSync.spins where generation.load(ordering: .acquiring) != current { return }
        for _ in 0..<WindowSync.yields {
            if generation.load(ordering: .acquiring) != current { return }
            sched_yield()
        }
        sleepers.lock()
        while generation.load(ordering: .acquiring) == current { sleepers.wait() }
        sleepers.unlock()
    }

    static let spins = 4096, yields = 1000
    let sleepers = NSCondition()
}

