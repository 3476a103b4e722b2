import ArgumentParser
import Foundation
import TorusCore
import TorusRuntime

/// `torus kernels`: reduction-kernel bandwidth per type and op, beside memcpy.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Measure the reduction kernels (dst = dst op src) against memcpy of the same bytes.",
        discussion: """
            Bandwidth counts bytes read plus bytes written (3 × size for a reduction, 2 × size for \
            memcpy), in GB/s = 10^9 bytes per second; each figure is a median.
            Example: torus kernels --type f32,bf16 --op sum --bytes 64K,64M
            With --threads the reductions run on a pool of that many worker threads (the calling \
            thread helps while it waits), as the executor's reductions do with TORUS_REDUCTION_THREADS.
            """
    )

    @Option(name: [.customShort("d"), .long], help: "Element types, comma-separated. Default: all.")
    var type: ArgumentList<ElementType>?

    @Option(name: [.customShort("o"), .long], help: "Ops, comma-separated. Default: all the type supports.")
    var op: ArgumentList<ReduceOp>?

    @Option(name: .long, help: "Buffer sizes, comma-separated, with K/M/G suffixes. Default: 64K (cache-resident) and 64M.")
    var bytes: String = "64K,64M"

    @Option(name: .long, help: "Samples per figure (the median is reported).")
    var samples: Int = 7

    @Option(name: .long, help: "Reduction worker threads, comma-separated (for example 1,2,4): one row per count. Default: the kernel alone on this thread.")
    var threads: String?

    @Flag(name: .long, help: "One JSON object per line: type, op, bytes, seconds, gbps, memcpy_gbps (and threads).")
    var json = false

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    func run() throws {
        let (types, ops, sizes) = try cliErrors {
            (type?.values ?? ElementType.allCases,
             op?.values ?? ReduceOp.allCases,
             try list(bytes).map { try ByteCount.parse($0, name: "--bytes") })
        }
        let threadCounts: [Int?] = try threads.map { text in
            try list(text).map { t -> Int? in
                guard let n = Int(t), (1...256).contains(n) else {
                    throw ValidationError("--threads takes thread counts from 1 to 256, comma-separated; got '\(t)'")
                }
                return n
            }
        } ?? [nil]
        if let t = types.first(where: { t in !ops.contains { $0.supports(t) } }) {
            throw ValidationError(TorusError.unsupportedOperation(op: ops.map(\.rawValue).joined(separator: ","), type: t.rawValue).description)
        }
        if !json {
            print("# reduction kernels dst = dst op src; GB/s counts bytes read + written (10^9 B/s); medians of \(samples)")
            print(pad("type", 5) + pad("op", 6) + pad("bytes", 12) + (threads == nil ? "" : pad("threads", 8)) + pad("time (us)", 12)
                  + pad("GB/s", 9) + pad("memcpy GB/s", 13) + pad("vs memcpy", 11))
        }
        for count in threadCounts {
            // A pool of `count` workers, every reduction shared out (nothing inline), as the executor uses it.
            let pool = count.map { ReductionPool(workers: $0, inlineBelowBytes: 0) }
            defer { pool?.shutdown() }
            let engine = pool.map { PoolReductionEngine(pool: $0) }
            let reduce: KernelBenchmark.Reduce = { kernel, dst, src, n in
                if let engine { engine.wait(engine.submit(kernel, into: dst, dst, src, count: n)) } else { kernel.accumulate(into: dst, src, count: n) }
            }
            try KernelBenchmark(samples: samples).run(types: types, ops: ops, sizes: sizes, threads: count, reduce: reduce) { r in
                if json {
                    print(try! jsonString(r, pretty: false))
                } else {
                    print(pad(r.type, 5) + pad(r.op, 6) + pad("\(r.bytes)", 12) + (r.threads.map { pad("\($0)", 8) } ?? "")
                          + pad(String(format: "%.2f", r.seconds * 1e6), 12) + pad(String(format: "%.2f", r.gbps), 9)
                          + pad(String(format: "%.2f", r.memcpyGbps), 13) + pad(String(format: "%.2f", r.gbps / r.memcpyGbps), 11))
                }
                fflush(nil)  // every C stream: stdout is shared mutable state to Swift 6
            }
        }
    }

    private func list(_ s: String) -> [String] {
        s.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
