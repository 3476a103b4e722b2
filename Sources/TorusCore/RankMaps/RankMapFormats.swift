/// Fujitsu `--vcoordfile`: line i holds rank i's coordinate `(x)`, `(x,y)` or `(x,y,z)`, optionally
/// followed by fields such as `core=N`, which are kept. Lines starting with `#` are comments.
enum VCoordFormat {
    static func parse(_ text: String, path: String) throws -> RankMap {
        var coordinates: [[Int]] = []
        var fields: [String] = []
        var lines: [Int] = []
        let expected = "a coordinate such as (0,1,2) at the start of the line, optionally followed by fields such as core=3"
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.first == "#" { continue }
            let found = String(line.prefix(40))
            guard line.first == "(" else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: expected)
            }
            guard let close = line.firstIndex(of: ")") else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "a closing ')' after the coordinate, as in (0,1,2)")
            }
            let c = try integers(line[line.index(after: line.startIndex)..<close].split(separator: ",", omittingEmptySubsequences: false),
                                 path: path, line: lineNumber, found: found)
            guard (1...3).contains(c.count) else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "1 to 3 coordinates: (x), (x,y) or (x,y,z)")
            }
            if let first = coordinates.first, first.count != c.count {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "\(first.count) coordinates like the lines before it")
            }
            let rest = line[line.index(after: close)...]
            if let first = rest.first, first != " ", first != "\t" {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "a space between the coordinate and the fields after it")
            }
            coordinates.append(c)
            fields.append(String(rest.drop { $0 == " " || $0 == "\t" }))
            lines.append(lineNumber)
        }
        var map = RankMap(coordinates: coordinates, fields: fields)
        map.lines = lines
        return map
    }

    static func write(_ map: RankMap) -> String {
        var out = ""
        for (rank, c) in map.coordinates.enumerated() {
            out += "(" + c.map(String.init).joined(separator: ",") + ")"
            if rank < map.fields.count, !map.fields[rank].isEmpty { out += " " + map.fields[rank] }
            out += "\n"
        }
        return out
    }

    /// Non-negative decimal integers (spaces around them allowed), or a malformed-file error.
    static func integers<S: Sequence>(_ texts: S, path: String, line: Int, found: String) throws -> [Int] where S.Element: StringProtocol {
        try texts.map { f in
            let t = f.filter { $0 != " " && $0 != "\t" }
            guard !t.isEmpty, t.count <= 9, t.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(String(t)) else {
                throw TorusError.malformedFile(path: path, line: line, found: found,
                                               expected: "non-negative integers (below 10^9) separated by commas or spaces")
            }
            return v
        }
    }
}

