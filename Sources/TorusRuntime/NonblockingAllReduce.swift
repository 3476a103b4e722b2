import Foundation
import Synchronization
import TorusCore
import TorusSchedules

/// Work a nonblocking request does in rounds (`AllReduceRequest`'s stages): a schedule run, the
/// `TORUS_CHECK` agreement, a call handed to the backend's library.
public protocol RequestStage: AnyObject {
    /// One round that never blocks; true once over. After an error nothing touches the caller's
    /// buffers any more.
    func advance() throws -> Bool
}

extension PendingRun: RequestStage {}

/// Makes a request's next stage when the one before it is over; nil when its work was done at once.
public typealias RequestStageStart = () throws -> RequestStage?

/// Stages run one after another, each made when the one before it is over; the first error ends
/// them. A request's work, and itself a stage (the drop-in runs a call's stages once its
/// communicator is set up).
public final class StageSequence: RequestStage {
    private var stages: [RequestStageStart]
    private var next = 0
    private var current: RequestStage?

    public init(_ stages: [RequestStageStart]) {
        self.stages = stages
    }

    public func advance() throws -> Bool {
        while true {
            if current == nil {
                guard next < stages.count else {
                    stages = []
                    return true
                }
                next += 1
                current = try stages[next - 1]()
                continue
            }
            guard try current!.advance() else { return false }
            current = nil
        }
    }
}

/// A nonblocking AllReduce (`Communicator.iAllReduce`): `test` and `wait` as MPI_Test and MPI_Wait.
///
/// Requests run in the process's `ProgressEngine`: on its own progress thread where the backend
/// allows another thread to communicate (MPI_THREAD_MULTIPLE; always on the simulated torus), so
/// the application computes meanwhile; otherwise inside `test` and `wait`, which then move every
/// request of the process forward (never a hang, only no overlap). Requests on one communicator
/// run in the order they were started (as MPI orders collectives); requests on different
/// communicators run side by side, so they may be waited for in any order.
///
/// A request is a sequence of stages, each started when the one before it is over and the request
/// is at the head of its communicator's queue; the first error ends it.
public final class AllReduceRequest: @unchecked Sendable {   // state guarded by the engine's lock
    /// What its queue belongs to — its communicator (or, in the drop-in, a communicator's
    /// set-up) — kept alive while the request runs: its stages refer to it unowned.
    let owner: AnyObject
    let key: ObjectIdentifier
    private var stages: StageSequence?
    fileprivate(set) var finished = false
    fileprivate(set) var error: Error?
    /// Called once, on the thread that finished the request (the drop-in completes an MPI
    /// generalized request here).
    var onFinish: (@Sendable (Error?) -> Void)?

    init(owner: AnyObject, stages: [RequestStageStart]) {
        self.owner = owner
        key = ObjectIdentifier(owner)
        self.stages = StageSequence(stages)
    }

    /// One round; true when over. Called with the engine's lock held.
    fileprivate func advance() -> Bool {
        guard !finished else { return true }
        do {
            finished = try stages!.advance()
        } catch {
            self.error = error
            finished = true
        }
        if finished {
            stages = nil
            onFinish?(error)
        }
        return finished
    }

    /// Whether the AllReduce is over; rethrows its error once over.
    /// The error of a request that is over and failed.
    public var failure: Error? { ProgressEngine.shared.isFinished(self) ? error : nil }

    /// Whether the request is over, without moving anything forward.
    public var isFinished: Bool { ProgressEngine.shared.isFinished(self) }

    public func test() throws -> Bool {
        let over = ProgressEngine.shared.test(self)
        if over, let error { throw error }
        return over
    }

    /// Blocks until the AllReduce is over; rethrows its error.
    public func wait() throws {
        ProgressEngine.shared.wait(self)
        if let error { throw error }
    }
}

/// The process's progress for nonblocking collectives: a FIFO of requests per communicator, the
/// head of each advanced in turn, by a progress thread (the assistant-core pattern) or by the
/// application's `test`/`wait`.
public final class ProgressEngine: @unchecked Sendable {   // all state behind `condition`
    public static let shared = ProgressEngine()

    private let condition = NSCondition()
    private var queues: [ObjectIdentifier: [AllReduceRequest]] = [:]
    /// Requests queued or running in the process: a blocking call checks it without the lock.
    private let queued = Atomic<Int>(0)
    private var order: [ObjectIdentifier] = []
    private var thread: Thread?
    /// Runs first on the progress thread (the MPI layer pins it there). A lock of its own: it is
    /// set while a communicator is made, which may happen in a request's stage, under `condition`.
    private let pin = Mutex<@Sendable () -> Void>({})

