import Foundation
import Synchronization
import TorusCore
import TorusSchedules

/// A model of a machine measured on it (`torus-bench --calibrate FILE`): one `Calibration` per
/// number of ranks it was measured with. `torus sim --model FILE` predicts with it, and automatic
/// selection reads it (`TORUS_MODEL=FILE`).
public struct CalibratedModel: Codable, Sendable {
    public static let formatName = "torus-model/1"
    public var format = CalibratedModel.formatName
    public var calibrations: [Calibration]

    public init(calibrations: [Calibration]) {
        self.calibrations = calibrations
    }

    /// The calibration measured with `ranks` ranks, else the one measured with the nearest number
    /// (the larger of two equally near).
    public func calibration(ranks: Int) -> Calibration {
        calibrations.min { a, b in
            let (da, db) = (abs(a.ranks - ranks), abs(b.ranks - ranks))
            return da != db ? da < db : a.ranks > b.ranks
        }!
    }

    /// Reads and checks a model file; every problem is an error naming the file and the fix.
    public static func load(path: String) throws -> CalibratedModel {
        let fix = "a model file written by `mpirun -np N torus-bench --calibrate FILE`"
        // A regular file of at most 16 MiB (not a device that never ends), as rank maps are read.
        let text: String
        do {
            text = try readText(path: path, what: "model file", maxBytes: 16 << 20)
        } catch let TorusError.invalidValue(name, value, expected) {
            throw TorusError.invalidValue(name: name, value: value, expected: "\(expected); \(fix)")
        }
        let model: CalibratedModel
        do {
            model = try decoder.decode(CalibratedModel.self, from: Data(text.utf8))
        } catch {
            throw TorusError.invalidValue(name: "model file", value: path, expected: "\(fix); it does not parse: \(Self.describe(error))")
        }
        guard model.format == formatName else {
            throw TorusError.invalidValue(name: "model file", value: path, expected: "format \(formatName), not \(model.format) (recalibrate)")
        }
        guard !model.calibrations.isEmpty else {
            throw TorusError.invalidValue(name: "model file", value: path, expected: "at least one calibration (\(fix))")
        }
        for c in model.calibrations {
            if let problem = c.problem {
                throw TorusError.invalidValue(name: "model file", value: path, expected: "\(fix); the calibration of \(c.ranks) ranks has \(problem)")
            }
        }
        return model
    }

