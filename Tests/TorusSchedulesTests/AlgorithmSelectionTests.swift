import Testing
import TorusCore
@testable import TorusSchedules

@Suite struct AlgorithmSelectionTests {
    /// Large messages go to sixring on every box and on a scattered group's virtual grid; the
    /// explanation lists every algorithm's estimate (what TORUS_VERBOSE=2 prints).
    @Test(arguments: ["2x1x1", "2x2x1", "3x1x1", "3x2x1", "2x2x2", "4x4x4", "48x6x1", "scattered"])
    func largeMessagesGoToSixRing(shape: String) throws {
        let topology = shape == "scattered" ? try GroupTopology.of(nodes: [0, 5, 3, 14, 9, 7], on: TorusShape(4, 4, 1))
                                            : GroupTopology.box(try TorusShape(parsing: shape))
        let (chosen, why) = AlgorithmSelection().choose(topology: topology, bytes: 16 << 20)
        #expect(chosen == .sixRing, "\(why)")
        #expect(Algorithm.allCases.allSatisfy { why.contains("\($0.rawValue) ") }, "\(why)")
    }

    /// The cost model of selection and the predictor's generic preset read the same figures.
    @Test func costModelComesFromTheMachineFigures() {
        let m = CostModel.generic, f = MachineFigures.generic
        #expect(m.alpha == f.softwareOverhead + f.linkLatency && m.beta == 1 / f.linkBandwidth && m.gamma == 1 / f.reductionRate)
    }

    /// Every registered algorithm is found by its name and each alias, and by nothing else.
    @Test func registryNamesAndAliasesParse() throws {
        var names: Set<String> = []
        for algorithm in Algorithm.allCases {
            let name = algorithm.rawValue
            let spellings: [String] = [name, name.uppercased(), name.replacingOccurrences(of: "-", with: "_")] + algorithm.implementation.aliases
            for text in spellings {
                let parsed = try Algorithm(parsing: text)
                #expect(parsed == algorithm, "\(text)")
            }
            names.insert(name)
        }
        #expect(names.count == Algorithm.registry.count)
        var refused = false
        do { _ = try Algorithm(parsing: "tree") } catch { refused = "\(error)".contains("sixring") }
        #expect(refused, "an unknown name is refused with the list of names")
    }

    /// The bus-bandwidth bound and sixring's cost estimate count the links a node drives the same
    /// way: one on an axis of length 2, two on a longer one.
    @Test(arguments: [([2, 1, 1], 1), ([2, 2, 2], 3), ([4, 4, 4], 6), ([4, 2, 1], 3), ([3, 1, 1], 2)])
    func boundAndSixRingEstimateCountTheSameLinks(dims: [Int], links: Int) throws {
        let shape = try TorusShape(dims)
        #expect(shape.directedLinksPerNode == links)
        #expect(shape.busBandwidthBound(linkBandwidth: 2) == Double(2 * links))
        let p = Double(shape.nodeCount), n = 1e9
        let betaOnly = CostModel(alpha: 0, beta: 1, gamma: 0)
        let estimate = betaOnly.estimate(.sixRing, topology: .box(shape), bytes: Int(n))
        #expect(abs(estimate - 2 * (p - 1) / p * n / Double(links)) < 1e-3)
    }
}
