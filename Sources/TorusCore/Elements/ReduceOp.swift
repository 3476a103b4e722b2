/// MPI's predefined reduction operations.
///
/// All are commutative and associative on integers (wrap-around arithmetic, as the MPI standard and
/// MPICH do). Floating-point rules, identical on every rank whatever the order of operands:
/// - `min`/`max`: if either operand is NaN the result is the canonical quiet NaN (NaN wins);
///   `min(-0.0, +0.0)` is `-0.0` and `max(-0.0, +0.0)` is `+0.0` in either order.
/// - 16-bit floats (`f16`, `bf16`): each pairwise reduction is computed in Float32 and rounded once
///   to the 16-bit type, round-to-nearest-even. Float32 holds at least 2p+2 bits of the 16-bit
///   significand, so this equals the correctly rounded result; any NaN becomes the canonical NaN.
/// - Logical ops (`land`, `lor`, `lxor`) treat non-zero as true and produce 1 or 0.
public enum ReduceOp: String, CaseIterable, Codable, Sendable {
    case sum, prod, min, max
    case band, bor, bxor
    case land, lor, lxor

    /// Whether MPI defines this op for the type: bitwise and logical ops are integer-only.
    public func supports(_ type: ElementType) -> Bool {
        switch self {
        case .sum, .prod, .min, .max: return true
        case .band, .bor, .bxor, .land, .lor, .lxor: return !type.isFloatingPoint
        }
    }

    /// Throws `TorusError.unsupportedOperation` when MPI does not define the pair.
    public func check(_ type: ElementType) throws {
        guard supports(type) else {
            throw TorusError.unsupportedOperation(op: rawValue, type: type.rawValue)
        }
    }

    /// The ops defined for a type, in declaration order.
    public static func supported(by type: ElementType) -> [ReduceOp] {
        allCases.filter { $0.supports(type) }
    }

    /// Parses an op name (`sum`, `prod`, `min`, `max`, `band` … `lxor`, case-insensitive; an
    /// `MPI_` prefix is accepted).
    public init(parsing text: String, name: String = "op") throws {
        var key = text.lowercased()
        if key.hasPrefix("mpi_") { key.removeFirst(4) }
        guard let op = ReduceOp(rawValue: key) else {
            throw TorusError.invalidValue(
                name: name, value: text,
                expected: "one of " + ReduceOp.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = op
    }
}
