#if canImport(Glibc)
import Glibc
#endif

/// Where every rank of a job runs: a coordinate on the machine torus per rank, in one of three
/// file formats (DESIGN §8), each read strictly and written back exactly:
/// - Fujitsu `--vcoordfile`: line i is rank i's coordinate `(x)`, `(x,y)` or `(x,y,z)`, optionally
///   followed by fields such as `core=N` (kept);
/// - Open MPI rankfile: `rank N=host slot=S`, with each host's coordinate from a node list
///   (`host x y z` lines, written into the rankfile as `# node host x y z` comments);
/// - JSON: `{"torus": "4x4x4", "ranks": [{"coord": [0,0,0]}, …]}`.
/// Several ranks may share a coordinate (several processes per node).
public struct RankMap: Equatable, Sendable {
    public enum Format: String, CaseIterable, Sendable {
        case vcoord, rankfile, json

        public init(parsing text: String, name: String = "--format") throws {
            guard let f = Format(rawValue: text.lowercased()) else {
                throw TorusError.invalidValue(name: name, value: text, expected: "vcoord, rankfile or json")
            }
            self = f
        }

        /// The format a file suggests: `.json` or a leading `{` is JSON; `.rankfile`, `.rf` or a first
        /// line starting `rank` or `# node` is a rankfile; anything else is vcoord.
        public static func guess(path: String, text: String) -> Format {
            if path.hasSuffix(".json") || text.first(where: { !$0.isWhitespace }) == "{" { return .json }
            if path.hasSuffix(".rankfile") || path.hasSuffix(".rf") { return .rankfile }
            let firstLine = text.split(separator: "\n").first { line in
                let t = line.drop { $0 == " " || $0 == "\t" }
                return !t.isEmpty && (t.first != "#" || t.hasPrefix("# node ") || t.hasPrefix("# torus "))
            }
            if let firstLine, firstLine.hasPrefix("rank") || firstLine.hasPrefix("# node ") || firstLine.hasPrefix("# torus ") {
                return .rankfile
            }
            return .vcoord
        }
    }

    /// The machine torus the map was written for, when the file says (JSON, a rankfile header).
    public var torus: TorusShape?
    /// The coordinate of each rank (all of the same length, 1 to 3 axes).
    public var coordinates: [[Int]]
    /// vcoord: what follows the coordinate on each line ("" when nothing).
    public var fields: [String]
    /// rankfile: the host and slot of each rank.
    public var hosts: [String]?
    public var slots: [String]?
    /// The file and the line each rank came from, for error messages (not part of equality).
    public var source: String = "<rank map>"
    public var lines: [Int] = []

    public init(torus: TorusShape? = nil, coordinates: [[Int]], fields: [String]? = nil, hosts: [String]? = nil, slots: [String]? = nil) {
        self.torus = torus
        self.coordinates = coordinates
        self.fields = fields ?? Array(repeating: "", count: coordinates.count)
        self.hosts = hosts
        self.slots = slots
        self.lines = coordinates.indices.map { $0 + 1 }
    }

    /// A map with rank r on `nodes[r]` of `torus`.
    public init(nodes: [Int], on torus: TorusShape) {
        self.init(torus: torus, coordinates: nodes.map { torus.unsafeCoordinate(of: $0) })
    }

    public static func == (a: RankMap, b: RankMap) -> Bool {
        a.torus == b.torus && a.coordinates == b.coordinates && a.fields == b.fields && a.hosts == b.hosts && a.slots == b.slots
    }

    public var rankCount: Int { coordinates.count }

    // MARK: Files

    /// Reads a rank map file in any of the formats (`format`, else guessed from the name and the
    /// first line). `nodeList` names the node list file (`host x y z` lines) a rankfile without
    /// `# node` lines needs.
    /// `maxBytes` bounds what is read (a job knows how large its map can be: see `maxBytes(ranks:)`).
    public static func load(path: String, format: Format? = nil, nodeList: String? = nil, maxBytes: Int = defaultMaxBytes) throws -> RankMap {
        let text = try readText(path: path, what: "rank map file", maxBytes: maxBytes)
        let hosts = try nodeList.map { try RankfileFormat.parseNodeList(try readText(path: $0, what: "node list file"), path: $0) }
        return try parse(text, path: path, format: format ?? Format.guess(path: path, text: text), nodeList: hosts)
    }

    public static func parse(_ text: String, path: String = "<rank map>", format: Format, nodeList: [String: [Int]]? = nil) throws -> RankMap {
        var map: RankMap
        switch format {
        case .vcoord: map = try VCoordFormat.parse(text, path: path)
        case .rankfile: map = try RankfileFormat.parse(text, path: path, nodeList: nodeList ?? [:])
        case .json: map = try JSONRankMapFormat.parse(text, path: path)
        }
        map.source = path
        return map
    }

