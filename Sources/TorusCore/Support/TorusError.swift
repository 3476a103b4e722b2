/// Every error the library reports: what was wrong, where, and what to do about it.
///
/// The message (`description`) is meant for the person who typed the command or wrote the file;
/// it names the offending value and the accepted ones.
public enum TorusError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A torus shape that cannot exist (an axis of length 0, too many nodes, a malformed `XxYxZ`).
    case invalidShape(String, reason: String)
    /// A coordinate outside the shape it is used with.
    case coordinateOutOfRange(coordinate: [Int], shape: String)
    /// A node index outside `0 ..< nodeCount`.
    case nodeOutOfRange(node: Int, nodeCount: Int)
    /// An (element type, op) pair that MPI does not define either, such as a bitwise op on floats.
    case unsupportedOperation(op: String, type: String)
    /// A value given by the user (option, environment variable, argument) that is not accepted.
    case invalidValue(name: String, value: String, expected: String)
    /// A shape on which no ring of one-hop steps through every node exists.
    case noHamiltonianRing(shape: String, reason: String)
    /// A file (a rank map) that does not parse: where, what was there, what should be.
    case malformedFile(path: String, line: Int, found: String, expected: String)
    /// A collective could not complete: mismatched calls across ranks, a failed peer, a transport error.
    case communication(String)
    /// A wait ran out of time; `waiting` names every rank still waiting and what for.
    case timeout(seconds: Double, waiting: [String])

    public var description: String {
        switch self {
        case let .invalidShape(shape, reason):
            return "invalid torus shape '\(shape)': \(reason)"
        case let .coordinateOutOfRange(coordinate, shape):
            let c = coordinate.map(String.init).joined(separator: ",")
            return "coordinate (\(c)) is outside the torus \(shape); each coordinate must be at least 0 and below its axis length"
        case let .nodeOutOfRange(node, nodeCount):
            return "node index \(node) is out of range: the torus has \(nodeCount) nodes (0...\(nodeCount - 1))"
        case let .unsupportedOperation(op, type):
            return "the reduction '\(op)' is not defined for element type '\(type)' (as in MPI, bitwise and logical ops take integer types only); use sum, prod, min or max for floating-point data"
        case let .invalidValue(name, value, expected):
            return "invalid value '\(value)' for \(name): expected \(expected)"
        case let .noHamiltonianRing(shape, reason):
            return "no ring of one-hop steps through every node exists on \(shape): \(reason)"
        case let .malformedFile(path, line, found, expected):
            return "\(path):\(line): found '\(found)', expected \(expected)"
        case let .communication(message):
            return message
        case let .timeout(seconds, waiting):
            let list = waiting.isEmpty ? "none" : waiting.joined(separator: "; ")
            return "timed out after \(seconds) s; ranks still waiting: \(list). A rank that never joined the collective, a lost message or counts that differ across ranks cause this"
        }
    }
}
