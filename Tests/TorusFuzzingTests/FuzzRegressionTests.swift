import Foundation
import Testing
import TorusCore
import TorusFuzzing

/// Every fuzz target on its seeds and on every input a fuzz run ever crashed on
/// (`Inputs/<target>/`, where `scripts/fuzz.sh` copies what it finds): none may crash. And the
/// targets do reach the parsers: the seeds read, broken inputs are refused with an error.
@Suite struct FuzzRegressionTests {
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Inputs")

    static func files(_ target: FuzzTarget) throws -> [URL] {
        let dir = inputs.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).sorted { $0.path < $1.path }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everySavedInputRunsWithoutACrash(_ target: FuzzTarget) throws {
        let files = try Self.files(target)
        #expect(!files.isEmpty, "no seeds for \(target)")
        for file in files {
            let data = try Data(contentsOf: file)
            data.withUnsafeBytes { target.run($0) }
            // Every prefix too: truncated files are the commonest bad input.
            for cut in stride(from: 0, to: data.count, by: max(1, data.count / 16)) {
                data.prefix(cut).withUnsafeBytes { target.run($0) }
            }
        }
    }

    @Test func theRankMapSeedsReadAndTheirTruncationsAreRefused() throws {
        for (target, format) in [(FuzzTarget.vcoord, RankMap.Format.vcoord), (.rankfile, .rankfile), (.json, .json)] {
            for file in try Self.files(target) where file.lastPathComponent.hasPrefix("seed") {
                let text = try String(contentsOf: file, encoding: .utf8)
                let map = try RankMap.parse(text, format: format)
                #expect(map.rankCount > 0)
                #expect(throws: TorusError.self) { try RankMap.parse(String(text.dropLast(text.count / 3)) + "x", format: format) }
            }
        }
    }
}
