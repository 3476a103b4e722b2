import Foundation
import Testing
@testable import TorusCore

@Suite struct RankMapTests {
    @Test func vcoordKeepsTrailingFieldsAndRoundTrips() throws {
        let map = try RankMap.parse("# a comment\n(0,0,0) core=1\n(1,0,0)\n(0,1,0)  core=3 x=y\n\n", path: "m", format: .vcoord)
        #expect(map.coordinates == [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
        #expect(map.fields == ["core=1", "", "core=3 x=y"])
        #expect(map.lines == [2, 3, 4])
        #expect(try map.boundingShape.dims == [2, 2, 1])
        #expect(try map.nodes(on: TorusShape(2, 2, 1)) == [0, 1, 2])
        #expect(try RankMap.parse("(3)\n(1)", format: .vcoord).coordinates == [[3], [1]])
        let text = map.text(.vcoord)
        #expect(text == "(0,0,0) core=1\n(1,0,0)\n(0,1,0) core=3 x=y\n")
        #expect(try RankMap.parse(text, format: .vcoord) == map)
        #expect(try RankMap.parse(text, format: .vcoord).text(.vcoord) == text)
    }

    @Test func everyFormatRoundTripsEveryOther() throws {
        let shape = try TorusShape(4, 2, 3)
        var map = RankMap(nodes: [5, 0, 0, 23, 7, 12], on: shape)
        map.fields = ["core=2", "", "core=1 mem=a", "", "", "x"]
        for format in RankMap.Format.allCases {
            let text = map.text(format)
            let back = try RankMap.parse(text, path: "t", format: format)
            #expect(back.coordinates == map.coordinates, "\(format)")
            #expect(RankMap.Format.guess(path: "t", text: text) == format)
            // Read back, written again: the same text.
            #expect(back.text(format) == text, "\(format)")
        }
        #expect(try RankMap.parse(map.text(.json), format: .json) == map)
        let rankfile = try RankMap.parse(map.text(.rankfile), format: .rankfile)
        #expect(rankfile.hosts == ["n1-1-0", "n0-0-0", "n0-0-0", "n3-1-2", "n3-1-0", "n0-1-1"])
        #expect(rankfile.slots == ["0", "0", "1", "0", "0", "0"])
        #expect(rankfile.torus == shape)
        // JSON carries hosts and slots too, so a rankfile survives a trip through JSON.
        #expect(try RankMap.parse(rankfile.text(.json), format: .json) == rankfile)
        #expect(try RankMap.parse(rankfile.text(.json), format: .json).text(.rankfile) == map.text(.rankfile))
    }

    @Test func rankfileWithASeparateNodeListAndRanksInAnyOrder() throws {
        let text = "rank 1=b slot=0:1\nrank 0=a slot=0\n# a comment\nrank 2=a slot=1\n"
        let nodes = try RankfileFormat.parseNodeList("# hosts\na 0 0 0\nb 1 0 0\n", path: "hosts")
        let map = try RankMap.parse(text, path: "rf", format: .rankfile, nodeList: nodes)
        #expect(map.coordinates == [[0, 0, 0], [1, 0, 0], [0, 0, 0]])
        #expect(map.slots == ["0", "0:1", "1"])
        #expect(map.lines == [2, 1, 4])
        #expect(try map.nodes(on: TorusShape(2, 1, 1), procsPerNode: 2) == [0, 1, 0])
        #expect(throws: TorusError.self) { try map.nodes(on: TorusShape(2, 1, 1), procsPerNode: 1) }
    }