    /// The text of the map in `format`.
    public func text(_ format: Format) -> String {
        switch format {
        case .vcoord: return VCoordFormat.write(self)
        case .rankfile: return RankfileFormat.write(self)
        case .json: return JSONRankMapFormat.write(self)
        }
    }

    // MARK: Placement

    /// The smallest 3-axis shape holding every coordinate (missing axes have length 1).
    public var boundingShape: TorusShape {
        get throws {
            var dims = [1, 1, 1]
            for c in coordinates { for (a, v) in c.enumerated() { dims[a] = max(dims[a], v + 1) } }
            return try TorusShape(dims)
        }
    }

    /// The node of each rank on `shape` (coordinates padded with zeros to its axes), checking that
    /// the map has `ranks` ranks and at most `procsPerNode` ranks on a node when those are given.
    public func nodes(on shape: TorusShape, ranks: Int? = nil, procsPerNode: Int? = nil) throws -> [Int] {
        if let ranks, ranks != rankCount {
            let what = rankCount < ranks ? "fewer" : "more"
            throw TorusError.malformedFile(path: source, line: lines.last ?? 1, found: "\(rankCount) ranks (\(what) than the job has)",
                                           expected: "one entry per rank: \(ranks) ranks")
        }
        var perNode: [Int: Int] = [:]
        return try coordinates.enumerated().map { (rank, c) in
            let text = "(" + c.map(String.init).joined(separator: ",") + ")"
            guard c.count <= shape.axisCount else {
                throw TorusError.malformedFile(path: source, line: line(rank), found: text,
                                               expected: "at most \(shape.axisCount) coordinates for the torus \(shape)")
            }
            let padded = c + Array(repeating: 0, count: shape.axisCount - c.count)
            guard let node = try? shape.node(at: padded) else {
                throw TorusError.malformedFile(path: source, line: line(rank), found: text,
                                               expected: "a coordinate inside the torus \(shape) (each below its axis length)")
            }
            perNode[node, default: 0] += 1
            if let procsPerNode, perNode[node]! > procsPerNode {
                throw TorusError.malformedFile(path: source, line: line(rank), found: "rank \(rank) as process \(perNode[node]!) of node \(text)",
                                               expected: "at most \(procsPerNode) ranks per node (--procs-per-node)")
            }
            return node
        }
    }

    func line(_ rank: Int) -> Int { rank < lines.count ? lines[rank] : rank + 1 }
}

/// Reads a whole file as text (invalid UTF-8 is replaced, so arbitrary bytes reach the strict parsers).
extension RankMap {
    /// The largest rank map read without a job to size it: 256 MiB, over a million ranks at the
    /// longest lines the formats write.
    public static let defaultMaxBytes = 256 << 20

    /// What a map of `ranks` ranks can need: 4 KiB a rank (room for comments and long host
    /// names), at least 1 MiB.
    public static func maxBytes(ranks: Int) -> Int { max(1 << 20, min(defaultMaxBytes, ranks * 4096)) }
}

/// Reads a regular file of at most `maxBytes` bytes as text. A device, FIFO or directory (such as
/// /dev/urandom, which never ends) and a file larger than `maxBytes` are errors that say so.
public func readText(path: String, what: String, maxBytes: Int = RankMap.defaultMaxBytes) throws -> String {
    guard let file = fopen(path, "r") else {
        throw TorusError.invalidValue(name: what, value: path, expected: "a readable file (\(String(cString: strerror(errno))))")
    }
    defer { fclose(file) }
    var info = stat()
    guard fstat(fileno(file), &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        throw TorusError.invalidValue(name: what, value: path, expected: "a regular file (this is a directory, a device or a pipe)")
    }
    guard Int(info.st_size) <= maxBytes else {
        throw TorusError.invalidValue(name: what, value: path,
                                      expected: "a file of at most \(ByteCount.format(maxBytes)) bytes (it has \(ByteCount.format(Int(info.st_size)))): far more than a \(what) needs")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[0..<n]
        guard bytes.count <= maxBytes else {
            throw TorusError.invalidValue(name: what, value: path, expected: "a file of at most \(ByteCount.format(maxBytes)) bytes (it grew while being read)")
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes a text file. An existing file is kept unless `overwrite`: nothing a user gave us is lost.
public func writeText(_ text: String, to path: String, overwrite: Bool) throws {
    if !overwrite, access(path, F_OK) == 0 {
        throw TorusError.invalidValue(name: "output file", value: path, expected: "a path that does not exist yet (pass --force to replace it)")
    }
    guard let file = fopen(path, "w") else {
        throw TorusError.invalidValue(name: "output file", value: path, expected: "a writable path (\(String(cString: strerror(errno))))")
    }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
        throw TorusError.invalidValue(name: "output file", value: path, expected: "a path with room to write (\(String(cString: strerror(errno))))")
    }
}
