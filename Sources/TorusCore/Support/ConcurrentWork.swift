import Foundation

/// A value shared by the iterations of one `concurrentPerform`, each touching only its own part of
/// the memory it refers to.
// @unchecked Sendable: iterations write disjoint elements, and the caller reads them only after all finished.
public struct DisjointAccess<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// `body(i)` for every i in 0..<count, on all cores; the results in order of i.
public func concurrentMap<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { buffer in
        let out = DisjointAccess(buffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: count) { i in out.value[i] = body(i) }
    }
    return results.map { $0! }
}