    @Test(arguments: [
        (RankMap.Format.vcoord, "(0,0,0)\n(1,0\n", 2, "closing ')'"),
        (.vcoord, "(0,0,0)\n1,0,0)\n", 2, "at the start of the line"),
        (.vcoord, "(0,0,0)\n(0,0)\n", 2, "3 coordinates"),
        (.vcoord, "(0,-1,0)\n", 1, "non-negative"),
        (.vcoord, "(0,0,0,0)\n", 1, "1 to 3"),
        (.vcoord, "(0,0,0)core=1\n", 1, "a space"),
        (.vcoord, "(a,0,0)\n", 1, "non-negative integers"),
        (.vcoord, "(0,0,0)\nrank 1=a slot=0\n", 2, "a coordinate such as"),
        (.rankfile, "# node a 0 0 0\nrank 0=a slot=0\n(1,0,0)\n", 3, "rank N=host slot=S"),
        (.rankfile, "# node a 0 0 0\nrank 0=a slot=0\nrank 0=a slot=1\n", 3, "each rank once"),
        (.rankfile, "# node a 0 0 0\nrank 0=a slot=0\nrank 2=a slot=1\n", 3, "numbered 0 to 1"),
        (.rankfile, "rank 0=a slot=0\n", 1, "'# node a x y z'"),
        (.rankfile, "# node a 0 0 0\nrank x=a slot=0\n", 2, "rank number"),
        (.rankfile, "# node a 0 0 0\nrank 0=a\n", 2, "rank N=host slot=S"),
        (.rankfile, "# node a 0 0 0\n# node b 1 0\nrank 0=a slot=0\nrank 1=b slot=0\n", 4, "same number"),
        (.json, "{\"ranks\": [{\"rank\": 0, \"coord\": [0,0,0]},\n {\"rank\": 2, \"coord\": [1,0,0]}]}", 2, "\"rank\": 1"),
        (.json, "{\"ranks\": [\n{\"coord\": [0,0,-1]}]}", 2, "non-negative integer"),
        (.json, "{\"ranks\": [\n{\"coord\": [0,0,0]},\n{\"coord\": [0,0]}]}", 3, "3 coordinates"),
        (.json, "{\"ranks\": [{\"coord\": [0,0,0]}],\n \"extra\": 1}", 2, "only the keys"),
        (.json, "{\"ranks\": [{\"coord\": [0,0,0]}\n", 2, "not valid JSON"),
        (.json, "{\"ranks\": [\n{\"coord\": [0,0,0]},\n{\"coord\": [0,\"1\",0]}]}", 3, "non-negative integer"),
        (.json, "{\"ranks\": [\n{\"coord\": [0,0,0], \"core\": 2}]}", 2, "\"coord\" (array)"),
        (.json, "{\"torus\": \"4x0\", \"ranks\": []}", 1, "a shape string"),
        (.json, "{\"ranks\": []}", 1, "non-empty"),
    ])
    func malformedInputNamesFileLineFoundAndExpected(format: RankMap.Format, text: String, line: Int, mentions: String) {
        do {
            _ = try RankMap.parse(text, path: "map.txt", format: format)
            Issue.record("accepted \(text)")
        } catch {
            #expect("\(error)".hasPrefix("map.txt:\(line): found"), "\(error)")
            #expect("\(error)".contains(mentions), "\(error)")
        }
    }

    @Test func mapsThatDoNotFitTheJobOrTorusAreErrors() throws {
        let map = try RankMap.parse("(0,0,0)\n(2,0,0)\n", path: "m", format: .vcoord)
        #expect(throws: TorusError.self) { try map.nodes(on: TorusShape(2, 2, 2)) }
        #expect(throws: TorusError.self) { try map.nodes(on: TorusShape(4, 2, 2), ranks: 3) }
        #expect(throws: TorusError.self) { try map.nodes(on: TorusShape([4, 2])) == [] && false }
        #expect(try map.nodes(on: TorusShape(4, 2, 2), ranks: 2) == [0, 2])
    }

    /// What is not a regular file (a device that never ends, a directory) and files far larger
    /// than the map can need are refused before reading, with a message saying so.
    @Test func devicesDirectoriesAndHugeFilesAreRefused() throws {
        for path in ["/dev/urandom", "/dev/zero", NSTemporaryDirectory()] {
            #expect { _ = try RankMap.load(path: path) } throws: { "\($0)".contains("a regular file") }
        }
        let path = NSTemporaryDirectory() + "torus-big-\(getpid()).vcoord"
        try writeText(String(repeating: "(0,0,0)\n", count: 200_000), to: path, overwrite: true)
        defer { unlink(path) }
        #expect { _ = try RankMap.load(path: path, maxBytes: RankMap.maxBytes(ranks: 8)) } throws: { "\($0)".contains("at most 1M bytes") }
        #expect(try RankMap.load(path: path).coordinates.count == 200_000)
        #expect(RankMap.maxBytes(ranks: 8) == 1 << 20 && RankMap.maxBytes(ranks: 1 << 20) == RankMap.defaultMaxBytes)
    }

    /// Random bytes and random mutations of valid files: every input is either read or refused
    /// with a malformed-file error; nothing crashes and nothing else is thrown.
    @Test func readingArbitraryBytesNeverCrashes() throws {
        var rng = SplitMix64(seed: 42)
        let shape = try TorusShape(3, 2, 2)
        var seedMap = RankMap(nodes: Array(0..<12).shuffled(using: &rng), on: shape)
        seedMap.fields[3] = "core=7"
        let alphabet = Array("(),=# \n\t0123456789-rankslotnode{}[]\":x.eE+\\u".utf8)
        var accepted = 0, refused = 0
        for trial in 0..<3000 {
            let format = RankMap.Format.allCases[trial % 3]
            var bytes: [UInt8]
            if trial % 4 == 0 {
                bytes = (0..<Int(rng.next() % 200)).map { _ in
                    rng.next() % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
            } else {
                bytes = Array(seedMap.text(format).utf8)
                for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
                    let at = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 4 {
                    case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                    default: bytes.removeSubrange(at..<min(bytes.count, at + Int(rng.next() % 30)))
                    }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let map = try RankMap.parse(text, path: "fuzz", format: format)
                _ = try? map.nodes(on: shape, ranks: 12, procsPerNode: 2)
                _ = map.text(.json)
                accepted += 1
            } catch let error as TorusError {
                guard case .malformedFile = error else { Issue.record("unexpected \(error)"); continue }
                refused += 1
            }
        }
        #expect(accepted > 30 && refused > 1000, "accepted \(accepted) refused \(refused)")
    }

    @Test func deepJSONNestingIsRefusedNotAStackOverflow() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: TorusError.self) { try RankMap.parse(text, format: .json) }
    }
}

