// libFuzzer's driver for the parsers of `TorusFuzzing`, built by scripts/fuzz.sh only (TORUS_FUZZ=1,
// -sanitize=fuzzer). SwiftPM links an executable's entry point as `<module>_main`, so this file
// defines that and hands over to libFuzzer's LLVMFuzzerRunDriver. TORUS_FUZZ_TARGET names the target.
import Foundation
import TorusFuzzing

nonisolated(unsafe) var target: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    target!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("torus_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    let name = ProcessInfo.processInfo.environment["TORUS_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data(("torus-fuzz: TORUS_FUZZ_TARGET must be one of " + FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ") + "\n").utf8))
        return 64
    }
    target = t
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
