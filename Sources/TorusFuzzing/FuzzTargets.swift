import Foundation
import TorusCore
import TorusRuntime
import TorusSchedules

/// The parsers that read what users give us — rank map files, `TORUS_*` environment values, sizes,
/// shapes, job layouts, core lists — as fuzz targets. Each takes any bytes: an input it cannot
/// read must end in a thrown `TorusError`, never a crash, a hang or a huge allocation. A map that
/// reads must also place on its torus, and write out and read back to the same map.
///
/// `scripts/fuzz.sh` runs them under libFuzzer (the `torus-fuzz` executable, built only with
/// `TORUS_FUZZ=1`); `FuzzRegressionTests` replays the seeds and every input a run ever crashed on.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case vcoord, rankfile, json, environment, size, shape, job, cores

    /// Runs the target on one input. Errors the parser throws are the expected outcome of bad
    /// input; anything else (a trap, a failed round trip) is a finding.
    public func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .vcoord: FuzzTarget.rankMap(text, .vcoord)
        case .rankfile: FuzzTarget.rankMap(text, .rankfile)
        case .json: FuzzTarget.rankMap(text, .json)
        case .environment:
            // NAME=VALUE lines; names without the TORUS_ prefix get it, so most lines reach a parser.
            var env: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                let name = parts[0].hasPrefix("TORUS_") ? String(parts[0]) : "TORUS_" + parts[0]
                // A rank map path would read a file: the map readers have their own targets.
                if name == "TORUS_RANKMAP" { continue }
                env[name] = String(parts[1])
            }
            if let e = try? TorusEnvironment.read(env), let first = text.utf8.first {
                _ = try? e.placement(worldSize: Int(first) + 1)
            }
        case .size: _ = try? ByteCount.parse(text)
        case .shape:
            if let shape = try? TorusShape(parsing: text) { _ = shape.nodeCount }
        case .job:
            // The first line is a job, the second (if any) the machine's rank count.
            let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            let ranks = lines.count > 1 ? Int(lines[1]) : nil
            _ = try? JobLayout(parsing: String(lines.first ?? ""), ranks: ranks)
        case .cores: _ = ProcessingUnitList.parse(text)
        }
    }

    static func rankMap(_ text: String, _ format: RankMap.Format) {
        guard let map = try? RankMap.parse(text, path: "<fuzz>", format: format) else { return }
        guard let shape = try? map.torus ?? map.boundingShape else { return }
        _ = try? map.nodes(on: shape)
        let written = map.text(format)
        do {
            let again = try RankMap.parse(written, path: "<fuzz, written back>", format: format)
            guard again.coordinates == map.coordinates else {
                fatalError("\(format) map written and read back differs:\n\(written)")
            }
        } catch {
            fatalError("\(format) map written back does not read: \(error)\n\(written)")
        }
    }
}