    /// This model with `calibration` added; one of the same number of ranks is replaced only when
    /// `replace` is set.
    public func adding(_ calibration: Calibration, replace: Bool) throws -> CalibratedModel {
        var next = self
        if let i = calibrations.firstIndex(where: { $0.ranks == calibration.ranks }) {
            guard replace else {
                throw TorusError.invalidValue(name: "--calibrate", value: "\(calibration.ranks) ranks",
                                              expected: "a number of ranks the file has no calibration of yet; add --force to replace the one it has")
            }
            next.calibrations[i] = calibration
        } else {
            next.calibrations.append(calibration)
            next.calibrations.sort { $0.ranks < $1.ranks }
        }
        return next
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            return "missing \"\(key.stringValue)\" at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong value at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case let DecodingError.dataCorrupted(context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}

/// What one calibration run measured, and the predictor's model made from it.
public struct Calibration: Codable, Sendable {
    /// Ranks of the run, and how many shared a node (the ranks measured as neighbours did if 1 < it).
    public var ranks: Int
    public var ranksPerNode: Int
    /// Where and when: host name, MPI library, date (ISO 8601).
    public var host: String
    public var library: String
    public var date: String
    /// The model (`torus sim --model`), each figure's source saying what measured it.
    public var model: NetworkModel
    /// MPI's own AllReduce (float sum, out of place): median seconds per size, sizes ascending.
    public var libraryAllReduce: [TimedSize]
    /// The raw measurements behind the model, for the record.
    public var pingPong: [TimedSize]
    public var notes: [String]

    public init(ranks: Int, ranksPerNode: Int, host: String, library: String, date: String, model: NetworkModel,
                libraryAllReduce: [TimedSize], pingPong: [TimedSize], notes: [String]) {
        self.ranks = ranks
        self.ranksPerNode = ranksPerNode
        self.host = host
        self.library = library
        self.date = date
        self.model = model
        self.libraryAllReduce = libraryAllReduce
        self.pingPong = pingPong
        self.notes = notes
    }

    /// What makes the calibration unusable, if anything.
    var problem: String? {
        if ranks < 2 { return "fewer than 2 ranks" }
        let m = model.machine
        let rates = [m.linkBandwidth, m.receiveCopyRate, m.reductionRatePerThread, m.memoryBandwidth, m.cachedReceiveCopyRate, m.cachedReductionRatePerThread]
        if rates.contains(where: { !($0 > 0) }) { return "a rate that is not positive" }
        let times = [m.linkLatency, m.hopDelay, m.softwareOverhead, m.receiveOverhead, m.rendezvousDelay]
        if times.contains(where: { !($0 >= 0 && $0 < 1) }) { return "a time outside 0 to 1 s" }
        if m.eagerLimit < 0 || m.cacheBytes < 0 || m.reductionThreads < 0 || model.window < 1 || model.segmentBytes < 0 { return "a negative limit or count" }
        if libraryAllReduce.isEmpty { return "no times of MPI's AllReduce" }
        let sizes = libraryAllReduce.map(\.bytes)
        if sizes != sizes.sorted() || Set(sizes).count != sizes.count || sizes[0] < 1 || libraryAllReduce.contains(where: { !($0.seconds > 0) }) {
            return "MPI AllReduce times that are not positive at ascending sizes of at least 1 byte"
        }
        return nil
    }

    /// MPI's AllReduce of `bytes` on this many ranks: interpolated between the measured sizes on
    /// log-log axes, extended past the largest by its bandwidth and below the smallest flat.
    public func libraryAllReduceSeconds(bytes: Int) -> Double {
        let t = libraryAllReduce
        if bytes <= t[0].bytes || t.count == 1 {
            return bytes <= t[0].bytes ? t[0].seconds : t[0].seconds * Double(bytes) / Double(t[0].bytes)
        }
        if bytes >= t[t.count - 1].bytes { return t[t.count - 1].seconds * Double(bytes) / Double(t[t.count - 1].bytes) }
        let k = t.firstIndex { $0.bytes >= bytes }!
        let (a, b) = (t[k - 1], t[k])
        let f = (log(Double(bytes)) - log(Double(a.bytes))) / (log(Double(b.bytes)) - log(Double(a.bytes)))
        return exp(log(a.seconds) + f * (log(b.seconds) - log(a.seconds)))
    }
}

/// A measured time at a size.
public struct TimedSize: Codable, Sendable, Hashable {
    public var bytes: Int
    public var seconds: Double

    public init(bytes: Int, seconds: Double) {
        self.bytes = bytes
        self.seconds = seconds
    }
}

extension CalibratedModel {
    /// Infinity and NaN as strings ("inf"): a model of RDMA links has an infinite receive copy rate.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}

/// Automatic selection from a calibrated model: each schedule's time is predicted event by event
/// with the calibration of the nearest number of ranks (groups of up to `predictedUpToRanks`;
/// larger ones by the α-β-γ formulas of its figures); the library's AllReduce by its times measured
/// on this many ranks. Estimates are kept per algorithm, collective, group and bytes.
public final class PredictorCosts: CalibratedCosts {
    public static let predictedUpToRanks = 256
    public let model: CalibratedModel
    public let path: String
    private let cache = Mutex<[Key: Double]>([:])

    /// Keyed by the group, not its size alone: two groups of one size may have other shapes.
    struct Key: Hashable {
        var algorithm: Algorithm
        var collective: Collective
        var topology: GroupTopology
        var bytes: Int
    }

    public init(model: CalibratedModel, path: String) {
        self.model = model
        self.path = path
    }

    public var summary: String {
        "calibrated model \(path) (" + model.calibrations.map { "\($0.ranks) ranks on \($0.host)" }.joined(separator: ", ") + ")"
    }

    public func seconds(_ algorithm: Algorithm, _ collective: Collective, topology: GroupTopology, bytes: Int) -> Double {
        let key = Key(algorithm: algorithm, collective: collective, topology: topology, bytes: bytes)
        if let known = cache.withLock({ $0[key] }) { return known }
        let calibration = model.calibration(ranks: topology.size)
        var estimate = CostModel(calibration.model.machine).estimate(algorithm, collective, topology: topology, bytes: bytes)
        if topology.size <= Self.predictedUpToRanks {
            // The group alone on its own nodes: a box of the group's grid when it has no placement.
            let group = topology.machine != nil && topology.machineNodeOf != nil ? topology : .box(topology.grid)
            // Float elements; a half's buffer is p whole blocks.
            let blocks = collective == .allReduce ? 1 : topology.size
            let elements = bytes / 4 / blocks * blocks
            var request = PredictionRequest(machine: group.machine!, groups: [group], algorithm: algorithm, bytes: elements * 4,
                                            model: calibration.model, threads: 1)
            request.collective = collective
            if let p = try? Predictor.run(request) { estimate = p.time }
        }
        cache.withLock { cache in
            if cache.count >= 4096 { cache.removeAll() }
            cache[key] = estimate
        }
        return estimate
    }

    public func librarySeconds(_ collective: Collective, ranks: Int, bytes: Int) -> Double? {
        guard collective == .allReduce, let c = model.calibrations.first(where: { $0.ranks == ranks }) else { return nil }
        return c.libraryAllReduceSeconds(bytes: bytes)
    }
}
