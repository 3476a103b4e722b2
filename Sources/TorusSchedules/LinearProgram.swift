/// A small dense linear program: minimize c·x subject to A·x = b and x ≥ 0, solved by the simplex
/// method on a tableau with one artificial variable per row, priced at a large cost (big M), and
/// Bland's rule (lowest index enters and leaves), which cannot cycle. Meant for the few dozen
/// variables of a schedule plan (`SixRingPlan`), not for large problems.
struct LinearProgram {
    var objective: [Double]
    var rows: [[Double]]
    var rhs: [Double]

    /// An optimal x, or nil when no x ≥ 0 satisfies A·x = b (or the iteration limit is reached).
    func solve(tolerance: Double = 1e-10) -> [Double]? {
        let m = rows.count, n = objective.count
        guard m > 0 else { return [Double](repeating: 0, count: n) }
        let bigM = 1e4 * (1 + (objective.map(abs).max() ?? 0))
        // Tableau columns: x (n), artificials (m), right-hand side.
        var t = [[Double]](repeating: [Double](repeating: 0, count: n + m + 1), count: m)
        for i in 0..<m {
            let sign: Double = rhs[i] < 0 ? -1 : 1
            for j in 0..<n { t[i][j] = sign * rows[i][j] }
            t[i][n + i] = 1
            t[i][n + m] = sign * rhs[i]
        }
        let cost = objective + [Double](repeating: bigM, count: m)
        var basis = Array(n ..< n + m)
        for _ in 0 ..< 50 * (n + m) {
            // Reduced costs: c_j − c_B·column j.
            var entering: Int?
            for j in 0 ..< n + m where !basis.contains(j) {
                var reduced = cost[j]
                for i in 0..<m { reduced -= cost[basis[i]] * t[i][j] }
                if reduced < -tolerance { entering = j; break }
            }
            guard let e = entering else {
                var x = [Double](repeating: 0, count: n + m)
                for i in 0..<m { x[basis[i]] = t[i][n + m] }
                let scale = 1 + (rhs.map(abs).max() ?? 0)
                guard x[n...].allSatisfy({ $0 <= 1e-9 * scale }) else { return nil }
                return Array(x[..<n])
            }
            var leaving: Int?
            for i in 0..<m where t[i][e] > tolerance {
                let ratio = t[i][n + m] / t[i][e]
                if let l = leaving {
                    let best = t[l][n + m] / t[l][e]
                    if ratio < best - tolerance || (abs(ratio - best) <= tolerance && basis[i] < basis[l]) { leaving = i }
                } else {
                    leaving = i
                }
            }
            guard let l = leaving else { return nil }  // unbounded: not a plan's case
            let pivot = t[l][e]
            for j in 0 ... n + m { t[l][j] /= pivot }
            for i in 0..<m where i != l && t[i][e] != 0 {
                let f = t[i][e]
                for j in 0 ... n + m { t[i][j] -= f * t[l][j] }
            }
            basis[l] = e
        }
        return nil
    }
}
