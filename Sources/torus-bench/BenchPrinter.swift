import CMPI
import Foundation
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSchedules

/// Prints on world rank 0 in the chosen layout.
struct BenchPrinter {
    let settings: BenchSettings
    let world: MPICommunicator
    let comm: MPICommunicator
    let checkable: Bool

    var active: Bool { world.rank == 0 }

    func note(_ text: String) {
        guard active else { return }
        if settings.json { printError("torus-bench: \(text)") } else { emit("# \(text)") }
    }

    /// "0 (inline): why" or "2, pinned to units 2,3: why", as rank 0 sees it.
    var reductionThreadsLine: String {
        guard let plan = ReductionThreads.current else { return "0 (inline)" }
        let placed = plan.threads == 0 ? "0 (inline)"
            : "\(plan.threads), " + (plan.units.isEmpty ? "on the process's own binding" : "pinned to units \(plan.units.map(String.init).joined(separator: ","))")
        return placed + " (\(plan.reason))"
    }

    func header(_ algorithm: String) {
        guard active, !settings.json else { return }
        let groups = world.size / comm.size
        let where_ = groups > 1 ? "\(groups) data-parallel groups of \(comm.size) ranks at once" : "\(comm.size) ranks"
        if settings.osu {
            let osuName: String
            switch settings.collective {
            case .allReduce: osuName = "Allreduce"
            case .reduceScatter: osuName = "Reduce_scatter"
            case .allGather: osuName = "Allgather"
            }
            emit("# OSU MPI \(osuName) Latency Test v7.4")
            emit("# TorusCollectives torus-bench: algorithm \(algorithm), \(where_), \(comm.topology)")
            emit("# Datatype: \(settings.type.mpiName ?? settings.type.ncclName).")
            var h = pad("# Size", 10, left: true) + pad("Avg Latency(us)", 20)
            if settings.full { h += pad("Min Latency(us)", 20) + pad("Max Latency(us)", 20) + pad("Iterations", 12) }
            if settings.check { h += pad("Validation", 12) }
            emit(h)
            return
        }
        emit("# TorusCollectives torus-bench: \(settings.collective.title), algorithm \(algorithm), \(where_), \(comm.topology)")
        emit("# iterations \(settings.iterations), warm-up \(settings.warmup), check \(checkable ? 1 : 0); time = median over calls of the slowest rank")
        emit("# reduction threads per rank: \(reductionThreadsLine)")
        emit("#")
        emit("#" + String(repeating: " ", count: 62) + "out-of-place" + String(repeating: " ", count: 23) + "in-place")
        emit("#" + pad("size", 11) + pad("count", 14) + pad("type", 10) + pad("redop", 8) + pad("root", 8)
             + pad("time", 9) + pad("algbw", 8) + pad("busbw", 8) + pad("#wrong", 7)
             + pad("time", 9) + pad("algbw", 8) + pad("busbw", 8) + pad("#wrong", 7))
        emit("#" + pad("(B)", 11) + pad("(elements)", 14) + String(repeating: " ", count: 26)
             + pad("(us)", 9) + pad("(GB/s)", 8) + pad("(GB/s)", 8) + String(repeating: " ", count: 7)
             + pad("(us)", 9) + pad("(GB/s)", 8) + pad("(GB/s)", 8))
    }

    func row(_ pair: [BenchRunner.Row]) {
        guard active else { return }
        if settings.json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            for r in pair { emit(String(decoding: try! encoder.encode(r), as: UTF8.self)) }
            return
        }
        if settings.osu {
            // OSU reports the blocking call as the user makes it: out of place (in place under -l).
            // Its osu_allgather sizes one rank's message; osu_reduce_scatter the whole buffer.
            let r = pair[0]
            let size = settings.collective == .allGather ? r.count * settings.type.size : r.bytes
            var line = pad("\(size)", 10, left: true) + pad(String(format: "%.2f", r.avgUs), 20)
            if settings.full {
                line += pad(String(format: "%.2f", r.minUs), 20) + pad(String(format: "%.2f", r.maxUs), 20) + pad("\(r.iterations)", 12)
            }
            if settings.check { line += pad(r.wrong == nil ? "N/A" : (r.wrong == 0 ? "Pass" : "Fail"), 12) }
            emit(line)
            return
        }
        let first = pair[0]
        var line = pad("\(first.bytes)", 12) + pad("\(first.count)", 14) + pad(settings.type.ncclName, 10) + pad(settings.op.rawValue, 8) + pad("-1", 8)
        for r in pair {
            line += pad(time(r.timeUs), 9) + pad(String(format: "%.2f", r.algbwGbps), 8) + pad(String(format: "%.2f", r.busbwGbps), 8)
                + pad(r.wrong.map(String.init) ?? "N/A", 7)
        }
        emit(line)
    }

    func footer(_ rows: [BenchRunner.Row]) {
        guard active, !settings.json, !settings.osu else { return }
        let wrong = rows.compactMap(\.wrong).reduce(0, +)
        let busbw = rows.isEmpty ? 0 : rows.map(\.busbwGbps).reduce(0, +) / Double(rows.count)
        emit("# Out of bounds values : \(wrong) \(wrong == 0 ? "OK" : "FAILED")")
        emit(String(format: "# Avg bus bandwidth    : %.4f", busbw))
        emit("#")
    }

    /// nccl-tests prints fewer decimals as times grow.
    private func time(_ us: Double) -> String {
        us >= 1e4 ? String(format: "%.0f", us) : us >= 1e3 ? String(format: "%.1f", us) : String(format: "%.2f", us)
    }

    private func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? s + fill : fill + s
    }

    /// One write(2) per line, so rows appear at once even when stdout is a pipe (no C `FILE` buffer).
    private func emit(_ line: String) {
        let text = line + "\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count - 1) }
    }
}
