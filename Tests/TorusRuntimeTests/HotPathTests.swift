import Foundation
import Testing
import TorusCore
import TorusSchedules
@testable import TorusRuntime

/// The pieces of a call's path that trade Swift's safety nets for speed (`UnsafeList`, the request
/// list, `Algorithm` as an index, the calibrated routes' last entry): each against a plain model.
@Suite struct HotPathTests {
    /// Random appends, swaps out and truncations, past the first capacity, against an Array.
    @Test func unsafeListMatchesAnArray() {
        var list = UnsafeList<Int>(capacity: 2)
        defer { list.free() }
        var model: [Int] = []
        var generator = SystemRandomNumberGenerator()
        for step in 0 ..< 2000 {
            switch Int.random(in: 0 ..< 10, using: &generator) {
            case 0 ..< 6:
                list.append(step)
                model.append(step)
            case 6 ..< 8 where !model.isEmpty:
                let i = Int.random(in: 0 ..< model.count, using: &generator)
                list.swapRemove(at: i)
                let last = model.removeLast()
                if i < model.count { model[i] = last }
            case 8 where !model.isEmpty:
                let k = Int.random(in: 1 ... model.count, using: &generator)
                list.removeLast(k)
                model.removeLast(k)
            case 9 where !model.isEmpty:
                let i = Int.random(in: 0 ..< model.count, using: &generator)
                list[i] = -step
                model[i] = -step
            default:
                break
            }
            #expect(list.count == model.count)
        }
        #expect(list.array == model)
        list.removeAll()
        #expect(list.isEmpty && list.array.isEmpty)
    }

    /// Elements with reference counts (`String`) are released when dropped: no crash, no leak
    /// under the sanitizers (`scripts/sanitize.sh`).
    @Test func unsafeListHoldsReferenceCountedElements() {
        var list = UnsafeList<String>(capacity: 1)
        defer { list.free() }
        for i in 0 ..< 100 { list.append(String(repeating: "x", count: 32) + "\(i)") }
        list.swapRemove(at: 0)
        list.removeLast(10)
        #expect(list.count == 89)
        #expect(list[0] == String(repeating: "x", count: 32) + "99")
    }

    /// A transport that completes the requests it is told to, reporting their indices in the order given.
    final class ScriptedTransport: Transport {
        let rank = 0, size = 2
        var next = 0
        /// The request ids to complete at the next `complete`, in the order to report them.
        var toComplete: [Int] = []

        func isend(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> TransportRequest { request() }
        func irecv(_ buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> TransportRequest { request() }

        func request() -> TransportRequest {
            next += 1
            return TransportRequest(id: next)
        }

        func complete(_ requests: UnsafeMutableBufferPointer<TransportRequest>, into completed: UnsafeMutableBufferPointer<Int32>,
                      wait: TransportWait) throws -> Int {
            var n = 0
            for id in toComplete {
                let i = requests.firstIndex { $0.id == id }!
                completed[n] = Int32(i)
                requests[i] = TransportRequest(id: 0)   // as MPI sets a completed entry to MPI_REQUEST_NULL
                n += 1
            }
            toComplete = []
            return n
        }

        func cancel(_ request: TransportRequest) {}
    }

    /// Completions reported in any order drop exactly those requests, whatever their places, and
    /// name their owners; the list grows past its first capacity.
    @Test func requestListDropsWhatCompletesInAnyOrder() throws {
        let transport = ScriptedTransport()
        var list = RequestList<Int>()
        defer { list.free() }
        var owners: [Int: Int] = [:]   // request id → owner
        for k in 0 ..< 50 {
            let r = try transport.isend(UnsafeRawBufferPointer(start: nil, count: 0), to: 1, tag: 0)
            owners[r.id] = 100 + k
            list.append(r, 100 + k)
        }
        var pending = Set(owners.values)
        // Small batches in any order; a large one in decreasing order.
        let rest = Set(1 ... 50).subtracting([7, 2, 19, 1, 20, 33]).subtracting(Array(21 ... 32))
        for batch in [[7, 2, 19, 1], [20], Array((21 ... 32).reversed()) + [33], rest.sorted(by: >)] {
            transport.toComplete = batch
            let n = try list.complete(on: transport, wait: .poll)
            #expect(n == batch.count)
            let done = (0 ..< n).map { list.completed($0) }
            #expect(Set(done) == Set(batch.map { owners[$0]! }))
            pending.subtract(done)
            #expect(Set(list.pending) == pending && list.count == pending.count)
        }
        #expect(list.isEmpty)
        #expect(try list.complete(on: transport, wait: .poll) == 0)
    }

    /// An algorithm is its registry index: coded as its name, equal and hashed by identity.
    @Test func algorithmsCodeAsTheirNames() throws {
        let all = Algorithm.allCases
        let json = String(decoding: try JSONEncoder().encode(all), as: UTF8.self)
        #expect(json == "[" + all.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]")
        #expect(try JSONDecoder().decode([Algorithm].self, from: Data(json.utf8)) == all)
        #expect(Set(all).count == Algorithm.registry.count)
        for a in all {
            #expect(Algorithm(rawValue: a.rawValue) == a)
            #expect(a.implementation.name == a.rawValue)
            #expect(all.filter { $0 == a }.count == 1)
        }
        #expect(Algorithm(rawValue: "no-such") == nil)
    }

    /// The calibrated routes find a size asked for before, whether it is the last one or not.
    @Test func calibratedRoutesFindTheLastAndTheOthers() {
        var routes = CalibratedRoutes()
        let a = CalibratedRouteKey(collective: .allReduce, bytes: 8), b = CalibratedRouteKey(collective: .allReduce, bytes: 64)
        let c = CalibratedRouteKey(collective: .reduceScatter, bytes: 8)
        #expect(routes.find(a) == nil)
        routes.byKey[a] = .some((.library, "mpi"))
        routes.byKey[b] = .some((.schedule(.ring), "ring"))
        routes.byKey[c] = .some(nil)
        for key in [a, b, b, a, c, c, b] {
            let found = routes.find(key)
            #expect(found != nil)
            #expect(found!?.0 == routes.byKey[key]!?.0)
            #expect(routes.last?.key == key)
        }
        #expect(routes.find(CalibratedRouteKey(collective: .allGather, bytes: 8)) == nil)
    }
}
