/// What an event does: a stream hands its next send to the network, a message's head enters the
/// next link, a reduction (or local copy) starts on the node's engine, a received message takes
/// its turn on the receiving CPU (receive overhead, a shared-memory copy).
enum EventKind: Int32 {
    case issueSend = 0, hop = 1, reduce = 2, receive = 3
}

/// An event: a time and what happens then, packed in 16 bytes (kind in the top 2 bits, a stream in
/// the next 30, a serial in the low 32; a message is keyed by its sending stream and serial). Ties
/// break on the packed key, which names the same op on any number of threads, so runs are
/// deterministic and independent of the partitioning. (Order among equal times never matters for data: an op's dependents are
/// scheduled only after it has been carried out.)
struct Event {
    var time: Double
    var key: UInt64

    init(time: Double, kind: EventKind, a: Int32, b: Int32) {
        self.time = time
        key = UInt64(kind.rawValue) << 62 | UInt64(UInt32(a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    var kind: EventKind { EventKind(rawValue: Int32(key >> 62))! }
    var a: Int32 { Int32(truncatingIfNeeded: (key >> 32) & 0x3FFF_FFFF) }
    var b: Int32 { Int32(truncatingIfNeeded: key & 0xFFFF_FFFF) }
}

/// A 4-ary min-heap of events by (time, key): shallower than a binary heap, four children to a cache line.
struct EventHeap {
    var items: [Event] = []
    var isEmpty: Bool { items.isEmpty }

    @inline(__always) static func less(_ x: Event, _ y: Event) -> Bool { x.time < y.time || (x.time == y.time && x.key < y.key) }

    mutating func push(_ e: Event) {
        items.append(e)
        items.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) / 4
                if !EventHeap.less(e, h[parent]) { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = e
        }
    }

    mutating func pop() -> Event {
        let top = items[0]
        let last = items.removeLast()
        if items.isEmpty { return top }
        items.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = 0
            while true {
                let first = 4 * i + 1
                if first >= n { break }
                var m = first
                var c = first + 1
                while c < min(first + 4, n) {
                    if EventHeap.less(h[c], h[m]) { m = c }
                    c += 1
                }
                if !EventHeap.less(h[m], last) { break }
                h[i] = h[m]
                i = m
            }
            h[i] = last
        }
        return top
    }
}

