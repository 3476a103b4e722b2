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

    /// The link with dense index `index` (`index(axisCount:)` inverted).
    public init(index: Int, axisCount: Int) {
        self.init(node: index / (2 * axisCount), axis: (index / 2) % axisCount, direction: index % 2 == 0 ? .plus : .minus)
    }

    /// Dense index among the `nodeCount · axes · 2` directed links of a shape.
    public func index(axisCount: Int) -> Int {
        (node * axisCount + axis) * 2 + (direction == .plus ? 0 : 1)
    }
}

extension TorusShape {
    /// Number of directed links, counting two per node per axis (also on axes of length 1 or 2,
    /// where they are degenerate; counters simply stay at zero or double up there).
    public var directedLinkCount: Int { nodeCount * axisCount * 2 }

    /// The links a message takes from `source` to `destination` under dimension-order routing
    /// (`DimensionOrderRouting`). Empty when source equals destination.
    public func route(from source: Int, to destination: Int) throws -> [DirectedLink] {
        _ = try coordinate(of: source)
        _ = try coordinate(of: destination)
        let routing = DimensionOrderRouting(self)
        var links: [DirectedLink] = []
        var node = source
        while node != destination {
            let hop = routing.nextHop(from: node, to: destination)
            links.append(DirectedLink(index: hop.link, axisCount: axisCount))
            node = hop.next
        }
        return links
    }
}
