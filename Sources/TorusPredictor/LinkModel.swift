import TorusSchedules

/// The network: a send costs the rank `softwareOverhead` of CPU (one message at a time), then
/// crosses its route link by link — each directed link a FIFO resource busy `bytes / linkBandwidth`
/// per message; the head reaches the next link `hopDelay` after it entered one (cut-through) and the
/// far end `linkLatency` after the tail left the last link. Ranks of one node exchange messages
/// through memory; on a `full` network every ordered pair of ranks has its own link.
///
/// The protocol: a message above `eagerLimit` leaves only after a rendezvous handshake (one round
/// trip, `MachineFigures.handshake`), and if its receive is posted after the request arrived, its
/// data arrives a handshake and a transfer after the posting (`Partition.received`). A receive costs its
/// rank `receiveOverhead` of CPU. With a finite `receiveCopyRate` (a shared-memory transport) the
/// links carry no data: the receiving CPU copies every message at that rate, and the sending CPU
/// copies an eager one in first.
extension Partition {
    // MARK: Events

    mutating func startSend(stream si: Int, serial: Int32, at time: Double) {
        let tables = t.issueTables(si)
        guard let i = tables.find(serial, count: streams[si].issue.opCount) else { return }
        let op = tables.ops[i]
        tables.ops[i].started = true
        streams[si].sendsWaiting -= 1
        let later = UnsafeBufferPointer(start: tables.ops + (i + 1), count: Int(streams[si].issue.opCount) - (i + 1))
        if streams[si].sendsWaiting > 0, let next = later.first(where: { $0.kind == .send && !$0.started }) {
            schedule(max(time, next.issue), .issueSend, Int32(si), next.serial)
        } else {
            streams[si].sendEventPending = false
        }
        let g = Int(streams[si].rank)
        let dst = peerRank(g, Int(op.peer))
        let bytes = op.access.a.count * elementSize
        let cpuFree = t.cpuFree
        let machine = model.machine
        let copyIn = bytes <= machine.eagerLimit && machine.receiveCopyRate.isFinite ? Double(bytes) / machine.receiveCopyRate : 0
        cpuFree[g] = max(time, cpuFree[g]) + machine.softwareOverhead + copyIn
        let inject = cpuFree[g] + machine.handshake(bytes: bytes)
        messageCount += 1
        let m = Message(src: Int32(g), stream: Int32(si), target: Int32(t.firstStream[dst] + Int(streams[si].index)), serial: serial,
                        bytes: bytes, node: t.rankNode[g], destination: t.rankNode[dst])
        if payloadMode, t.streamPartition[Int(m.target)] != index {
            // Another partition reads it: the data goes along (nothing may write the range before
            // the send completes, so it is the data the receiver would copy on delivery).
            carried[Partition.key(m.stream, serial)] = read(rank: g, at: op.access.a)
        }
        if model.network == .full {
            let pair = g * t.ranks + dst
            let pairFree = t.pairFree
            let start = max(inject, pairFree[pair])
            pairFree[pair] = start + machine.wireTime(bytes: bytes)
            arrive(m, at: pairFree[pair] + model.machine.linkLatency)
        } else if m.node == m.destination {
            // Ranks of one node: a copy through memory.
            arrive(m, at: inject + (machine.receiveCopyRate.isFinite ? 0 : Double(bytes) / (machine.memoryBandwidth / 2)))
        } else {
            hop(m, at: inject)
        }
    }

    /// The message's head reaches the next link on its route at `time`.
    mutating func hop(_ message: Message, at time: Double) {
        var m = message
        let (link, next) = routing.nextHop(from: m.node, to: m.destination)
        let linkFree = t.linkFree
        let start = max(time, linkFree[link])
        let busy = model.machine.wireTime(bytes: m.bytes)
        linkFree[link] = start + busy
        t.linkBytes[link] += m.bytes
        m.node = next
        if m.node == m.destination {
            arrive(m, at: start + busy + model.machine.linkLatency)
        } else if t.nodePartition[m.node] == index {
            enterNode(m, at: start + model.machine.hopDelay)
        } else {
            hand(.hop, to: t.nodePartition[m.node], m, at: start + model.machine.hopDelay)
        }
    }

    /// The message's head will reach a node of this partition at `time`.
    mutating func enterNode(_ m: Message, at time: Double) {
        inFlight[Partition.key(m.stream, m.serial)] = m
        schedule(time, .hop, m.stream, m.serial)
    }

    /// The message is through at `arrival`: the receiver gets it, the send is complete.
    mutating func arrive(_ m: Message, at arrival: Double) {
        let receiver = t.streamPartition[Int(m.target)], sender = t.streamPartition[Int(m.stream)]
        if receiver == index { deliver(m, at: arrival) } else { hand(.deliver, to: receiver, m, at: arrival) }
        if sender == index { sendDone(stream: Int(m.stream), serial: m.serial, at: arrival) } else { hand(.sendDone, to: sender, m, at: arrival) }
    }

    /// The receiver's oldest unmatched receive from the message's source completes, or the message
    /// waits. Payload: data moves now, before the send completes (until then nothing may write the
    /// sent range): from the sender's buffer when this partition owns both ends, else the data
    /// carried along.
    mutating func deliver(_ m: Message, at arrival: Double) {
        let ti = Int(m.target)
        let base = ti * t.window, n = Int(streams[ti].waiting)
        let waiters = t.waiters
        let data = payloadMode && !carried.isEmpty ? carried.removeValue(forKey: Partition.key(m.stream, m.serial)) : nil
        let senderTables = t.issueTables(Int(m.stream)), receiverTables = t.issueTables(ti)
        let sender = payloadMode && data == nil ? senderTables.find(m.serial, count: streams[Int(m.stream)].issue.opCount) : nil
        if let k = (base ..< base + n).first(where: { waiters[$0].src == m.src }) {
            let serial = waiters[k].serial
            for j in k ..< base + n - 1 { waiters[j] = waiters[j + 1] }
            streams[ti].waiting -= 1
            if payloadMode, let r = receiverTables.find(serial, count: streams[ti].issue.opCount) {
                let into = receiverTables.ops[r].access.a
                if let data { write(data, rank: Int(streams[ti].rank), at: into) }
                else if let sender { copy(from: Int(m.src), senderTables.ops[sender].access.a, to: Int(streams[ti].rank), into) }
            }
            received(stream: ti, serial: serial, arrival: arrival, afterPosting: afterPosting(m.bytes), payload: nil)
        } else {
            let payload = data ?? sender.map { read(rank: Int(m.src), at: senderTables.ops[$0].access.a) }
            t.early[ti].append(Early(src: m.src, arrival: arrival, afterPosting: afterPosting(m.bytes), payload: payload))
            streams[ti].earlyCount += 1
        }
    }

    /// How long after its receive is posted a message's data can arrive at the soonest: a
    /// rendezvous message's handshake and transfer (0 for an eager one).
    func afterPosting(_ bytes: Int) -> Double {
        let machine = model.machine
        return bytes > machine.eagerLimit ? machine.handshake(bytes: bytes) + machine.wireTime(bytes: bytes) : 0
    }

    /// The sender's segment is complete.
    mutating func sendDone(stream si: Int, serial: Int32, at arrival: Double) {
        if let i = t.issueTables(si).find(serial, count: streams[si].issue.opCount) { resolve(stream: si, index: i, at: arrival) }
    }
}
