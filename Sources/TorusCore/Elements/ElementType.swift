/// The predefined element types a reduction works on (MPI's numeric set plus the 16-bit floats
/// used in training). Raw values are the short names every command accepts (`f32`, `bf16`, `u8`…).
public enum ElementType: String, CaseIterable, Codable, Sendable {
    case float32 = "f32"
    case float64 = "f64"
    case float16 = "f16"
    case bfloat16 = "bf16"
    case int8 = "i8"
    case int16 = "i16"
    case int32 = "i32"
    case int64 = "i64"
    case uint8 = "u8"
    case uint16 = "u16"
    case uint32 = "u32"
    case uint64 = "u64"

    /// Size of one element in bytes.
    public var size: Int {
        switch self {
        case .int8, .uint8: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// True for the four floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// The nccl-tests name of the type (`float`, `half`, `int8` …), used in benchmark tables.
    public var ncclName: String {
        switch self {
        case .float32: return "float"
        case .float64: return "double"
        case .float16: return "half"
        case .bfloat16: return "bfloat16"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        }
    }

    /// Parses a type name: the short names (`f32`, `bf16`, `i8` … `u64`), the long Swift-like names
    /// (`float32`, `bfloat16`, `int8`, `uint64`) and the nccl-tests names (`float`, `double`, `half`).
    public init(parsing text: String, name: String = "type") throws {
        let key = text.lowercased()
        if let t = ElementType(rawValue: key) { self = t; return }
        if let t = ElementType.allCases.first(where: { $0.ncclName == key || "\($0)" == key }) {
            self = t; return
        }
        let aliases: [String: ElementType] = ["float16": .float16, "fp16": .float16, "fp32": .float32, "fp64": .float64]
        if let t = aliases[key] { self = t; return }
        throw TorusError.invalidValue(
            name: name, value: text,
            expected: "one of " + ElementType.allCases.map(\.rawValue).joined(separator: ", "))
    }
}
