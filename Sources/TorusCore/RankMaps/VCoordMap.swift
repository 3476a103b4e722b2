#if canImport(Glibc)
import Glibc
#endif

/// A Fujitsu MPI rank map (`mpiexec --vcoordfile FILE`): line i holds the logical coordinate of
/// rank i as `(x)`, `(x,y)` or `(x,y,z)`, optionally followed by fields such as `core=N`, which are
/// kept. Several ranks may share a coordinate (several processes per node). Lines starting with `#`
/// are comments.
public struct VCoordMap: Hashable, Sendable {
    /// The coordinate of each rank (all of the same length).
    public var coordinates: [[Int]]
    /// What follows the coordinate on each line, trimmed (may be empty).
    public var trailing: [String]

    public init(coordinates: [[Int]], trailing: [String]? = nil) {
        self.coordinates = coordinates
        self.trailing = trailing ?? Array(repeating: "", count: coordinates.count)
    }

    /// Reads a rank map file.
    public static func load(path: String) throws -> VCoordMap {
        guard let file = fopen(path, "r") else {
            throw TorusError.invalidValue(name: "rank map file", value: path, expected: "a readable file (\(String(cString: strerror(errno))))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Parses rank map text; errors name `path`, the line, what was found and what was expected.
    public static func parse(_ text: String, path: String = "<rank map>") throws -> VCoordMap {
        var coordinates: [[Int]] = []
        var trailing: [String] = []
        let expected = "a coordinate such as (0,1,2) at the start of the line, optionally followed by fields such as core=3"
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.first == "#" { continue }
            guard line.first == "(" else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: String(line.prefix(40)), expected: expected)
            }
            guard let close = line.firstIndex(of: ")") else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: String(line.prefix(40)),
                                               expected: "a closing ')' after the coordinate, as in (0,1,2)")
            }
            let fields = line[line.index(after: line.startIndex)..<close].split(separator: ",", omittingEmptySubsequences: false)
            var c: [Int] = []
            for f in fields {
                let t = f.filter { $0 != " " }
                guard let v = Int(t), v >= 0, !t.isEmpty else {
                    throw TorusError.malformedFile(path: path, line: lineNumber, found: String(line.prefix(40)),
                                                   expected: "non-negative integers separated by commas inside the parentheses")
                }
                c.append(v)
            }
            guard (1...3).contains(c.count) else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: String(line.prefix(40)),
                                               expected: "1 to 3 coordinates: (x), (x,y) or (x,y,z)")
            }
            if let first = coordinates.first, first.count != c.count {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: String(line.prefix(40)),
                                               expected: "\(first.count) coordinates like the lines before it")
            }
            let rest = line[line.index(after: close)...]
            if let first = rest.first, first != " ", first != "\t" {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: String(line.prefix(40)),
                                               expected: "a space between the coordinate and the fields after it")
            }
            coordinates.append(c)
            trailing.append(String(rest.drop { $0 == " " || $0 == "\t" }))
        }
        return VCoordMap(coordinates: coordinates, trailing: trailing)
    }

    /// The smallest 3-axis shape holding every coordinate (missing axes have length 1).
    public var boundingShape: TorusShape {
        get throws {
            var dims = [1, 1, 1]
            for c in coordinates { for (a, v) in c.enumerated() { dims[a] = max(dims[a], v + 1) } }
            return try TorusShape(dims)
        }
    }

    /// The node of each rank on `shape` (coordinates padded with zeros to its axes).
    public func nodes(on shape: TorusShape, path: String = "<rank map>") throws -> [Int] {
        try coordinates.enumerated().map { (rank, c) in
            let padded = c + Array(repeating: 0, count: max(0, shape.axisCount - c.count))
            do {
                return try shape.node(at: padded)
            } catch {
                throw TorusError.malformedFile(path: path, line: rank + 1, found: "(" + c.map(String.init).joined(separator: ",") + ")",
                                               expected: "a coordinate inside the torus \(shape)")
            }
        }
    }
}