/// Open MPI rankfile: `rank N=host slot=S` lines (ranks in any order, each once). A host's torus
/// coordinate comes from a node list: `# node host x y z` comment lines in the rankfile itself (which
/// Open MPI ignores), or a separate file of `host x y z` lines. `# torus XxYxZ` names the machine.
enum RankfileFormat {
    static func parse(_ text: String, path: String, nodeList: [String: [Int]]) throws -> RankMap {
        var nodes = nodeList
        var entries: [Int: (host: String, slot: String, line: Int)] = [:]
        var torus: TorusShape?
        var hostLine: [String: Int] = [:]
        let expected = "a line 'rank N=host slot=S' (or a '# node host x y z' / '# torus XxYxZ' comment)"
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            let found = String(line.prefix(60))
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.isEmpty { continue }
            if words[0].hasPrefix("#") {
                if words[0] == "#", words.count >= 2, words[1] == "node" {
                    guard words.count >= 4, words.count <= 6 else {
                        throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "'# node host x y z' (1 to 3 coordinates)")
                    }
                    let host = String(words[2])
                    guard nodes[host] == nil || nodeList[host] != nil else {
                        throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "each host listed once")
                    }
                    nodes[host] = try VCoordFormat.integers(words[3...], path: path, line: lineNumber, found: found)
                } else if words[0] == "#", words.count == 3, words[1] == "torus" {
                    do { torus = try TorusShape(parsing: String(words[2])) } catch {
                        throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "'# torus XxYxZ' with a valid shape")
                    }
                }
                continue
            }
            // rank N=host slot=S
            guard words.count == 3, words[0] == "rank", words[2].hasPrefix("slot="), words[2].count > 5 else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: expected)
            }
            let assignment = words[1].split(separator: "=", omittingEmptySubsequences: false)
            guard assignment.count == 2, !assignment[1].isEmpty, assignment[0].count <= 9,
                  assignment[0].allSatisfy({ $0.isASCII && $0.isNumber }), let rank = Int(assignment[0]) else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found, expected: "'rank N=host' with N a rank number and a host name")
            }
            guard entries[rank] == nil else {
                throw TorusError.malformedFile(path: path, line: lineNumber, found: found,
                                               expected: "each rank once (rank \(rank) is on line \(entries[rank]!.line) already)")
            }
            let host = String(assignment[1])
            entries[rank] = (host, String(words[2].dropFirst(5)), lineNumber)
            if hostLine[host] == nil { hostLine[host] = lineNumber }
        }
        guard !entries.isEmpty else {
            throw TorusError.malformedFile(path: path, line: 1, found: "no rank lines", expected: "one 'rank N=host slot=S' line per rank")
        }
        let count = entries.count
        if let missing = (0..<count).first(where: { entries[$0] == nil }) {
            let highest = entries.keys.max()!
            throw TorusError.malformedFile(path: path, line: entries[highest]!.line, found: "rank \(highest) but no rank \(missing)",
                                           expected: "ranks numbered 0 to \(count - 1), each once")
        }
        var coordinates: [[Int]] = [], hosts: [String] = [], slots: [String] = [], lines: [Int] = []
        var axes: Int?
        for rank in 0..<count {
            let e = entries[rank]!
            guard let c = nodes[e.host] else {
                throw TorusError.malformedFile(path: path, line: e.line, found: "host '\(e.host)' without a coordinate",
                                               expected: "a '# node \(e.host) x y z' line in the rankfile or a node list file (--nodes FILE) that places \(e.host)")
            }
            guard (1...3).contains(c.count), axes == nil || axes == c.count else {
                throw TorusError.malformedFile(path: path, line: e.line, found: "host '\(e.host)' at (" + c.map(String.init).joined(separator: ",") + ")",
                                               expected: "every host with the same number (1 to 3) of coordinates")
            }
            axes = c.count
            coordinates.append(c); hosts.append(e.host); slots.append(e.slot); lines.append(e.line)
        }
        var map = RankMap(torus: torus, coordinates: coordinates, hosts: hosts, slots: slots)
        map.lines = lines
        return map
    }

    /// A node list file: `host x y z` per line, `#` comments.
    static func parseNodeList(_ text: String, path: String) throws -> [String: [Int]] {
        var nodes: [String: [Int]] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty || words[0].hasPrefix("#") { continue }
            let found = String(raw.prefix(60))
            guard (2...4).contains(words.count) else {
                throw TorusError.malformedFile(path: path, line: index + 1, found: found, expected: "'host x y z': a host name and 1 to 3 coordinates")
            }
            guard nodes[String(words[0])] == nil else {
                throw TorusError.malformedFile(path: path, line: index + 1, found: found, expected: "each host listed once")
            }
            nodes[String(words[0])] = try VCoordFormat.integers(words[1...], path: path, line: index + 1, found: found)
        }
        return nodes
    }

    static func write(_ map: RankMap) -> String {
        let hosts = map.hosts ?? map.coordinates.map { "n" + $0.map(String.init).joined(separator: "-") }
        var slots = map.slots ?? []
        if map.slots == nil {
            var used: [String: Int] = [:]
            for h in hosts { slots.append(String(used[h, default: 0])); used[h, default: 0] += 1 }
        }
        var out = map.torus.map { "# torus \($0)\n" } ?? ""
        var listed = Set<String>()
        for (rank, h) in hosts.enumerated() where listed.insert(h).inserted {
            out += "# node \(h) " + map.coordinates[rank].map(String.init).joined(separator: " ") + "\n"
        }
        for rank in hosts.indices { out += "rank \(rank)=\(hosts[rank]) slot=\(slots[rank])\n" }
        return out
    }
}

