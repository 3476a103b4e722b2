import CMPI
import TorusCore

/// The one place MPI return codes are checked: anything but MPI_SUCCESS becomes a
/// `TorusError.communication` naming the call and MPI's own error text. Public so that tools
/// built on TorusMPI (torus-bench) check their own MPI calls the same way.
@inline(__always)
public func mpiCheck(_ code: Int32, _ call: @autoclosure () -> String) throws {
    guard code != torus_MPI_SUCCESS() else { return }
    throw TorusError.communication("\(call()) failed: \(mpiErrorString(code)) (MPI error code \(code))")
}

func mpiErrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(torus_MPI_MAX_ERROR_STRING()) + 1)
    var length: Int32 = 0
    guard MPI_Error_string(code, &buffer, &length) == torus_MPI_SUCCESS() else { return "unknown error" }
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
