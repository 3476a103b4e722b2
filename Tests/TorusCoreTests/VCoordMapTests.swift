import Testing
@testable import TorusCore

@Suite struct VCoordMapTests {
    @Test func parsesCoordinatesAndKeepsTrailingFields() throws {
        let map = try VCoordMap.parse("# a comment\n(0,0,0) core=1\n(1,0,0)\n(0,1,0)  core=3 x=y\n\n", path: "m")
        #expect(map.coordinates == [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
        #expect(map.trailing == ["core=1", "", "core=3 x=y"])
        #expect(try map.boundingShape.dims == [2, 2, 1])
        #expect(try map.nodes(on: TorusShape(2, 2, 1)) == [0, 1, 2])
        #expect(try VCoordMap.parse("(3)\n(1)").coordinates == [[3], [1]])
    }

    @Test(arguments: [
        ("(0,0,0)\n(1,0\n", 2, "closing ')'"),
        ("(0,0,0)\n1,0,0)\n", 2, "at the start of the line"),
        ("(0,0,0)\n(0,0)\n", 2, "3 coordinates"),
        ("(0,-1,0)\n", 1, "non-negative"),
        ("(0,0,0,0)\n", 1, "1 to 3"),
        ("(0,0,0)core=1\n", 1, "a space"),
        ("(a,0,0)\n", 1, "non-negative integers"),
    ])
    func malformedLinesNameFileLineAndExpectation(text: String, line: Int, mentions: String) {
        do {
            _ = try VCoordMap.parse(text, path: "map.vcoord")
            Issue.record("accepted \(text)")
        } catch {
            #expect("\(error)".hasPrefix("map.vcoord:\(line): found"), "\(error)")
            #expect("\(error)".contains(mentions), "\(error)")
        }
    }

    @Test func coordinatesOutsideTheTorusAreErrors() throws {
        let map = try VCoordMap.parse("(0,0,0)\n(2,0,0)\n")
        #expect(throws: TorusError.self) { try map.nodes(on: TorusShape(2, 2, 2)) }
    }
}
