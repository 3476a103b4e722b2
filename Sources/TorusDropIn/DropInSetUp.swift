import Foundation
import CMPI
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSchedules

/// The set-up of a communicator whose first call the library takes is nonblocking (an
/// `MPI_Iallreduce` under MPI_THREAD_MULTIPLE, a `torus_iallreduce` at any level). The blocking
/// set-up (`MPICommunicator.privateCopy`) would wait there for the other ranks, and a correct
/// program may start its first requests on two communicators in different orders on different
/// ranks (rank 0 on A then B, rank 1 on B then A): each rank would wait in one set-up for ranks
/// waiting in the other. So the call only starts `MPI_Comm_idup`, and the rest of the set-up runs
/// in rounds (`MPICommunicator.CopyInRounds`) as the first request of its own queue in the progress
/// engine — on the progress thread under MPI_THREAD_MULTIPLE, else in the application's `test` and
/// `wait` — and the requests started meanwhile queue behind it (`AfterSetUp`), in order.
/// The C side swaps this for the `DropInState` once the set-up is over and its requests are
/// (`torus_swift_setup_finish`). A failed set-up stays failed: every later call on the
/// communicator fails with its error, alike on every rank.
final class PendingSetUp: @unchecked Sendable {   // `outcome` and `copied` guarded by `condition`
    private let condition = NSCondition()
    private var outcome: Result<DropInState, Error>?
    /// Whether the `MPI_Comm_idup` is over (or failed): the application's communicator may be
    /// freed only then (Open MPI's idup reads it until it completes).
    private var copied = false
    /// The caller's rank in the application's communicator (failures name it).
    let rank: Int
    /// Whether the progress thread runs the set-up and the requests behind it (MPI_THREAD_MULTIPLE).
    let threaded: Bool

    init(_ comm: MPI_Comm, threaded: Bool) throws {
        var r: Int32 = 0
        try mpiCheck(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        rank = Int(r)
        self.threaded = threaded
        let copy = try MPICommunicator.CopyInRounds(of: comm)
        _ = ProgressEngine.shared.start([{ [self] in SetUpStage(copy, for: self) }], key: self, threaded: threaded)
    }

    /// The set-up's stage: advances the copy, and says when the idup and the set-up are over.
    private final class SetUpStage: RequestStage {
        private let copy: MPICommunicator.CopyInRounds
        private unowned let setUp: PendingSetUp

        init(_ copy: MPICommunicator.CopyInRounds, for setUp: PendingSetUp) {
            self.copy = copy
            self.setUp = setUp
        }

        /// Never throws: a failed set-up is its outcome, which the requests behind it report.
        func advance() -> Bool {
            let result: Result<DropInState, Error>?
            do {
                result = try copy.advance().map { .success(DropInState.made($0)) }
            } catch {
                result = .failure(error)
            }
            setUp.condition.lock()
            if copy.copied && !setUp.copied {
                setUp.copied = true
                setUp.condition.broadcast()
            }
            if let result {
                setUp.outcome = result
                setUp.condition.broadcast()
            }
            setUp.condition.unlock()
            return result != nil
        }
    }

    /// The set-up's outcome once it is over; nil before.
    var finished: Result<DropInState, Error>? {
        condition.lock()
        defer { condition.unlock() }
        return outcome
    }

    /// Blocks until the set-up is over, and the requests queued behind it.
    func wait() -> Result<DropInState, Error> {
        ProgressEngine.shared.drain(self)
        return finished!
    }

    /// Blocks until the `MPI_Comm_idup` is over: every rank has started it, and the set-ups
    /// complete it without the applications' help (on the progress thread, or here).
    func waitForCopy() {
        if threaded {
            condition.lock()
            defer { condition.unlock() }
            while !copied { condition.wait() }
        } else {
            ProgressEngine.shared.advance(until: { [self] in
                condition.lock()
                defer { condition.unlock() }
                return copied
            })
        }
    }
}

/// The error a call on a communicator reports when its set-up failed (blocking or not).
func setUpFailure(_ error: Error) -> String { "could not set up the communicator: " + message(of: error) }

/// A request's stage while its communicator's set-up runs: not over until the set-up is, then the
/// call's own stages, made from the state the set-up gave (or its error).
final class AfterSetUp: RequestStage {
    private let setUp: PendingSetUp
    private let make: (DropInState) throws -> [RequestStageStart]
    private var work: StageSequence?

    init(_ setUp: PendingSetUp, make: @escaping (DropInState) throws -> [RequestStageStart]) {
        self.setUp = setUp
        self.make = make
    }

    func advance() throws -> Bool {
        if work == nil {
            guard let outcome = setUp.finished else { return false }
            switch outcome {
            case .success(let state): work = StageSequence(try make(state))
            case .failure(let error): throw TorusError.communication(setUpFailure(error))
            }
        }
        return try work!.advance()
    }
}

@_cdecl("torus_swift_setup_start")
func torusSwiftSetupStart(_ comm: MPI_Comm, _ threaded: Int32, _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> UnsafeMutableRawPointer? {
    do {
        return Unmanaged.passRetained(try PendingSetUp(comm, threaded: threaded != 0)).toOpaque()
    } catch {
        write(setUpFailure(error), to: text, length: length)
        return nil
    }
}

/// 1 and the retained state in `*state` once the set-up is over and the requests started during it
/// are (`wait` non-zero: blocks until then); 0 while not (only without `wait`); −1 and the
/// message if the set-up failed.
@_cdecl("torus_swift_setup_finish")
func torusSwiftSetupFinish(_ pending: UnsafeMutableRawPointer, _ wait: Int32, _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                           _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    let setUp = Unmanaged<PendingSetUp>.fromOpaque(pending).takeUnretainedValue()
    guard let outcome = wait != 0 ? setUp.wait() : setUp.finished else { return 0 }
    switch outcome {
    case .failure(let error):
        write(setUpFailure(error), to: text, length: length)
        return -1
    case .success(let made):
        // `wait` drained the set-up's queue already.
        if wait == 0 && ProgressEngine.shared.hasPending(setUp) { return 0 }
        state.pointee = Unmanaged.passRetained(made).toOpaque()
        return 1
    }
}

@_cdecl("torus_swift_setup_await_copy")
func torusSwiftSetupAwaitCopy(_ pending: UnsafeMutableRawPointer) {
    let setUp = Unmanaged<PendingSetUp>.fromOpaque(pending).takeUnretainedValue()
    if setUp.threaded { setUp.waitForCopy() }
}

@_cdecl("torus_swift_setup_release")
func torusSwiftSetupRelease(_ pending: UnsafeMutableRawPointer) {
    Unmanaged<PendingSetUp>.fromOpaque(pending).release()
}

/// The same for a communicator whose set-up a nonblocking call started: waits for its
/// `MPI_Comm_idup` (which reads the communicator being freed), then its copy is freed once the
/// set-up and the requests queued behind it are over.
@_cdecl("torus_swift_setup_abandon")
func torusSwiftSetupAbandon(_ pending: UnsafeMutableRawPointer) {
    let setUp = Unmanaged<PendingSetUp>.fromOpaque(pending).takeUnretainedValue()
    setUp.waitForCopy()
    // The set-up's queue holds every request on the copy so far, and this stage runs last in it.
    _ = ProgressEngine.shared.start([{ AfterSetUp(setUp) { state in [{ state.communicator.freeNow(); return nil }] } }], key: setUp,
                                    threaded: setUp.threaded)
}