    /// Sets what runs first on the progress thread; no effect once the thread has started.
    public func setPin(_ body: @escaping @Sendable () -> Void) {
        pin.withLock { $0 = body }
    }

    /// Queues a request of `stages` behind the requests of `key`'s queue (a communicator, or what
    /// stands for one until it exists); starts the progress thread on first use if `threaded`.
    public func start(_ stages: [RequestStageStart], key: AnyObject, threaded: Bool,
                      onFinish: (@Sendable (Error?) -> Void)? = nil) -> AllReduceRequest {
        let request = AllReduceRequest(owner: key, stages: stages)
        request.onFinish = onFinish
        submit(request, threaded: threaded)
        return request
    }

    private func submit(_ request: AllReduceRequest, threaded: Bool) {
        condition.lock()
        if queues[request.key] == nil { order.append(request.key) }
        queues[request.key, default: []].append(request)
        queued.add(1, ordering: .releasing)
        if threaded && thread == nil {
            let pin = self.pin.withLock { $0 }
            let t = Thread { [self] in
                pin()
                loop()
            }
            t.name = "torus-progress"
            t.stackSize = 1 << 20
            thread = t
            t.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Whether requests of `key`'s queue (a communicator) are queued or running.
    public func hasPending(_ key: AnyObject) -> Bool {
        guard queued.load(ordering: .acquiring) > 0 else { return false }
        condition.lock()
        defer { condition.unlock() }
        return !(queues[ObjectIdentifier(key)]?.isEmpty ?? true)
    }

    /// Advances the head of every queue once; true if any request finished. Lock held.
    private func round() -> Bool {
        var any = false
        for key in order {
            guard let head = queues[key]?.first else { continue }
            if head.advance() {
                queues[key]!.removeFirst()
                queued.subtract(1, ordering: .releasing)
                any = true
            }
        }
        for key in order where queues[key]?.isEmpty ?? true { queues[key] = nil }
        order.removeAll { queues[$0] == nil }
        if any { condition.broadcast() }
        return any
    }

    private var isIdle: Bool { queues.isEmpty }

    private func loop() {
        condition.lock()
        var idleRounds = 0
        while true {
            while isIdle { condition.wait() }
            let moved = round()
            idleRounds = moved ? 0 : idleRounds + 1
            // Let the application in between rounds; yield the core only when rounds stop moving
            // (on a shared core the application computes meanwhile).
            condition.unlock()
            if idleRounds >= 64 {
                sched_yield()
                idleRounds = 0
            }
            condition.lock()
        }
    }

    /// Blocks until every request of `key`'s queue is over (a blocking collective on a
    /// communicator comes after them).
    public func drain(_ key: AnyObject) {
        let key = ObjectIdentifier(key)
        block(until: { queues[key] == nil })
    }

    /// Blocks until every request of the process is over (the drop-in, as MPI finalises: a
    /// correct program has completed its own, and the library's last ones free communicators).
    public func drainAll() {
        block(until: { queues.isEmpty })
    }

    /// Where no progress thread runs the requests: advances them until `done`, something a
    /// request's stage sets on the way (read with the engine's lock held). With the thread, the
    /// caller waits for that on its own.
    public func advance(until done: () -> Bool) {
        block(until: done)
    }

    /// Blocks until `done` (read with the lock held): asleep while the progress thread works, or
    /// advancing every request itself where there is none.
    private func block(until done: () -> Bool) {
        condition.lock()
        while !done() {
            if thread == nil {
                _ = round()
                if done() { break }
                condition.unlock()
                sched_yield()
                condition.lock()
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    fileprivate func isFinished(_ request: AllReduceRequest) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return request.finished
    }

    fileprivate func test(_ request: AllReduceRequest) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if !request.finished && thread == nil { _ = round() }
        return request.finished
    }

    fileprivate func wait(_ request: AllReduceRequest) {
        block(until: { request.finished })
    }
}

extension Communicator {
    /// Starts AllReduce without waiting: as `allReduce`, and the buffers must stay untouched until
    /// the request is over. Every rank must start the same requests on a communicator in the same
    /// order. Calls the blocking path would give to the backend's library run a schedule instead
    /// (`fallbackAlgorithm`), so that every request progresses in the engine.
    ///
    /// `TORUS_CHECK` (`options.check`): the request's first stage exchanges the call's arguments
    /// with every rank, point-to-point, and fails on every rank if they differ, before any data
    /// moves. `TORUS_NAN_CHECK` (`options.nanCheck`): the input is scanned here, the result when
    /// the request is over.
    ///
    /// `onFinish` runs once, on the thread that finishes the request, with its error if any.
    public func iAllReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                           type: ElementType, op: ReduceOp, algorithm: Algorithm? = nil,
                           onFinish: (@Sendable (Error?) -> Void)? = nil) throws -> AllReduceRequest {
        startRequest(try allReduceStages(sendBuffer, recvBuffer, count: count, type: type, op: op, algorithm: algorithm).stages,
                     onFinish: onFinish)
    }

    /// The stages of `iAllReduce`'s request (the drop-in adds its own checks around them), and
    /// the call's description for stall reports.
    public func allReduceStages(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                                type: ElementType, op: ReduceOp, algorithm: Algorithm? = nil) throws -> (stages: [RequestStageStart], call: StalledCall) {
        let kernel = try ReductionKernel(type: type, op: op)
        guard count >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(count)", expected: "a non-negative element count")
        }
        try checkUsable()
        let call = calls.next()
        let chosen: Algorithm
        if case let .schedule(a) = chooseRoute(count: count, type: type, forced: algorithm) { chosen = a } else {
            chosen = fallbackAlgorithm(count: count, type: type, op: op)
        }
        let arguments = CallArguments(count: count, type: type, op: op, route: .schedule(chosen),
                                      inPlace: sendBuffer == nil || sendBuffer == UnsafeRawPointer(recvBuffer))
        let stalled = StalledCall(call: call, route: chosen.rawValue, arguments: arguments)
        var stages: [RequestStageStart] = []
        if options.check && size > 1 { stages.append(agreementStage(arguments.record, stalled: stalled)) }
        if options.nanCheck { reportNonFinite(sendBuffer ?? UnsafeRawPointer(recvBuffer), count: count, type: type, call: call, what: "input") }
        var executor = ScheduleExecutor(options: options.executor)
        // TORUS_TIMEOUT: the stall watch reports (and may end the job) as for a blocking call.
        if options.executor.stallSeconds > 0 {
            executor.onStall = { [unowned self] stall in try self.reportStall(stall, in: stalled) }
        }
        let (rank, size, topology) = (rank, size, topology)
        stages.append { [unowned self] in
            guard size > 1 else {
                if let sendBuffer, sendBuffer != UnsafeRawPointer(recvBuffer) {
                    ByteCopy.copy(to: recvBuffer, from: sendBuffer, count: count * type.size)
                }
                return nil
            }
            // The communicator's scratch: only the head of its queue runs, and blocking calls wait for the queue.
            return try executor.start(chosen, count: count, build: { try chosen.schedule(topology: topology, rank: rank, count: count) },
                                      data: recvBuffer, input: sendBuffer, kernel: kernel, transport: self.transport,
                                      engine: self.reductionEngine, scratch: self.scratch)
        }
        if options.nanCheck {
            stages.append { [unowned self] in
                self.reportNonFinite(UnsafeRawPointer(recvBuffer), count: count, type: type, call: call, what: "result")
                return nil
            }
        }
        return (stages, stalled)
    }

    /// `TORUS_CHECK`'s stage of a nonblocking call: every rank's `record` (five integers, as
    /// `CallArguments.record`) exchanged and compared, under the stall watch.
    public func agreementStage(_ record: [Int64], stalled: StalledCall) -> RequestStageStart {
        var detail = stalled
        detail.stage = "in the TORUS_CHECK exchange of the call's arguments before it"
        let onStall: ((ExecutorStall) throws -> Void)? = options.executor.stallSeconds > 0
            ? { [unowned self] stall in try self.reportStall(stall, in: detail) } : nil
        let (transport, seconds) = (transport, options.executor.stallSeconds)
        return { ArgumentAgreement(record: record, transport: transport, stallSeconds: seconds, onStall: onStall) }
    }

    /// Queues a request of `stages` on this communicator (after the requests already on it).
    public func startRequest(_ stages: [RequestStageStart], onFinish: (@Sendable (Error?) -> Void)? = nil) -> AllReduceRequest {
        ProgressEngine.shared.start(stages, key: self, threaded: progressThreadAllowed, onFinish: onFinish)
    }
}
