#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures reduction kernels and memcpy on buffers of a given size (the `torus kernels` command).
///
/// Bandwidth counts bytes read plus bytes written: `dst = dst op src` on b bytes moves 3b, a
/// memcpy of b bytes moves 2b. Each figure is the median of several samples; a sample repeats the
/// operation enough times to last at least `minimumSampleSeconds`.
public struct KernelBenchmark {
    /// One measured (type, op, size).
    public struct Result: Codable, Sendable {
        public var type: String
        public var op: String
        public var bytes: Int
        /// Median seconds for one `dst = dst op src` over `bytes` bytes.
        public var seconds: Double
        /// (2 reads + 1 write) · bytes / seconds, in 10^9 bytes per second.
        public var gbps: Double
        /// memcpy of `bytes` bytes in the same run: (1 read + 1 write) · bytes / seconds.
        public var memcpyGbps: Double
        /// Reduction worker threads (nil: the kernel on the calling thread alone).
        public var threads: Int?
    }

    /// Runs `dst = dst op src` over `count` elements with `kernel` (a reduction engine may share it out).
    public typealias Reduce = (ReductionKernel, UnsafeMutableRawPointer, UnsafeRawPointer, Int) -> Void

    public var samples: Int
    public var minimumSampleSeconds: Double

    public init(samples: Int = 7, minimumSampleSeconds: Double = 0.02) {
        self.samples = samples
        self.minimumSampleSeconds = minimumSampleSeconds
    }

    /// Measures every (type, op) pair at every size; memcpy once per size.
    public func run(types: [ElementType], ops: [ReduceOp], sizes: [Int], threads: Int? = nil,
                    reduce: Reduce = { $0.accumulate(into: $1, $2, count: $3) },
                    report: (Result) -> Void) throws {
        for bytes in sizes {
            guard bytes >= 0 else {
                throw TorusError.invalidValue(name: "--bytes", value: "\(bytes)", expected: "a non-negative byte count")
            }
            let buffers = Buffers(bytes: bytes)
            defer { buffers.free() }
            let copySeconds = median {
                memcpy(buffers.dst, buffers.src, bytes)
            }
            for type in types {
                for op in ops where op.supports(type) {
                    let kernel = try ReductionKernel(type: type, op: op)
                    buffers.fill(type: type, op: op)
                    let count = bytes / type.size
                    let seconds = median {
                        reduce(kernel, buffers.dst, buffers.src, count)
                    }
                    let used = Double(count * type.size)
                    report(Result(type: type.rawValue, op: op.rawValue, bytes: bytes, seconds: seconds,
                                  gbps: 3 * used / seconds / 1e9,
                                  memcpyGbps: 2 * Double(bytes) / copySeconds / 1e9, threads: threads))
                }
            }
        }
    }

    /// Median over `samples` of the time per call, each sample long enough to time reliably.
    private func median(_ body: () -> Void) -> Double {
        body()  // warm-up: page faults, caches
        var repeats = 1
        while true {  // calibrate the number of calls per sample
            let t = time(repeats, body)
            if t >= minimumSampleSeconds || repeats >= 1 << 24 { break }
            repeats *= t > 0 ? max(2, min(16, Int(minimumSampleSeconds / t) + 1)) : 16
        }
        var times = (0..<samples).map { _ in time(repeats, body) / Double(repeats) }
        times.sort()
        return times[times.count / 2]
    }

    private func time(_ repeats: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<repeats { body() }
        return (clock.now - start).inSeconds
    }

    /// Two cache-line-aligned buffers filled with values that keep every op on normal numbers.
    private struct Buffers {
        let dst: UnsafeMutableRawPointer
        let src: UnsafeMutableRawPointer
        let bytes: Int

        init(bytes: Int) {
            self.bytes = bytes
            dst = .allocate(byteCount: max(bytes, 1), alignment: 64)
            src = .allocate(byteCount: max(bytes, 1), alignment: 64)
            dst.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            src.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        }

        /// Ones for floats (sums stay exact and normal, products stay 1), small integers otherwise.
        func fill(type: ElementType, op: ReduceOp) {
            let n = bytes / type.size
            switch type {
            case .float32: for p in [dst, src] { p.initializeMemory(as: Float.self, repeating: 1, count: n) }
            case .float64: for p in [dst, src] { p.initializeMemory(as: Double.self, repeating: 1, count: n) }
            case .float16, .bfloat16:
                let one: UInt16 = type == .float16 ? 0x3C00 : 0x3F80
                for p in [dst, src] { p.initializeMemory(as: UInt16.self, repeating: one, count: n) }
            default:
                for p in [dst, src] { p.initializeMemory(as: UInt8.self, repeating: 1, count: bytes) }
            }
        }

        func free() {
            dst.deallocate()
            src.deallocate()
        }
    }
}
