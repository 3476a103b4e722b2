import Foundation
import TorusCore
import TorusSchedules

/// Payload mode's buffers: each rank's data and scratch, 64-byte aligned. A partition writes only
/// the buffers of its own ranks.
// @unchecked Sendable: each rank's buffers are written only by the partition (thread) that owns the rank.
final class PayloadBuffers: @unchecked Sendable {
    let data: [UnsafeMutableRawBufferPointer]
    let scratch: [UnsafeMutableRawBufferPointer]

    /// Every rank's inputs and zeroed scratch, built on all cores.
    init(type: ElementType, op: ReduceOp, ranks: [Int32], count: Int, scratchCounts: [Int]) {
        func allocate(_ bytes: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64), count: bytes)
        }
        let data = ranks.map { _ in allocate(count * type.size) }
        let scratch = scratchCounts.map { allocate($0 * type.size) }
        let buffers = DisjointAccess((data, scratch))
        DispatchQueue.concurrentPerform(iterations: ranks.count) { g in
            let (data, scratch) = buffers.value
            VerifiableInputs.fill(data[g], type: type, op: op, rank: Int(ranks[g]))
            if scratch[g].count > 0 { scratch[g].baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: scratch[g].count) }
        }
        self.data = data
        self.scratch = scratch
    }

    deinit {
        for b in data + scratch { b.baseAddress!.deallocate() }
    }

    @inline(__always) func pointer(rank g: Int, _ span: ElementSpan, elementSize: Int) -> UnsafeMutableRawPointer {
        (span.isScratch ? scratch[g] : data[g]).baseAddress! + span.offset * elementSize
    }
}

/// Payload mode: the data a partition moves for its ranks.
extension Partition {
    func read(rank g: Int, at span: ElementSpan) -> [UInt8] {
        let from = run.payload!.pointer(rank: g, span, elementSize: elementSize)
        return Array(UnsafeRawBufferPointer(start: from, count: span.count * elementSize))
    }

    func write(_ bytes: [UInt8], rank g: Int, at span: ElementSpan) {
        guard !bytes.isEmpty else { return }
        let to = run.payload!.pointer(rank: g, span, elementSize: elementSize)
        bytes.withUnsafeBytes { to.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Copies a span of rank `src` to a span of rank `dst` (data or scratch).
    func copy(from src: Int, _ a: ElementSpan, to dst: Int, _ b: ElementSpan) {
        let buffers = run.payload!
        ByteCopy.copy(to: buffers.pointer(rank: dst, b, elementSize: elementSize), from: buffers.pointer(rank: src, a, elementSize: elementSize),
                      count: a.count * elementSize)
    }

    /// target = target op source (or, `sourceFirst`, source op target), both spans of rank g (the
    /// target in data, the source in data or scratch).
    func combine(rank g: Int, target: ElementSpan, source: ElementSpan, sourceFirst: Bool = false) {
        let buffers = run.payload!
        let into = buffers.pointer(rank: g, target, elementSize: elementSize)
        let other = UnsafeRawPointer(buffers.pointer(rank: g, source, elementSize: elementSize))
        if sourceFirst {
            run.kernel.combine(into: into, other, UnsafeRawPointer(into), count: target.count)
        } else {
            run.kernel.accumulate(into: into, other, count: target.count)
        }
    }
}
