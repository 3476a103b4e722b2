/// Dimension-order routing on a shape, one hop at a time: the first axis on which the node and
/// the destination differ, the shorter way round (a tie goes the + way). The one routing function
/// of the project: `TorusShape.route`, the simulated torus and the predictor all use it.
public struct DimensionOrderRouting: Sendable {
    public let shape: TorusShape
    /// `strides[a]`: how far apart in node index two nodes one step apart on axis `a` are.
    public let strides: [Int]

    public init(_ shape: TorusShape) {
        self.shape = shape
        var s = 1
        var strides: [Int] = []
        for d in shape.dims { strides.append(s); s *= d }
        self.strides = strides
    }

    /// The next node on the route from `node` to `destination` (which differ), and the dense index
    /// (`DirectedLink.index`) of the directed link to it.
    @inlinable
    public func nextHop(from node: Int, to destination: Int) -> (link: Int, next: Int) {
        let dims = shape.dims, axes = dims.count
        for a in 0 ..< axes {
            let c = (node / strides[a]) % dims[a], t = (destination / strides[a]) % dims[a]
            guard c != t else { continue }
            let step = shape.signedDistance(from: c, to: t, axis: a) > 0 ? 1 : -1
            let next = (c + step + dims[a]) % dims[a]
            return ((node * axes + a) * 2 + (step > 0 ? 0 : 1), node + (next - c) * strides[a])
        }
        preconditionFailure("nextHop from a node to itself")
    }
}

extension TorusShape {
    /// The bus-bandwidth bound of DESIGN §1 for an AllReduce on this shape with full-duplex links of
    /// `linkBandwidth` bytes/s per direction: one link bandwidth per directed link a node drives —
    /// two on an axis longer than 2, one on an axis of length 2 (both neighbours are one node, and
    /// routing sends ties the + way), none on an axis of length 1. 6β on a 3D torus.
    public func busBandwidthBound(linkBandwidth: Double) -> Double {
        Double(directedLinksPerNode) * linkBandwidth
    }

    /// The directed links a node can drive at once: two on an axis longer than 2, one on an axis of
    /// length 2 (both neighbours are one node, and routing sends ties the + way), none on an axis
    /// of length 1. The bound above and the cost estimates count links this way.
    public var directedLinksPerNode: Int { dims.reduce(0) { $0 + ($1 > 2 ? 2 : $1 == 2 ? 1 : 0) } }
}
