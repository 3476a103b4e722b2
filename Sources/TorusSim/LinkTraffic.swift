import TorusCore

/// Bytes and messages that crossed each directed link of a simulated torus, and the hop count of
/// every message (dimension-order routes, the shorter way round).
public struct LinkTraffic: Sendable {
    public let shape: TorusShape
    /// Indexed by `DirectedLink.index(axisCount:)`.
    public internal(set) var bytes: [Int]
    public internal(set) var messages: [Int]
    /// `hopHistogram[h]`: messages that took h hops.
    public internal(set) var hopHistogram: [Int]

    init(shape: TorusShape) {
        self.shape = shape
        bytes = Array(repeating: 0, count: shape.directedLinkCount)
        messages = Array(repeating: 0, count: shape.directedLinkCount)
        hopHistogram = []
    }

    mutating func record(route: [DirectedLink], bytes n: Int) {
        for link in route {
            let i = link.index(axisCount: shape.axisCount)
            bytes[i] += n
            messages[i] += 1
        }
        while hopHistogram.count <= route.count { hopHistogram.append(0) }
        hopHistogram[route.count] += 1
    }

    /// Bytes that left `node` on `axis` in `direction`.
    public func bytes(node: Int, axis: Int, direction: Direction) -> Int {
        bytes[DirectedLink(node: node, axis: axis, direction: direction).index(axisCount: shape.axisCount)]
    }

    /// The byte counts of the directed links leaving `node`, in the order +X −X +Y −Y +Z −Z.
    public func outgoing(node: Int) -> [Int] {
        (0..<shape.axisCount).flatMap { axis in Direction.allCases.map { bytes(node: node, axis: axis, direction: $0) } }
    }

    /// Messages that crossed more than one link.
    public var multiHopMessages: Int { hopHistogram.dropFirst(2).reduce(0, +) }
    /// The most hops any message took.
    public var maxHops: Int { hopHistogram.lastIndex { $0 > 0 } ?? 0 }
}
