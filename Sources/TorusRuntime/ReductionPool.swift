import Foundation
import Synchronization
import TorusCore

/// Worker threads that reduce for the executor, OpenMP style: each reduction is cut into
/// contiguous parts whose boundaries fall on 64-byte lines (static schedule: part i covers elements
/// [i·n/P, (i+1)·n/P) rounded to a line), and any idle worker — or the executor's thread while it
/// waits — claims the next part with one atomic increment (no lock per part). Workers spin briefly
/// for new work, then park on a condition (no busy core while idle). Made once per process and
/// shared by every communicator's `PoolReductionEngine`.
///
/// Pinning is the caller's: `pin(worker)` runs first on each worker thread (the MPI layer binds
/// with hwloc there).
// @unchecked Sendable: `queue` and `stopping` are guarded by `condition`; jobs synchronise through their atomics.
public final class ReductionPool: @unchecked Sendable {
    /// Worker threads (the executor's thread helps too while it waits).
    public let workers: Int
    /// Reductions smaller than this many bytes run on the submitting thread: waking a worker costs more.
    public let inlineBelowBytes: Int
    private let condition = NSCondition()
    private var queue: [ReductionJob] = []
    private var stopping = false
    /// Bumped on every submission: spinning workers watch it instead of taking the lock.
    private let submissions = Atomic<Int>(0)
    private var threads: [Thread] = []
    private let running = DispatchGroup()

    /// Starts `workers` threads (at least 1). `pin` runs on each worker before it takes work.
    public init(workers: Int, inlineBelowBytes: Int = 64 << 10, pin: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.workers = max(1, workers)
        self.inlineBelowBytes = inlineBelowBytes
        for w in 0..<self.workers {
            running.enter()
            // The threads keep the pool alive until `shutdown`.
            let thread = Thread { [self] in
                pin(w)
                self.work()
                self.running.leave()
            }
            thread.name = "torus-reduce-\(w)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Stops the workers once the queue is empty and waits for them; the pool is unusable after.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        running.wait()
    }

    /// Queues a reduction; returns at once.
    func submit(_ job: ReductionJob) {
        condition.lock()
        queue.append(job)
        submissions.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        var seen = submissions.load(ordering: .acquiring)
        while true {
            // Spin a little (~20 µs) for new work before parking.
            var spins = 0
            while spins < 2000 && submissions.load(ordering: .acquiring) == seen {
                spins += 1
                if spins % 64 == 0 { sched_yield() }
            }
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                return
            }
            let job = queue[0]
            seen = submissions.load(ordering: .acquiring)
            condition.unlock()
            job.runParts()
            if job.allClaimed {
                condition.lock()
                if let i = queue.firstIndex(where: { $0 === job }) { queue.remove(at: i) }
                condition.unlock()
            }
        }
    }
}

/// One reduction `dst = a op b` cut into parts.
// @unchecked Sendable: the buffers are the executor's, untouched by it until `isDone`; parts are disjoint.
final class ReductionJob: @unchecked Sendable {
    let kernel: ReductionKernel
    let dst: UnsafeMutableRawPointer
    let a: UnsafeRawPointer
    let b: UnsafeRawPointer
    let count: Int
    let parts: Int
    private let next = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    init(kernel: ReductionKernel, dst: UnsafeMutableRawPointer, a: UnsafeRawPointer, b: UnsafeRawPointer, count: Int, parts: Int) {
        self.kernel = kernel
        self.dst = dst
        self.a = a
        self.b = b
        self.count = count
        self.parts = max(1, parts)
    }

    /// Elements [start, end) of part `i`: equal shares, boundaries rounded down to a 64-byte line.
    func range(_ i: Int) -> Range<Int> {
        let line = max(1, 64 / kernel.type.size)
        func boundary(_ k: Int) -> Int { k == parts ? count : (count * k / parts) / line * line }
        return boundary(i)..<boundary(i + 1)
    }

    /// Claims and reduces parts until none is left.
    func runParts() {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            guard i < parts else { return }
            let r = range(i)
            if !r.isEmpty {
                let offset = r.lowerBound * kernel.type.size
                kernel.combine(into: dst + offset, a + offset, b + offset, count: r.count)
            }
            finished.add(1, ordering: .releasing)
        }
    }

    var allClaimed: Bool { next.load(ordering: .relaxed) >= parts }
    var isDone: Bool { finished.load(ordering: .acquiring) == parts }
}

/// A `ReductionEngine` over a `ReductionPool`: reductions run on the pool's workers while the
/// executor keeps driving communication; the executor's thread joins in when it has to wait.
/// One engine per communicator (its tickets are the executor's), the pool shared.
public final class PoolReductionEngine: ReductionEngine {
    public let pool: ReductionPool
    private var jobs: [Int: ReductionJob] = [:]
    private var nextTicket = 0

    public init(pool: ReductionPool) {
        self.pool = pool
    }

    public func submit(_ kernel: ReductionKernel, into dst: UnsafeMutableRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer,
                       count: Int) -> ReductionTicket {
        let bytes = count * kernel.type.size
        guard bytes >= pool.inlineBelowBytes else {
            kernel.combine(into: dst, a, b, count: count)
            return ReductionTicket(id: 0)
        }
        // One part per worker, and one for the executor's thread when it waits; no part under 16 KiB.
        let parts = min(pool.workers + 1, max(1, bytes / (16 << 10)))
        let job = ReductionJob(kernel: kernel, dst: dst, a: a, b: b, count: count, parts: parts)
        nextTicket += 1
        jobs[nextTicket] = job
        pool.submit(job)
        return ReductionTicket(id: nextTicket)
    }

    /// Done yet? The executor polls while it has nothing else to do, so a poll also reduces any
    /// part no worker has claimed, and yields the core when workers still hold parts: workers that
    /// share the executor's core (no free core, as on a 2-core machine with 2 ranks) would
    /// otherwise wait for a timeslice while the executor spins.
    public func poll(_ ticket: ReductionTicket) -> Bool {
        guard let job = jobs[ticket.id] else { return true }
        if !job.isDone {
            job.runParts()
            if !job.isDone {
                sched_yield()
                return false
            }
        }
        jobs[ticket.id] = nil
        return true
    }

    public func wait(_ ticket: ReductionTicket) {
        guard let job = jobs[ticket.id] else { return }
        job.runParts()
        while !job.isDone { sched_yield() }
        jobs[ticket.id] = nil
    }
}
