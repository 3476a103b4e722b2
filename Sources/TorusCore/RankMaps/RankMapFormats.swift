import Foundation

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

    /// A JSON string literal, escaped by `JSONEncoder`.
    static func quoted(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
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

    /// A JSON string literal, escaped by `JSONEncoder`.
    static func quoted(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
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
    /// The file, decoded strictly: known keys only, every value of its type.
    struct File: Decodable {
        var torus: String?
        var ranks: [Entry]

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            if let extra = c.allKeys.first(where: { !["torus", "ranks"].contains($0.stringValue) }) {
                throw UnknownKey(key: extra.stringValue, path: c.codingPath)
            }
            torus = try c.decodeIfPresent(String.self, forKey: AnyKey("torus"))
            guard c.contains(AnyKey("ranks")) else { throw UnknownKey(key: nil, path: c.codingPath) }
            ranks = try c.decode([Entry].self, forKey: AnyKey("ranks"))
        }
    }

    struct Entry: Decodable {
        var rank: Int?
        var coord: [Int]?
        var fields: String?
        var host: String?
        var slot: String?

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            if let extra = c.allKeys.first(where: { !["rank", "coord", "fields", "host", "slot"].contains($0.stringValue) }) {
                throw UnknownKey(key: extra.stringValue, path: c.codingPath)
            }
            rank = try c.decodeIfPresent(Int.self, forKey: AnyKey("rank"))
            coord = try c.decodeIfPresent([Int].self, forKey: AnyKey("coord"))
            fields = try c.decodeIfPresent(String.self, forKey: AnyKey("fields"))
            host = try c.decodeIfPresent(String.self, forKey: AnyKey("host"))
            slot = try c.decodeIfPresent(String.self, forKey: AnyKey("slot"))
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
    }

    /// A key the format does not have (nil: "ranks" is missing).
    struct UnknownKey: Error {
        var key: String?
        var path: [CodingKey]
    }

    static func parse(_ text: String, path: String) throws -> RankMap {
        let lines = JSONLines(text)
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(text.utf8))
        } catch let error as UnknownKey {
            let rank = error.path.first { $0.intValue != nil }?.intValue
            guard let key = error.key else {
                throw TorusError.malformedFile(path: path, line: 1, found: "no \"ranks\"", expected: "a JSON object with \"ranks\"")
            }
            if let rank {
                throw TorusError.malformedFile(path: path, line: lines.rank(rank), found: "\"\(key)\"",
                                               expected: "\"rank\" (number), \"coord\" (array), \"fields\", \"host\" or \"slot\" (strings)")
            }
            throw TorusError.malformedFile(path: path, line: lines.key(key), found: "key \"\(key)\"", expected: "only the keys \"torus\" and \"ranks\"")
        } catch let error as DecodingError {
            throw describe(error, path: path, lines: lines)
        }
        var torus: TorusShape?
        if let t = file.torus {
            guard let shape = try? TorusShape(parsing: t) else {
                throw TorusError.malformedFile(path: path, line: lines.key("torus"), found: "\"\(t.prefix(30))\"", expected: "\"torus\": a shape string such as \"4x4x4\"")
            }
            torus = shape
        }
        guard !file.ranks.isEmpty else {
            throw TorusError.malformedFile(path: path, line: lines.key("ranks"), found: "no ranks", expected: "\"ranks\": a non-empty array")
        }
        var coordinates: [[Int]] = [], fields: [String] = [], hosts: [String] = [], slots: [String] = [], rankLines: [Int] = []
        let hasHost = file.ranks[0].host != nil, hasSlot = file.ranks[0].slot != nil
        for (index, entry) in file.ranks.enumerated() {
            let line = lines.rank(index)
            if let r = entry.rank, r != index {
                throw TorusError.malformedFile(path: path, line: line, found: "\"rank\": \(r)", expected: "\"rank\": \(index) (ranks in order)")
            }
            guard let coord = entry.coord else {
                throw TorusError.malformedFile(path: path, line: line, found: "a rank without \"coord\"", expected: "\"coord\": [x, y, z]")
            }
            if let bad = coord.first(where: { !(0 ..< 1_000_000_000).contains($0) }) {
                throw TorusError.malformedFile(path: path, line: line, found: "\(bad)", expected: "a non-negative integer coordinate")
            }
            guard (1...3).contains(coord.count) else {
                throw TorusError.malformedFile(path: path, line: line, found: "\(coord.count) coordinates", expected: "1 to 3 coordinates")
            }
            if let first = coordinates.first, first.count != coord.count {
                throw TorusError.malformedFile(path: path, line: line, found: "\(coord.count) coordinates", expected: "\(first.count) coordinates like the ranks before it")
            }
            if (entry.host != nil) != hasHost || (entry.slot != nil) != hasSlot {
                throw TorusError.malformedFile(path: path, line: line, found: "a rank with a different set of keys",
                                               expected: "\"host\" and \"slot\" on every rank or on none")
            }
            coordinates.append(coord); fields.append(entry.fields ?? ""); hosts.append(entry.host ?? ""); slots.append(entry.slot ?? "")
            rankLines.append(line)
        }
        var map = RankMap(torus: torus, coordinates: coordinates, fields: fields, hosts: hasHost ? hosts : nil, slots: hasSlot ? slots : nil)
        map.lines = rankLines
        return map
    }

    /// A decoding error as a file error: the line of the rank or key it is in, what the value
    /// should have been.
    static func describe(_ error: DecodingError, path: String, lines: JSONLines) -> TorusError {
        let (context, found): (DecodingError.Context, String)
        switch error {
        case let .typeMismatch(_, c): (context, found) = (c, "a value of another type")
        case let .valueNotFound(_, c): (context, found) = (c, "null")
        case let .keyNotFound(key, c): (context, found) = (c, "no \"\(key.stringValue)\"")
        case let .dataCorrupted(c):
            // JSONSerialization says where ("around character N", or the end of the file).
            var reason = "text that is not valid JSON"
            do { _ = try JSONSerialization.jsonObject(with: Data(lines.text.utf8)) } catch {
                let said = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
                if !said.isEmpty { reason += " (\(said.trimmingCharacters(in: CharacterSet(charactersIn: "."))))" }
                return TorusError.malformedFile(path: path, line: lines.line(describedIn: said), found: reason,
                                                expected: "valid JSON: {\"torus\": \"4x4x4\", \"ranks\": [{\"rank\": 0, \"coord\": [0,0,0]}, …]}")
            }
            (context, found) = (c, reason)
        @unknown default: return TorusError.malformedFile(path: path, line: 1, found: "\(error)", expected: "a rank map in JSON")
        }
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        let rank = context.codingPath.count >= 2 && context.codingPath[0].stringValue == "ranks" ? context.codingPath[1].intValue : nil
        let last = context.codingPath.last { $0.intValue == nil }?.stringValue
        let expected: String
        switch last {
        case "coord": expected = "\"coord\": an array of non-negative integer coordinates"
        case "rank": expected = "\"rank\": the rank's number"
        case "fields", "host", "slot", "torus": expected = "\"\(last!)\": a string"
        case "ranks": expected = "\"ranks\": an array of rank objects such as {\"rank\": 0, \"coord\": [0,0,0]}"
        default: expected = "valid JSON: {\"torus\": \"4x4x4\", \"ranks\": [{\"rank\": 0, \"coord\": [0,0,0]}, …]}"
        }
        let line = rank.map { lines.rank($0) } ?? context.codingPath.first.map { lines.key($0.stringValue) } ?? 1
        return TorusError.malformedFile(path: path, line: line, found: found + (keys.isEmpty ? "" : " at \(keys)"), expected: expected)
    }

    /// A JSON string literal, escaped by `JSONEncoder`.
    static func quoted(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    static func write(_ map: RankMap) -> String {
        var out = "{\n"
        if let torus = map.torus { out += "  \"torus\": \"\(torus)\",\n" }
        out += "  \"ranks\": [\n"
        for (rank, c) in map.coordinates.enumerated() {
            var item = "    {\"rank\": \(rank), \"coord\": [" + c.map(String.init).joined(separator: ", ") + "]"
            if rank < map.fields.count, !map.fields[rank].isEmpty { item += ", \"fields\": " + quoted(map.fields[rank]) }
            if let hosts = map.hosts { item += ", \"host\": " + quoted(hosts[rank]) }
            if let slots = map.slots { item += ", \"slot\": " + quoted(slots[rank]) }
            out += item + "}" + (rank + 1 < map.coordinates.count ? ",\n" : "\n")
        }
        return out + "  ]\n}\n"
    }
}

