import Foundation
import Testing

/// The README's Swift example is the `example-readme` target, which the build compiles: the two
/// texts must stay the same.
@Suite struct ReadmeExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func readmeAllReduceExampleIsTheCompiledExample() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent("Examples/Readme/main.swift"), encoding: .utf8)
        let section = try #require(readme.range(of: "## AllReduce"))
        let open = try #require(readme.range(of: "```swift\n", range: section.upperBound ..< readme.endIndex))
        let close = try #require(readme.range(of: "```", range: open.upperBound ..< readme.endIndex))
        let block = String(readme[open.upperBound ..< close.lowerBound])
        let code = example.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("//") }.joined(separator: "\n")
        #expect(code == block)
    }
}
