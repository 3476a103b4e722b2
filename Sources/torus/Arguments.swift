import ArgumentParser
import TorusCore
import TorusPredictor
import TorusSchedules

// Typed arguments: each type parses with the project's own parser (aliases included) and tells
// ArgumentParser its accepted values, which `--help` and every error message then list.

extension Algorithm: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension Collective: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension ElementType: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension ReduceOp: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension NetworkModel.Network: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension RankMap.Format: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

/// A machine model by preset name (`--preset`).
extension NetworkModel: ExpressibleByArgument {
    public init?(argument: String) {
        guard let preset = try? NetworkModel.preset(named: argument) else { return nil }
        self = preset
    }
    public static var allValueStrings: [String] { presets.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// A comma-separated list of values of one typed argument (`-a sixring,ring`, `--type f32,bf16`).
struct ArgumentList<Element: ExpressibleByArgument & Sendable>: ExpressibleByArgument, Sendable {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        let items = argument.split(separator: ",", omittingEmptySubsequences: false).map { Element(argument: String($0)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { return nil }
        values = items.map { $0! }
    }

    static var allValueStrings: [String] { Element.allValueStrings }
    var defaultValueDescription: String { values.map(\.defaultValueDescription).joined(separator: ",") }
}

/// A torus shape (`4x4x4`, a trailing m for a mesh axis); errors say what is wrong with it.
func parseShape(_ text: String) throws -> TorusShape { try TorusShape(parsing: text, name: "--torus") }

/// A size in bytes with K/M/G suffixes.
func parseBytes(_ text: String) throws -> Int { try ByteCount.parse(text, name: "--bytes") }
