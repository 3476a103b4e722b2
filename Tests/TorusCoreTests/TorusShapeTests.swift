import Testing
@testable import TorusCore

@Suite struct TorusShapeTests {
    @Test func parsesShapes() throws {
        let s = try TorusShape(parsing: "4x3x2")
        #expect(s.dims == [4, 3, 2])
        #expect(s.periodic == [true, true, true])
        #expect(s.nodeCount == 24)
        #expect(s.description == "4x3x2")
        let mesh = try TorusShape(parsing: "4mx4x1")
        #expect(mesh.periodic == [false, true, true])
        #expect(mesh.description == "4mx4x1")
        #expect(try TorusShape(parsing: "48x6x48").nodeCount == 13_824)
        #expect(try TorusShape(parsing: "7").dims == [7])
        #expect(try TorusShape(parsing: "2x3x2x2x3x2").axisCount == 6)
    }

    @Test(arguments: ["0x4x4", "4x-1x2", "ax2", "", "4x", "4xx4", "100000x100000x100000", "2x2x2x2x2x2x2"])
    func rejectsImpossibleShapes(text: String) {
        #expect(throws: TorusError.self) { try TorusShape(parsing: text) }
    }

    @Test func errorsSayWhatToFix() {
        do {
            _ = try TorusShape([4, 0, 4])
            Issue.record("accepted a zero axis")
        } catch {
            #expect("\(error)".contains("axis Y has length 0"))
            #expect("\(error)".contains("1 or more"))
        }
    }

    @Test func coordinatesRoundTripFirstAxisFastest() throws {
        let s = try TorusShape(3, 4, 5)
        for node in 0..<s.nodeCount {
            let c = try s.coordinate(of: node)
            #expect(try s.node(at: c) == node)
        }
        #expect(try s.coordinate(of: 1) == [1, 0, 0])
        #expect(try s.coordinate(of: 3) == [0, 1, 0])
        #expect(try s.coordinate(of: 12) == [0, 0, 1])
        #expect(throws: TorusError.nodeOutOfRange(node: 60, nodeCount: 60)) { try s.coordinate(of: 60) }
        #expect(throws: TorusError.self) { try s.node(at: [3, 0, 0]) }
        #expect(throws: TorusError.self) { try s.node(at: [0, -1, 0]) }
        #expect(throws: TorusError.self) { try s.node(at: [0, 0]) }
    }

    @Test func neighborsWrapOnToriAndStopAtMeshEdges() throws {
        let torus = try TorusShape(4, 4, 4)
        #expect(try torus.neighbor(of: 3, axis: 0, direction: .plus) == 0)
        #expect(try torus.neighbor(of: 0, axis: 0, direction: .minus) == 3)
        #expect(try torus.neighbor(of: 0, axis: 2, direction: .minus) == 48)
        let mesh = try TorusShape([4, 4], periodic: [false, true])
        #expect(try mesh.neighbor(of: 3, axis: 0, direction: .plus) == nil)
        #expect(try mesh.neighbor(of: 0, axis: 0, direction: .minus) == nil)
        #expect(try mesh.neighbor(of: 0, axis: 1, direction: .minus) == 12)
        #expect(throws: TorusError.self) { try mesh.neighbor(of: 0, axis: 2, direction: .plus) }
    }

    @Test func hopsGoTheShorterWayRound() throws {
        let ring = try TorusShape([8])
        #expect(try ring.hops(from: 0, to: 7) == 1)
        #expect(try ring.hops(from: 0, to: 4) == 4)
        #expect(try ring.hops(from: 1, to: 6) == 3)
        let line = try TorusShape([8], periodic: [false])
        #expect(try line.hops(from: 0, to: 7) == 7)
        let t = try TorusShape(4, 4, 4)
        #expect(try t.hops(from: 0, to: t.node(at: [3, 2, 1])) == 1 + 2 + 1)
    }

    @Test(arguments: ["8x8x8", "3x4x5", "4mx3x2m", "5x1x7"])
    func routesFollowDimensionOrderOneHopAtATime(text: String) throws {
        let s = try TorusShape(parsing: text)
        for a in stride(from: 0, to: s.nodeCount, by: 3) {
            for b in stride(from: 0, to: s.nodeCount, by: 5) {
                let route = try s.route(from: a, to: b)
                #expect(route.count == (try s.hops(from: a, to: b)))
                var at = a
                var lastAxis = 0
                for link in route {
                    #expect(link.node == at)
                    #expect(link.axis >= lastAxis)  // X first, then Y, then Z
                    lastAxis = link.axis
                    at = try #require(try s.neighbor(of: at, axis: link.axis, direction: link.direction))
                }
                #expect(at == b)
            }
        }
    }

    @Test(arguments: [(8, [2, 2, 2]), (12, [3, 2, 2]), (7, [7, 1, 1]), (64, [4, 4, 4]), (1, [1, 1, 1]),
                      (6, [3, 2, 1]), (13_824, [24, 24, 24]), (96, [6, 4, 4]), (1024, [16, 8, 8])])
    func nearCubicFactorisation(p: Int, dims: [Int]) throws {
        #expect(try TorusShape.nearCubic(p).dims == dims)
    }

    @Test func nearCubicRejectsEmpty() {
        #expect(throws: TorusError.self) { try TorusShape.nearCubic(0) }
    }

    @Test(arguments: ["1", "2", "3", "1x1x1", "2x1x1", "2x2x2", "3x3x3", "4x4x4", "5x5x5", "3x4x5", "1x6x1",
                      "7x3x1", "3mx4m", "2m", "2mx3mx3m", "3x3mx3m", "4mx4mx4m", "5mx5mx2m"])
    func hamiltonianRingsAreOneHopCycles(text: String) throws {
        let s = try TorusShape(parsing: text)
        let ring = try s.hamiltonianRing()
        #expect(ring.count == s.nodeCount)
        #expect(Set(ring).count == s.nodeCount)
        for (i, node) in ring.enumerated() where s.nodeCount > 1 {
            let next = ring[(i + 1) % ring.count]
            #expect(try s.hops(from: node, to: next) == 1, "\(text): \(node) → \(next)")
        }
    }

    @Test(arguments: ["3mx3m", "4m", "3mx3mx3m", "5mx1x3m"])
    func noRingWhereNoneExists(text: String) throws {
        let s = try TorusShape(parsing: text)
        #expect(throws: TorusError.self) { try s.hamiltonianRing() }
    }
}
