import Testing
import TorusCore
import TorusSchedules
@testable import TorusRuntime

/// `TORUS_TUNE`'s trial of the routes a calibrated model finds close (`RouteTrial`,
/// `AlgorithmSelection.closeCandidates`); the whole of it on the simulated torus is in
/// `ProtocolModelTests.tuneTimesTheCloseRoutesAndEveryRankSettlesOnTheSameOne`.
@Suite struct RouteTrialTests {
    let a = AllReduceRoute.schedule(.sixRing), b = AllReduceRoute.library, c = AllReduceRoute.schedule(.recursiveDoubling)

    @Test func eachCandidateRunsTwoBlocksThereAndBack() {
        var trial = RouteTrial(candidates: [a, b, c], estimates: [1, 2, 3], timedRounds: 2)
        var routes: [AllReduceRoute] = []
        while !trial.isTimed {
            routes.append(trial.next)
            trial.record(1)
        }
        #expect(routes == [a, a, a, b, b, b, c, c, c, c, c, c, b, b, b, a, a, a])
        // A block's first call is not timed: two times kept in each of the six blocks.
        #expect(trial.times.map { $0.count } == [2, 2, 2, 2, 2, 2])
    }

    @Test func aCandidateTakesTheLowerOfItsTwoBlocksMedians() {
        var trial = RouteTrial(candidates: [a, b], estimates: [1, 2], timedRounds: 3)
        // Blocks a, b, b, a: an untimed call, then three timed ones.
        let calls: [Double] = [99, 5, 7, 6] + [99, 4, 9, 8] + [99, 3, 2, 10] + [99, 1, 8, 9]
        for t in calls { trial.record(t) }
        #expect(trial.isTimed)
        #expect(trial.medians == [min(6, 8), min(8, 3)])
    }

    @Test func theCheapestAgreedTimeWinsAndTheCheaperEstimateOnATie() {
        var trial = RouteTrial(candidates: [a, b, c], estimates: [1e-6, 2e-6, 3e-6], timedRounds: 1)
        trial.settle(slowest: [4e-6, 3e-6, 5e-6], bytes: 64)
        #expect(trial.result?.route == b)
        #expect(trial.result?.why.contains("measured sixring 4.00 us (estimated 1.00 us), mpi 3.00 us") == true)
        var tie = RouteTrial(candidates: [a, b, c], estimates: [1, 2, 3], timedRounds: 1)
        tie.settle(slowest: [5, 5, 4.5 + 0.5], bytes: 64)
        #expect(tie.result?.route == a)
    }

    @Test func closeCandidatesAreWithinTheFactorOnePerEstimateAtMostFour() {
        let estimates: [(Algorithm?, Double)] = [(.sixRing, 10), (.ring, 10), (nil, 11), (.rabenseifner, 10 * (1 + 1e-12)),
                                                 (.swing, 12), (.bidirectionalRing, 14), (.recursiveDoubling, 14.9), (.reduceBroadcast, 15.1)]
        let close = AlgorithmSelection.closeCandidates(estimates)
        // Ring and Rabenseifner estimate what sixring does (the same messages); reduce-broadcast is past 1.5×;
        // four at most: recursive doubling is left out.
        #expect(close.map(\.0) == [.sixRing, nil, .swing, .bidirectionalRing])
        #expect(AlgorithmSelection.closeCandidates(estimates, factor: 1.05).count == 1)
        #expect(AlgorithmSelection.closeCandidates([]).isEmpty)
    }
}
