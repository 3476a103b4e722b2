import CMPI
import TorusCore

extension ElementType {
    /// The MPI datatype, or nil for the 16-bit floats MPI 3.1 has no type for.
    public var mpiDatatype: MPI_Datatype? {
        switch self {
        case .float32: return torus_MPI_FLOAT()
        case .float64: return torus_MPI_DOUBLE()
        case .float16, .bfloat16: return nil
        case .int8: return torus_MPI_INT8_T()
        case .int16: return torus_MPI_INT16_T()
        case .int32: return torus_MPI_INT32_T()
        case .int64: return torus_MPI_INT64_T()
        case .uint8: return torus_MPI_UINT8_T()
        case .uint16: return torus_MPI_UINT16_T()
        case .uint32: return torus_MPI_UINT32_T()
        case .uint64: return torus_MPI_UINT64_T()
        }
    }
}

extension ElementType {
    /// The MPI name of the type (`MPI_FLOAT` …), nil for the 16-bit floats.
    public var mpiName: String? {
        switch self {
        case .float32: return "MPI_FLOAT"
        case .float64: return "MPI_DOUBLE"
        case .float16, .bfloat16: return nil
        case .int8: return "MPI_INT8_T"
        case .int16: return "MPI_INT16_T"
        case .int32: return "MPI_INT32_T"
        case .int64: return "MPI_INT64_T"
        case .uint8: return "MPI_UINT8_T"
        case .uint16: return "MPI_UINT16_T"
        case .uint32: return "MPI_UINT32_T"
        case .uint64: return "MPI_UINT64_T"
        }
    }
}

extension ReduceOp {
    /// The predefined MPI operation.
    public var mpiOp: MPI_Op {
        switch self {
        case .sum: return torus_MPI_SUM()
        case .prod: return torus_MPI_PROD()
        case .min: return torus_MPI_MIN()
        case .max: return torus_MPI_MAX()
        case .band: return torus_MPI_BAND()
        case .bor: return torus_MPI_BOR()
        case .bxor: return torus_MPI_BXOR()
        case .land: return torus_MPI_LAND()
        case .lor: return torus_MPI_LOR()
        case .lxor: return torus_MPI_LXOR()
        }
    }
}

/// Whether MPI's own AllReduce gives the same answer as ours for a (type, op): not for 16-bit
/// floats (no MPI type), not for float min/max (our NaN and signed-zero rule), and not for 8- and
/// 16-bit integer sums and products, which Open MPI's AVX component saturates instead of wrapping
/// (Open MPI issue #8045).
public func libraryAgrees(_ type: ElementType, _ op: ReduceOp) -> Bool {
    guard type.mpiDatatype != nil else { return false }
    if type.isFloatingPoint { return op == .sum || op == .prod }
    if type.size <= 2 { return op != .sum && op != .prod }
    return true
}