/// Where things stand in a JSON text, for error messages: the line of each key of the top-level
/// object and of each item of its "ranks" array. Not a reader: `JSONDecoder` reads the file; this
/// only follows strings and nesting to count lines.
struct JSONLines {
    let text: String
    private var keys: [String: Int] = [:]
    private var ranks: [Int] = []

    init(_ text: String) {
        self.text = text
        var line = 1, depth = 0, inString = false, escaped = false
        var string: [UInt8] = [], expectKey = false, lastKey = "", expectItem = false
        for b in text.utf8 {
            if b == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1 && expectKey {
                        lastKey = String(decoding: string, as: UTF8.self)
                        if keys[lastKey] == nil { keys[lastKey] = line }
                        expectKey = false
                    }
                } else { string.append(b) }
                continue
            }
            if [0x20, 0x09, 0x0A, 0x0D].contains(b) { continue }
            if depth == 2 && expectItem && lastKey == "ranks" && b != UInt8(ascii: "]") { ranks.append(line) }
            expectItem = false
            switch b {
            case UInt8(ascii: "\""):
                inString = true
                string = []
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectKey = depth == 1 && b == UInt8(ascii: "{")
                expectItem = depth == 2 && b == UInt8(ascii: "[")
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                expectKey = depth == 1
                expectItem = depth == 2
            default:
                break
            }
        }
    }

    /// The line of top-level key `key` (1 if absent).
    func key(_ key: String) -> Int { keys[key] ?? 1 }
    /// The line where item `index` of "ranks" starts (the last known line past the end).
    func rank(_ index: Int) -> Int { index < ranks.count ? ranks[index] : (ranks.last ?? 1) }
    /// The line of the place a parser's message names: "character N" (a UTF-8 offset), or the end
    /// of the file; else 1.
    func line(describedIn message: String) -> Int {
        let bytes = Array(text.utf8)
        var end = 0
        if let r = message.range(of: "character "), let n = Int(message[r.upperBound...].prefix { $0.isNumber }) {
            end = min(n, bytes.count)
        } else if message.contains("end of file") {
            end = bytes.count
        } else {
            return 1
        }
        return 1 + bytes[..<end].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
