/// A DP×TP×PP training job in Megatron order: `rank = (pp·DP + dp)·TP + tp` (DESIGN §1). Tensor
/// parallel ranks are adjacent, then data parallel, then pipeline stages.
public struct JobLayout: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum GroupKind: String, CaseIterable, Codable, Sendable {
        case dp, tp, pp
    }

    public let tp: Int
    public let pp: Int
    public let dp: Int

    public init(tp: Int, pp: Int, dp: Int) throws {
        for (name, v) in [("tp", tp), ("pp", pp), ("dp", dp)] where v < 1 || v > 1 << 24 {
            throw TorusError.invalidValue(name: name, value: "\(v)", expected: "a positive group size")
        }
        self.tp = tp
        self.pp = pp
        self.dp = dp
    }

    /// `tp=6,pp=8,dp=288`, in any order; a missing size is 1, except a missing `dp`, which is
    /// what fills `ranks` when that is given.
    public init(parsing text: String, ranks: Int? = nil, name: String = "--job") throws {
        var sizes: [String: Int] = [:]
        let expected = "sizes such as tp=6,pp=8,dp=288 (keys tp, pp, dp; each a positive integer)"
        for item in text.split(separator: ",") {
            let kv = item.split(separator: "=", omittingEmptySubsequences: false)
            let key = kv.first.map { $0.lowercased() } ?? ""
            guard kv.count == 2, ["tp", "pp", "dp"].contains(key), sizes[key] == nil, let v = Int(kv[1]), v >= 1 else {
                throw TorusError.invalidValue(name: name, value: text, expected: expected)
            }
            sizes[key] = v
        }
        guard !sizes.isEmpty else { throw TorusError.invalidValue(name: name, value: text, expected: expected) }
        let tp = sizes["tp"] ?? 1, pp = sizes["pp"] ?? 1
        var dp = sizes["dp"] ?? 1
        if sizes["dp"] == nil, let ranks {
            guard ranks % (tp * pp) == 0 else {
                throw TorusError.invalidValue(name: name, value: text,
                                              expected: "tp·pp dividing the \(ranks) ranks of the machine (tp·pp = \(tp * pp))")
            }
            dp = ranks / (tp * pp)
        }
        try self.init(tp: tp, pp: pp, dp: dp)
    }

    public var ranks: Int { tp * pp * dp }

    public var description: String { "tp=\(tp),pp=\(pp),dp=\(dp)" }

    /// The rank with the given indices.
    @inline(__always)
    public func rank(tp t: Int, pp s: Int, dp d: Int) -> Int { (s * dp + d) * tp + t }

    /// The (tp, pp, dp) indices of a rank.
    public func indices(of rank: Int) -> (tp: Int, pp: Int, dp: Int) {
        (rank % tp, rank / (tp * dp), (rank / tp) % dp)
    }

    /// The groups of one kind, each listing its ranks in group order. DP groups are numbered
    /// pp·TP + tp; TP groups pp·DP + dp; PP groups dp·TP + tp.
    public func groups(_ kind: GroupKind) -> [[Int]] {
        switch kind {
        case .dp:
            return (0..<pp).flatMap { s in (0..<tp).map { t in (0..<dp).map { rank(tp: t, pp: s, dp: $0) } } }
        case .tp:
            return (0..<pp).flatMap { s in (0..<dp).map { d in (0..<tp).map { rank(tp: $0, pp: s, dp: d) } } }
        case .pp:
            return (0..<dp).flatMap { d in (0..<tp).map { t in (0..<pp).map { rank(tp: t, pp: $0, dp: d) } } }
        }
    }

    /// The DP group number of a rank (see `groups`).
    public func dpGroup(of rank: Int) -> Int {
        let i = indices(of: rank)
        return i.pp * tp + i.tp
    }
}
