import TorusCore

/// Builds one stream from the few primitives every algorithm is written in: send, receive,
/// receive-and-reduce, and the two ring phases. Receive-and-reduce steps take turns over `slots`
/// scratch slots, so an executor can post the next receive while the previous one is reduced;
/// empty ranges produce no step (a count below the number of pieces sends nothing).
struct StreamBuilder {
    private(set) var steps: [Step] = []
    let label: String
    let slots: Int
    private var nextSlot = 0
    private var largestReceive = 0

    init(label: String, slots: Int = 2) {
        self.label = label
        self.slots = slots
    }

    mutating func send(_ range: Range<Int>, to peer: Int) {
        if !range.isEmpty { steps.append(.send(peer: peer, region: .data(range))) }
    }

    mutating func recv(_ range: Range<Int>, from peer: Int) {
        if !range.isEmpty { steps.append(.recv(peer: peer, region: .data(range))) }
    }

    /// Receives into the next scratch slot and reduces into `range` (`range = range op received`).
    /// The slot's offset is fixed in `finish`, once the largest receive (the slot size) is known;
    /// until then it holds the slot number. `receivedFirst`: `range = received op range` instead.
    /// Where two ranks combine the same two buffers (recursive doubling), the lower rank keeps its
    /// own first and the higher one puts the received first, so both compute (lower op higher) and
    /// get the same bits — also the same NaN payload, which x86 takes from the first operand.
    mutating func recvReduce(_ range: Range<Int>, from peer: Int, receivedFirst: Bool = false) {
        guard !range.isEmpty else { return }
        let (scratch, target) = (Region.scratch(nextSlot, range.count), Region.data(range))
        steps.append(receivedFirst ? .recvReduceReceivedFirst(peer: peer, scratch: scratch, target: target)
                                   : .recvReduce(peer: peer, scratch: scratch, target: target))
        nextSlot = (nextSlot + 1) % slots
        largestReceive = max(largestReceive, range.count)
    }

    /// Ring reduce-scatter over `pieces` (one per ring position), this rank at `position`, sending to
    /// `next` and receiving from `previous`. At step k it sends piece position−1−k and receives piece
    /// position−2−k (mod L), which is what `previous` sends at the same step; after L−1 steps the
    /// last piece received, position−L ≡ position, holds every contribution. `split`, when given,
    /// cuts the last step's pieces into sub-ranges sent and received in that order (the order the
    /// next phase uses them; sender and receiver must split alike).
    mutating func ringReduceScatter(_ pieces: [Range<Int>], position: Int, next: Int, previous: Int,
                                    split: ((Range<Int>) -> [Range<Int>])? = nil) {
        let l = pieces.count
        for k in 0..<max(0, l - 1) {
            let out = pieces[mod(position - 1 - k, l)], into = pieces[mod(position - 2 - k, l)]
            if let split, k == l - 2 {
                for (a, b) in zip(split(out), split(into)) {
                    send(a, to: next)
                    recvReduce(b, from: previous)
                }
            } else {
                send(out, to: next)
                recvReduce(into, from: previous)
            }
        }
    }

    /// Ring all-gather over `pieces`, this rank holding piece `position`: at step k it forwards piece
    /// position−k and receives piece position−1−k from `previous`. `split`, when given, cuts every
    /// piece into sub-ranges moved in that order (the order in which they became complete).
    mutating func ringAllGather(_ pieces: [Range<Int>], position: Int, next: Int, previous: Int,
                                split: ((Range<Int>) -> [Range<Int>])? = nil) {
        let l = pieces.count
        for k in 0..<max(0, l - 1) {
            let out = pieces[mod(position - k, l)], into = pieces[mod(position - 1 - k, l)]
            for (a, b) in zip(split?(out) ?? [out], split?(into) ?? [into]) {
                send(a, to: next)
                recv(b, from: previous)
            }
        }
    }

    /// Ring all-gather over pieces that are lists of ranges (a piece gathered along earlier axes is
    /// one range per block): at step k it forwards every range of piece position−k and receives
    /// every range of piece position−1−k, which sender and receiver list alike.
    mutating func ringAllGather(pieces: [[Range<Int>]], position: Int, next: Int, previous: Int) {
        let l = pieces.count
        for k in 0..<max(0, l - 1) {
            let out = pieces[mod(position - k, l)], into = pieces[mod(position - 1 - k, l)]
            for i in 0..<max(out.count, into.count) {
                if i < out.count { send(out[i], to: next) }
                if i < into.count { recv(into[i], from: previous) }
            }
        }
    }

    /// The finished stream with its scratch slots placed at `scratchBase`, and the scratch it uses.
    func finish(scratchBase: Int) -> (Stream, Int) {
        // Scratch regions hold their slot number until here.
        func place(_ r: Region) -> Region { r.buffer == .scratch ? .scratch(scratchBase + r.offset * largestReceive, r.count) : r }
        var receives = 0
        let placed = steps.map { step -> Step in
            switch step {
            case let .recvReduce(peer, scratch, target):
                receives += 1
                return .recvReduce(peer: peer, scratch: place(scratch), target: target)
            case let .recvReduceReceivedFirst(peer, scratch, target):
                receives += 1
                return .recvReduceReceivedFirst(peer: peer, scratch: place(scratch), target: target)
            case let .recv(peer, region):
                if region.buffer == .scratch { receives += 1 }
                return .recv(peer: peer, region: place(region))
            case let .reduce(source, target): return .reduce(source: place(source), target: place(target))
            case let .copy(source, target): return .copy(source: place(source), target: place(target))
            case .send: return step
            }
        }
        let used = largestReceive == 0 ? 0 : min(slots, receives) * largestReceive
        return (Stream(label: label, steps: placed), used)
    }
}

/// Non-negative remainder.
@inline(__always)
func mod(_ a: Int, _ n: Int) -> Int { ((a % n) + n) % n }

/// Lays out streams' scratch areas one after another.
func placeStreams(_ builders: [StreamBuilder]) -> ([Stream], Int) {
    var base = 0
    var streams: [Stream] = []
    for b in builders {
        let (s, used) = b.finish(scratchBase: base)
        streams.append(s)
        base += used
    }
    return (streams, base)
}