/// The JSON form: `{"torus": "4x4x4", "ranks": [{"rank": 0, "coord": [0,0,0]}, …]}`, one rank per
/// line; optional `fields` (vcoord), `host` and `slot` (rankfile) per rank keep what other formats
/// carry. Read by a small strict parser that knows the line of every value.
enum JSONRankMapFormat {
    static func parse(_ text: String, path: String) throws -> RankMap {
        var parser = MiniJSON(Array(text.utf8), path: path)
        let root = try parser.document()
        guard case let .object(members) = root.value else {
            throw TorusError.malformedFile(path: path, line: root.line, found: root.kind, expected: "a JSON object with \"ranks\"")
        }
        var torus: TorusShape?
        var ranks: [MiniJSON.Node]?
        for (key, value) in members {
            switch key {
            case "torus":
                guard case let .string(s) = value.value, let shape = try? TorusShape(parsing: s) else {
                    throw TorusError.malformedFile(path: path, line: value.line, found: value.kind, expected: "\"torus\": a shape string such as \"4x4x4\"")
                }
                torus = shape
            case "ranks":
                guard case let .array(items) = value.value else {
                    throw TorusError.malformedFile(path: path, line: value.line, found: value.kind, expected: "\"ranks\": an array of rank objects")
                }
                ranks = items
            default:
                throw TorusError.malformedFile(path: path, line: value.line, found: "key \"\(key)\"", expected: "only the keys \"torus\" and \"ranks\"")
            }
        }
        guard let ranks, !ranks.isEmpty else {
            throw TorusError.malformedFile(path: path, line: root.line, found: "no ranks", expected: "\"ranks\": a non-empty array")
        }
        var coordinates: [[Int]] = [], fields: [String] = [], hosts: [String] = [], slots: [String] = [], lines: [Int] = []
        var hasHost = false, hasSlot = false
        for (index, item) in ranks.enumerated() {
            guard case let .object(members) = item.value else {
                throw TorusError.malformedFile(path: path, line: item.line, found: item.kind, expected: "a rank object such as {\"rank\": \(index), \"coord\": [0,0,0]}")
            }
            var coord: [Int]?
            var field = "", host: String?, slot: String?
            for (key, value) in members {
                switch (key, value.value) {
                case ("rank", .number(let n)) where n == String(index): break
                case ("rank", _):
                    throw TorusError.malformedFile(path: path, line: value.line, found: "\"rank\": \(value.kind)", expected: "\"rank\": \(index) (ranks in order)")
                case ("coord", .array(let xs)):
                    coord = try xs.map { x in
                        guard case let .number(n) = x.value, n.count <= 9, n.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(n) else {
                            throw TorusError.malformedFile(path: path, line: x.line, found: x.kind, expected: "a non-negative integer coordinate")
                        }
                        return v
                    }
                    guard (1...3).contains(coord!.count) else {
                        throw TorusError.malformedFile(path: path, line: value.line, found: "\(coord!.count) coordinates", expected: "1 to 3 coordinates")
                    }
                case ("fields", .string(let s)): field = s
                case ("host", .string(let s)): host = s
                case ("slot", .string(let s)): slot = s
                default:
                    throw TorusError.malformedFile(path: path, line: value.line, found: "\"\(key)\": \(value.kind)",
                                                   expected: "\"rank\" (number), \"coord\" (array), \"fields\", \"host\" or \"slot\" (strings)")
                }
            }
            guard let coord else {
                throw TorusError.malformedFile(path: path, line: item.line, found: "a rank without \"coord\"", expected: "\"coord\": [x, y, z]")
            }
            if let first = coordinates.first, first.count != coord.count {
                throw TorusError.malformedFile(path: path, line: item.line, found: "\(coord.count) coordinates", expected: "\(first.count) coordinates like the ranks before it")
            }
            if index > 0, (host != nil) != hasHost || (slot != nil) != hasSlot {
                throw TorusError.malformedFile(path: path, line: item.line, found: "a rank with a different set of keys",
                                               expected: "\"host\" and \"slot\" on every rank or on none")
            }
            hasHost = host != nil; hasSlot = slot != nil
            coordinates.append(coord); fields.append(field); hosts.append(host ?? ""); slots.append(slot ?? ""); lines.append(item.line)
        }
        var map = RankMap(torus: torus, coordinates: coordinates, fields: fields, hosts: hasHost ? hosts : nil, slots: hasSlot ? slots : nil)
        map.lines = lines
        return map
    }

