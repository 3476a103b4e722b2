/// One direction of one physical link: leaving `node` along `axis` in `direction`.
public struct DirectedLink: Hashable, Codable, Sendable, CustomStringConvertible {
    public var node: Int
    public var axis: Int
    public var direction: Direction

    public init(node: Int, axis: Int, direction: Direction) {
        self.node = node
        self.axis = axis
        self.direction = direction
    }

    /// `12+X`: node 12, leaving in the + X direction.
    public var description: String { "\(node)\(direction)\(TorusShape.axisName(axis))" }

    /// Dense index among the `nodeCount · axes · 2` directed links of a shape.
    public func index(axisCount: Int) -> Int {
        (node * axisCount + axis) * 2 + (direction == .plus ? 0 : 1)
    }
}

extension TorusShape {
    /// Number of directed links, counting two per node per axis (also on axes of length 1 or 2,
    /// where they are degenerate; counters simply stay at zero or double up there).
    public var directedLinkCount: Int { nodeCount * axisCount * 2 }

    /// The links a message takes from `source` to `destination` under dimension-order routing:
    /// first axis first, each axis the shorter way round (ties the + way). Empty when source equals
    /// destination.
    public func route(from source: Int, to destination: Int) throws -> [DirectedLink] {
        var c = try coordinate(of: source)
        let target = try coordinate(of: destination)
        var links: [DirectedLink] = []
        for axis in 0..<axisCount {
            let d = signedDistance(from: c[axis], to: target[axis], axis: axis)
            let direction: Direction = d >= 0 ? .plus : .minus
            for _ in 0..<abs(d) {
                links.append(DirectedLink(node: unsafeNode(at: c), axis: axis, direction: direction))
                c[axis] = (c[axis] + direction.step + dims[axis]) % dims[axis]
            }
        }
        return links
    }
}
