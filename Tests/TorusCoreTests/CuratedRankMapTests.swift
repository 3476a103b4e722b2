import Foundation
import Testing
@testable import TorusCore

/// Every map in RankMaps/ loads, is valid for the torus and job its README row names, and has the
/// report figures that row states.
@Suite struct CuratedRankMapTests {
    /// The repository's RankMaps/ folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("RankMaps").path

    struct Row {
        var file: String, torus: String, job: String, dpWorst: Int, dpMean: Double, tpWorst: Int, busiest: Int
    }

    static func rows() throws -> [Row] {
        let text = try readText(path: folder + "/README.md", what: "README")
        return text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 8, cells[0].hasPrefix("`") else { return nil }
            return Row(file: String(cells[0].dropFirst().dropLast()), torus: cells[1], job: cells[2], dpWorst: Int(cells[4])!,
                       dpMean: Double(cells[5])!, tpWorst: Int(cells[6])!, busiest: Int(cells[7])!)
        }
    }

    @Test func everyShippedMapMatchesItsReadmeFigures() throws {
        let rows = try Self.rows()
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0 != "README.md" }
        #expect(Set(rows.map(\.file)) == Set(files), "every map in RankMaps/ has a README row and every row a map")
        #expect(rows.count >= 6)
        for row in rows {
            let map = try RankMap.load(path: Self.folder + "/" + row.file)
            let machine = try TorusShape(parsing: row.torus)
            let layout = try JobLayout(parsing: row.job, ranks: map.rankCount)
            let nodes = try map.nodes(on: machine, ranks: layout.ranks, procsPerNode: 1)
            let r = try PlacementReport.of(nodes: nodes, on: machine, layout: layout)
            #expect(r.dp.worstHops == row.dpWorst, "\(row.file)")
            #expect(abs(r.dp.meanHops - row.dpMean) < 0.005, "\(row.file)")
            #expect(r.tp.worstHops == row.tpWorst, "\(row.file)")
            #expect(r.dpMaxLinkLoad == row.busiest, "\(row.file)")
        }
    }
}