    static func write(_ map: RankMap) -> String {
        var out = "{\n"
        if let torus = map.torus { out += "  \"torus\": \"\(torus)\",\n" }
        out += "  \"ranks\": [\n"
        for (rank, c) in map.coordinates.enumerated() {
            var item = "    {\"rank\": \(rank), \"coord\": [" + c.map(String.init).joined(separator: ", ") + "]"
            if rank < map.fields.count, !map.fields[rank].isEmpty { item += ", \"fields\": " + MiniJSON.quote(map.fields[rank]) }
            if let hosts = map.hosts { item += ", \"host\": " + MiniJSON.quote(hosts[rank]) }
            if let slots = map.slots { item += ", \"slot\": " + MiniJSON.quote(slots[rank]) }
            out += item + "}" + (rank + 1 < map.coordinates.count ? ",\n" : "\n")
        }
        return out + "  ]\n}\n"
    }
}

/// A small strict JSON reader that records the line of every value (for error messages) and keeps
/// numbers as their text. Depth is limited, so hostile input cannot exhaust the stack.
struct MiniJSON {
    indirect enum Value {
        case object([(String, Node)]), array([Node]), string(String), number(String), bool(Bool), null
    }
    struct Node {
        var value: Value
        var line: Int
        var kind: String {
            switch value {
            case .object: return "an object"
            case .array: return "an array"
            case let .string(s): return "\"\(s.prefix(30))\""
            case let .number(n): return n
            case let .bool(b): return "\(b)"
            case .null: return "null"
            }
        }
    }

    let bytes: [UInt8]
    let path: String
    var i = 0
    var line = 1
    static let maxDepth = 64

    init(_ bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    func fail(_ expected: String) -> TorusError {
        let found = i < bytes.count ? String(decoding: bytes[i..<min(bytes.count, i + 20)], as: UTF8.self) : "the end of the file"
        return TorusError.malformedFile(path: path, line: line, found: found, expected: expected)
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) {
            if bytes[i] == 0x0A { line += 1 }
            i += 1
        }
    }

    mutating func document() throws -> Node {
        let v = try value(depth: 0)
        skipSpace()
        guard i == bytes.count else { throw fail("nothing after the closing '}'") }
        return v
    }

    mutating func value(depth: Int) throws -> Node {
        skipSpace()
        guard depth < MiniJSON.maxDepth else { throw fail("JSON nested at most \(MiniJSON.maxDepth) deep") }
        guard i < bytes.count else { throw fail("a JSON value") }
        let start = line
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, Node)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return Node(value: .object([]), line: start) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("a quoted key") }
                let key = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("':' after the key") }
                i += 1
                let v = try value(depth: depth + 1)
                if members.contains(where: { $0.0 == key }) {
                    throw TorusError.malformedFile(path: path, line: v.line, found: "key \"\(key)\" twice", expected: "each key once")
                }
                members.append((key, v))
                skipSpace()
                guard i < bytes.count else { throw fail("',' or '}'") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return Node(value: .object(members), line: start) }
                throw fail("',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [Node] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return Node(value: .array([]), line: start) }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("',' or ']'") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return Node(value: .array(items), line: start) }
                throw fail("',' or ']'")
            }
        case UInt8(ascii: "\""):
            return Node(value: .string(try string()), line: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let s = i
            i += 1
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i])
                    || [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[i]) { i += 1 }
            return Node(value: .number(String(decoding: bytes[s..<i], as: UTF8.self)), line: start)
        default:
            for (word, v) in [("true", Value.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w { i += w.count; return Node(value: v, line: start) }
            }
            throw fail("a JSON value (object, array, string, number, true, false or null)")
        }
    }

    mutating func string() throws -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if b < 0x20 { throw fail("a closing '\"' before the end of the line") }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { break }
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(v) else { throw fail("four hex digits after \\u") }
                    out += Array(String(Character(scalar)).utf8)
                    i += 4
                default: throw fail("a valid escape (\\\" \\\\ \\/ \\n \\t \\r \\b \\f \\uXXXX)")
                }
                continue
            }
            out.append(b)
            i += 1
        }
        throw fail("a closing '\"'")
    }
}
