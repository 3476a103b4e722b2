import TorusCore

/// A reduction handed to a `ReductionEngine`.
public struct ReductionTicket: Hashable, Sendable {
    public let id: Int
    public init(id: Int) { self.id = id }
}

/// Where the executor's reductions run. The executor submits `dst = dst op src` and keeps driving
/// communication until the engine reports the reduction done, so an engine with its own threads
/// overlaps summation with transfers; the inline engine simply reduces on the calling thread.
public protocol ReductionEngine: AnyObject {
    /// Starts `dst = a op b` over `count` elements (`a` may be `dst`); the buffers stay valid until
    /// it completes.
    func submit(_ kernel: ReductionKernel, into dst: UnsafeMutableRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer,
                count: Int) -> ReductionTicket
    /// Whether the reduction has completed (a completed ticket is forgotten).
    func poll(_ ticket: ReductionTicket) -> Bool
    /// Blocks until the reduction completes.
    func wait(_ ticket: ReductionTicket)
}

/// Reduces on the calling thread, at submission.
public final class InlineReductionEngine: ReductionEngine {
    public init() {}

    public func submit(_ kernel: ReductionKernel, into dst: UnsafeMutableRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer,
                       count: Int) -> ReductionTicket {
        kernel.combine(into: dst, a, b, count: count)
        return ReductionTicket(id: 0)
    }

    public func poll(_ ticket: ReductionTicket) -> Bool { true }
    public func wait(_ ticket: ReductionTicket) {}
}
