/// Swift types that map to an `ElementType`, for the typed `allReduce` overloads.
public protocol ReducibleElement {
    static var elementType: ElementType { get }
}

extension Float: ReducibleElement { public static var elementType: ElementType { .float32 } }
extension Double: ReducibleElement { public static var elementType: ElementType { .float64 } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: ReducibleElement { public static var elementType: ElementType { .float16 } }
#endif
extension BFloat16: ReducibleElement { public static var elementType: ElementType { .bfloat16 } }
extension Int8: ReducibleElement { public static var elementType: ElementType { .int8 } }
extension Int16: ReducibleElement { public static var elementType: ElementType { .int16 } }
extension Int32: ReducibleElement { public static var elementType: ElementType { .int32 } }
extension Int64: ReducibleElement { public static var elementType: ElementType { .int64 } }
extension UInt8: ReducibleElement { public static var elementType: ElementType { .uint8 } }
extension UInt16: ReducibleElement { public static var elementType: ElementType { .uint16 } }
extension UInt32: ReducibleElement { public static var elementType: ElementType { .uint32 } }
extension UInt64: ReducibleElement { public static var elementType: ElementType { .uint64 } }
