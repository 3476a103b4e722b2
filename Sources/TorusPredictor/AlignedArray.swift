/// A fixed array of plain values on 64-byte boundaries, so a 64-byte element is one cache line.
/// Owns its memory: it lives as long as the object, and raw views of it (`base`) must not outlive it.
final class AlignedArray<T> {
    let base: UnsafeMutablePointer<T>
    let count: Int

    init(repeating value: T, count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        base = raw.bindMemory(to: T.self, capacity: max(1, count))
        base.initialize(repeating: value, count: count)
    }

    init(_ values: [T]) {
        count = values.count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        base = raw.bindMemory(to: T.self, capacity: max(1, count))
        values.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: count) }
    }

    deinit {
        base.deinitialize(count: count)
        UnsafeMutableRawPointer(base).deallocate()
    }
}