@Suite struct JobLayoutTests {
    @Test func megatronOrderAndGroups() throws {
        let job = try JobLayout(parsing: "tp=2,pp=3,dp=4")
        #expect(job.ranks == 24)
        #expect(job.rank(tp: 1, pp: 2, dp: 3) == (2 * 4 + 3) * 2 + 1)
        for r in 0..<24 {
            let i = job.indices(of: r)
            #expect(job.rank(tp: i.tp, pp: i.pp, dp: i.dp) == r)
        }
        #expect(job.groups(.dp)[0] == [0, 2, 4, 6])
        #expect(job.groups(.dp)[1] == [1, 3, 5, 7])
        #expect(job.groups(.tp)[0] == [0, 1])
        #expect(job.groups(.pp)[0] == [0, 8, 16])
        for kind in JobLayout.GroupKind.allCases {
            #expect(job.groups(kind).flatMap { $0 }.sorted() == Array(0..<24))
        }
        #expect(job.dpGroup(of: 7) == 1)
        #expect(try JobLayout(parsing: "pp=2,tp=4", ranks: 64).dp == 8)
        #expect(throws: TorusError.self) { try JobLayout(parsing: "tp=3", ranks: 64) }
        #expect(throws: TorusError.self) { try JobLayout(parsing: "tp=0,dp=4") }
        #expect(throws: TorusError.self) { try JobLayout(parsing: "tp=2,tp=2") }
        #expect(throws: TorusError.self) { try JobLayout(parsing: "xy=2") }
    }
}

@Suite struct PlacementTests {
    @Test func generatedFugakuLayoutRunsEveryDPRingOneHopOnItsOwnLinks() throws {
        let machine = try TorusShape(48, 6, 48)
        let job = try JobLayout(tp: 6, pp: 8, dp: 288)
        let g = try PlacementGenerator.generate(layout: job, machine: machine, procsPerNode: 1)
        #expect(Set(g.nodes).count == machine.nodeCount)
        #expect(g.report.dp.worstHops == 1 && g.report.dpMaxLinkLoad == 1 && g.report.dpBoxes == 48)
        #expect(g.report.tp.worstHops <= 2)
        let naive = try PlacementGenerator.naive(layout: job, machine: machine, procsPerNode: 1)
        let n = try PlacementReport.of(nodes: naive, on: machine, layout: job)
        #expect(n.dp.worstHops > g.report.dp.worstHops && n.dpMaxLinkLoad > g.report.dpMaxLinkLoad)
    }

    @Test func tpGroupsShareANodeWhenTheyFit() throws {
        let g = try PlacementGenerator.generate(layout: JobLayout(tp: 4, pp: 1, dp: 16), machine: TorusShape(4, 2, 2), procsPerNode: 4)
        #expect(g.report.tp.worstHops == 0 && g.report.procsPerNode == 4)
        #expect(g.report.dp.worstHops == 1)
    }

    @Test func aDPGroupOnPartOfAnAxisGetsAFoldedRing() throws {
        // dp=4 on an 8-long X axis cannot close its ring in one hop: folded, dilation 2, not 3.
        let g = try PlacementGenerator.generate(layout: JobLayout(tp: 1, pp: 2, dp: 4), machine: TorusShape(8, 1, 1), procsPerNode: 1)
        #expect(g.report.dp.worstHops == 2)
    }

    @Test func impossibleJobsAreRefusedWithWhatWouldFit() throws {
        do {
            _ = try PlacementGenerator.generate(layout: JobLayout(tp: 6, pp: 8, dp: 300), machine: TorusShape(48, 6, 48), procsPerNode: 1)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("dp=288"), "\(error)")
        }
        do {
            _ = try PlacementGenerator.generate(layout: JobLayout(tp: 2, pp: 1, dp: 16), machine: TorusShape(2, 2, 2), procsPerNode: 1)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("--procs-per-node 4"), "\(error)")
        }
    }

    @Test func snakeDigitsMoveOneStepAtATime() {
        let radices = [3, 2, 4]
        var previous = PlacementGenerator.snakeDigits(0, radices: radices)
        for v in 1..<24 {
            let d = PlacementGenerator.snakeDigits(v, radices: radices)
            #expect(zip(d, previous).map { abs($0 - $1) }.reduce(0, +) == 1)
            previous = d
        }
    }

    @Test func pictureHasAPanelPerPlaneAndACellPerRank() throws {
        let machine = try TorusShape(4, 4, 4)
        let job = try JobLayout(tp: 2, pp: 2, dp: 16)
        let g = try PlacementGenerator.generate(layout: job, machine: machine, procsPerNode: 1)
        let svg = PlacementPicture.svg(nodes: g.nodes, on: machine, layout: job, title: "t")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components("z=") == 4)
        #expect(svg.components("<title>rank ") == 64)
        #expect(svg.components("<line ") + svg.components("<circle ") / 2 == 32)
    }
}

extension String {
    func components(_ needle: String) -> Int {
        var count = 0, rest = Substring(self)
        while let r = rest.range(of: needle) { count += 1; rest = rest[r.upperBound...] }
        return count
    }
}
