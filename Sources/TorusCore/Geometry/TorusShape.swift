/// The direction of travel along an axis.
public enum Direction: Int, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case plus = 1
    case minus = -1

    /// The sign as an integer step (+1 or −1).
    public var step: Int { rawValue }
    public var opposite: Direction { self == .plus ? .minus : .plus }
    public var description: String { self == .plus ? "+" : "-" }
}

/// A box of nodes with 1 to `maxAxes` axes, each periodic (torus) or not (mesh).
///
/// Nodes are numbered with the first axis fastest: `index = x + X·(y + Y·z)`. Axis names are
/// X, Y, Z (then A, B, C for a later 6D Tofu fold, which is why axes are stored as arrays).
public struct TorusShape: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The most axes a shape may have (Tofu's XYZABC).
    public static let maxAxes = 6
    /// The most nodes a shape may have (room for every Fugaku node many times over; keeps
    /// index arithmetic and per-node tables within reach).
    public static let maxNodes = 1 << 31

    /// Length of each axis, at least 1.
    public let dims: [Int]
    /// Whether each axis wraps around.
    public let periodic: [Bool]
    /// Number of nodes, the product of `dims`.
    public let nodeCount: Int

    /// A shape with the given axis lengths, all axes periodic unless `periodic` says otherwise.
    public init(_ dims: [Int], periodic: [Bool]? = nil) throws {
        let name = dims.map(String.init).joined(separator: "x")
        guard (1...TorusShape.maxAxes).contains(dims.count) else {
            throw TorusError.invalidShape(name, reason: "a shape has 1 to \(TorusShape.maxAxes) axes, this one has \(dims.count)")
        }
        let periodic = periodic ?? Array(repeating: true, count: dims.count)
        guard periodic.count == dims.count else {
            throw TorusError.invalidShape(name, reason: "\(periodic.count) periodicity flags for \(dims.count) axes")
        }
        var nodes = 1
        for (axis, length) in dims.enumerated() {
            guard length >= 1 else {
                throw TorusError.invalidShape(
                    name, reason: "axis \(TorusShape.axisName(axis)) has length \(length); every axis needs length 1 or more")
            }
            let (product, overflow) = nodes.multipliedReportingOverflow(by: length)
            guard !overflow, product <= TorusShape.maxNodes else {
                throw TorusError.invalidShape(name, reason: "more than \(TorusShape.maxNodes) nodes; use smaller axis lengths")
            }
            nodes = product
        }
        self.dims = dims
        self.periodic = periodic
        self.nodeCount = nodes
    }

    /// Convenience for a 3D torus `x×y×z` (all periodic).
    public init(_ x: Int, _ y: Int, _ z: Int) throws { try self.init([x, y, z]) }

    /// Parses `XxYxZ` (also `X`, `XxY`, up to six axes; `*` or `×` also separate). A trailing `m` on
    /// an axis length (`4mx4x4`) makes that axis a mesh, without wrap-around.
    public init(parsing text: String, name: String = "torus shape") throws {
        let parts = text.lowercased().split(omittingEmptySubsequences: false, whereSeparator: { $0 == "x" || $0 == "*" || $0 == "×" })
        var dims: [Int] = []
        var periodic: [Bool] = []
        for part in parts {
            var digits = Substring(part)
            var wraps = true
            if digits.hasSuffix("m") { digits = digits.dropLast(); wraps = false }
            guard let n = Int(digits) else {
                throw TorusError.invalidValue(
                    name: name, value: text,
                    expected: "axis lengths separated by 'x', such as 4x4x4 or 48x6x48 (a trailing 'm' marks a mesh axis: 4mx4x4)")
            }
            dims.append(n)
            periodic.append(wraps)
        }
        do {
            try self.init(dims, periodic: periodic)
        } catch let TorusError.invalidShape(_, reason) {
            throw TorusError.invalidValue(name: name, value: text, expected: "a shape whose every axis is valid (\(reason))")
        }
    }

    /// The near-cubic three-axis factorisation of `p` nodes, longest axis first: 8 → 2×2×2,
    /// 12 → 3×2×2, 7 → 7×1×1. Among all factorisations it minimises the longest axis, then
    /// maximises the shortest (so rings are short and every axis used).
    public static func nearCubic(_ p: Int) throws -> TorusShape {
        guard p >= 1 else {
            throw TorusError.invalidShape("\(p) nodes", reason: "a torus needs at least one node")
        }
        var best = (p, 1, 1)
        var a = 1
        while a * a * a <= p {
            if p % a == 0 {
                let rest = p / a
                var b = a
                while b * b <= rest {
                    if rest % b == 0 {
                        let c = rest / b  // a ≤ b ≤ c
                        if c < best.0 || (c == best.0 && a > best.2) { best = (c, b, a) }
                    }
                    b += 1
                }
            }
            a += 1
        }
        return try TorusShape([best.0, best.1, best.2])
    }

    /// Number of axes.
    public var axisCount: Int { dims.count }

    /// `4x4x4`, with `m` after mesh axes.
    public var description: String {
        zip(dims, periodic).map { "\($0)\($1 ? "" : "m")" }.joined(separator: "x")
    }

    /// X, Y, Z, A, B, C.
    public static func axisName(_ axis: Int) -> String {
        let names = ["X", "Y", "Z", "A", "B", "C"]
        return axis < names.count ? names[axis] : "axis\(axis)"
    }

    // MARK: Coordinates

    /// The coordinate of a node, first axis first.
    public func coordinate(of node: Int) throws -> [Int] {
        guard (0..<nodeCount).contains(node) else {
            throw TorusError.nodeOutOfRange(node: node, nodeCount: nodeCount)
        }
        return unsafeCoordinate(of: node)
    }

    /// The node at a coordinate; every entry must lie in `0 ..< dims[axis]`.
    public func node(at coordinate: [Int]) throws -> Int {
        guard coordinate.count == dims.count,
              zip(coordinate, dims).allSatisfy({ (0..<$1).contains($0) }) else {
            throw TorusError.coordinateOutOfRange(coordinate: coordinate, shape: description)
        }
        return unsafeNode(at: coordinate)
    }

    /// The coordinate of a node known to be in range (no check: callers hold the invariant).
    @inline(__always)
    public func unsafeCoordinate(of node: Int) -> [Int] {
        var rest = node
        return dims.map { length in
            defer { rest /= length }
            return rest % length
        }
    }

    /// The node at a coordinate known to be in range (index = x + X·(y + Y·z); no check).
    @inline(__always)
    public func unsafeNode(at coordinate: [Int]) -> Int {
        var index = 0
        for axis in stride(from: dims.count - 1, through: 0, by: -1) {
            index = index * dims[axis] + coordinate[axis]
        }
        return index
    }

    /// The node one step along `axis` in `direction`, or nil past the end of a mesh axis.
    /// On an axis of length 1 the neighbour of a node is the node itself.
    public func neighbor(of node: Int, axis: Int, direction: Direction) throws -> Int? {
        var c = try coordinate(of: node)
        guard (0..<dims.count).contains(axis) else {
            throw TorusError.invalidValue(name: "axis", value: "\(axis)", expected: "an axis in 0..<\(dims.count)")
        }
        let moved = c[axis] + direction.step
        if periodic[axis] {
            c[axis] = (moved + dims[axis]) % dims[axis]
        } else {
            guard (0..<dims[axis]).contains(moved) else { return nil }
            c[axis] = moved
        }
        return unsafeNode(at: c)
    }

    /// Steps from coordinate `from` to `to` along one axis, the shorter way round when the axis wraps
    /// (a tie goes the + way). Positive means + direction.
    public func signedDistance(from: Int, to: Int, axis: Int) -> Int {
        let d = to - from
        guard periodic[axis] else { return d }
        let n = dims[axis]
        var m = ((d % n) + n) % n  // 0 ..< n, the + way
        if m > n / 2 { m -= n }
        return m
    }

    /// Hop count between two nodes: the sum over axes of the shorter distance.
    public func hops(from a: Int, to b: Int) throws -> Int {
        let ca = try coordinate(of: a), cb = try coordinate(of: b)
        return (0..<dims.count).reduce(0) { $0 + abs(signedDistance(from: ca[$1], to: cb[$1], axis: $1)) }
    }
}
