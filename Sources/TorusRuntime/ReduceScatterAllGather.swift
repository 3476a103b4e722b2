import TorusCore
import TorusSchedules

// ReduceScatter (MPI_Reduce_scatter_block) and AllGather (MPI_Allgather): the halves of the
// algorithms that are a reduce-scatter followed by an all-gather (`ReduceScatterAllGather`),
// chosen and run under the same rules as AllReduce. Their schedules work on the user's layout
// (block r at r·c, `BlockLayout.rewrite`): an AllGather runs in the receive buffer itself; a
// ReduceScatter in a work buffer of p blocks that starts as the input (read as the schedule goes,
// as an out-of-place AllReduce reads its input), whose block r is then copied out.

extension Communicator {
    /// ReduceScatter: `recvBuffer[i] = op over all ranks of sendBuffer[rank · blockCount + i]`
    /// for `blockCount` elements of `type`; `sendBuffer` holds p blocks (MPI_Reduce_scatter_block).
    /// A nil `sendBuffer` means in place: the input is `recvBuffer`'s p blocks and the result goes
    /// to its start (MPI_IN_PLACE). Every rank must pass the same count, type, op and algorithm.
    public func reduceScatter(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, blockCount: Int,
                              type: ElementType, op: ReduceOp, algorithm: Algorithm? = nil) throws {
        let kernel = try ReductionKernel(type: type, op: op)
        try runHalf(.reduceScatter, sendBuffer, recvBuffer, blockCount: blockCount, kernel: kernel,
                    route: try chooseRoute(.reduceScatter, blockCount: blockCount, type: type, forced: algorithm))
    }

    /// AllGather: `recvBuffer` gets every rank's `blockCount` elements of `sendBuffer`, in rank
    /// order (MPI_Allgather). A nil `sendBuffer` means in place: this rank's block is already at
    /// `recvBuffer[rank · blockCount]` (MPI_IN_PLACE).
    public func allGather(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, blockCount: Int,
                          type: ElementType, algorithm: Algorithm? = nil) throws {
        // Nothing is reduced; the kernel only carries the type.
        try runHalf(.allGather, sendBuffer, recvBuffer, blockCount: blockCount, kernel: try ReductionKernel(type: type, op: .sum),
                    route: try chooseRoute(.allGather, blockCount: blockCount, type: type, forced: algorithm))
    }

    /// ReduceScatter of an array of p blocks: returns this rank's reduced block.
    public func reduceScatter<T: ReducibleElement>(_ values: [T], op: ReduceOp, algorithm: Algorithm? = nil) throws -> [T] {
        guard values.count % size == 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(values.count)",
                                          expected: "a multiple of the \(size) ranks (p blocks of equal size)")
        }
        let c = values.count / size
        return try values.withUnsafeBytes { input in
            try [T](unsafeUninitializedCapacity: max(1, c)) { output, initialized in
                let out = UnsafeMutableRawPointer(output.baseAddress!)
                try reduceScatter(input.baseAddress ?? UnsafeRawPointer(out), out, blockCount: c, type: T.elementType, op: op,
                                  algorithm: algorithm)
                initialized = c
            }
        }
    }

    /// AllGather of this rank's block: returns the p blocks in rank order.
    public func allGather<T: ReducibleElement>(_ values: [T], algorithm: Algorithm? = nil) throws -> [T] {
        let n = values.count * size
        return try values.withUnsafeBytes { input in
            try [T](unsafeUninitializedCapacity: max(1, n)) { output, initialized in
                let out = UnsafeMutableRawPointer(output.baseAddress!)
                try allGather(input.baseAddress ?? UnsafeRawPointer(out), out, blockCount: values.count, type: T.elementType,
                              algorithm: algorithm)
                initialized = n
            }
        }
    }

    /// The route of a ReduceScatter or AllGather (`TORUS_VERBOSE=2` prints it): as an AllReduce's
    /// (`explainRoute`), the size being the whole buffer of p blocks, among the algorithms that
    /// run the half on this group. An algorithm forced by the caller must; one forced by
    /// `TORUS_ALGORITHM` that cannot (recursive doubling) leaves the choice to the rules below it.
    public func chooseRoute(_ collective: Collective, blockCount: Int, type: ElementType, forced: Algorithm? = nil) throws -> AllReduceRoute {
        let options = self.options   // read once (through the protocol, each read copies it)
        let (route, why) = try decideRoute(collective, blockCount: blockCount, type: type, forced: forced, options: options)
        if options.verbose >= 2 && rank == 0 {
            printError("torus: \(collective) \(blockCount * size * type.size) bytes on \(size) ranks: \(route) (\(why))")
        }
        return route
    }

    public func explainRoute(_ collective: Collective, blockCount: Int, type: ElementType,
                             forced: Algorithm? = nil) throws -> (AllReduceRoute, String) {
        let (route, why) = try decideRoute(collective, blockCount: blockCount, type: type, forced: forced, options: options)
        return (route, "\(why)")
    }

    /// The route of a ReduceScatter or AllGather and why, the reason's text made only when asked for.
    func decideRoute(_ collective: Collective, blockCount: Int, type: ElementType, forced: Algorithm?,
                     options: CollectiveOptions) throws -> (AllReduceRoute, RouteReason) {
        guard collective != .allReduce else { return decideRoute(count: blockCount, type: type, forced: forced, options: options) }
        let bytes = blockCount * size * type.size
        if let forced {
            if let why = forced.unavailable(collective, topology: topology) {
                throw TorusError.invalidValue(name: "algorithm", value: forced.rawValue, expected: why)
            }
            return (.schedule(forced), .forcedByCaller)
        }
        var cannot: (Algorithm, String)?
        switch options.route {
        case .library?: return (.library, .forcedToLibrary)
        case let .schedule(a)?:
            guard let why = a.unavailable(collective, topology: topology) else { return (.schedule(a), .forcedByOptions) }
            cannot = (a, why)
        case nil: break
        }
        let (route, reason) = decideHalf(collective, bytes: bytes, options: options)
        return (route, cannot.map { .cannot(algorithm: $0.0, why: $0.1, then: reason) } ?? reason)
    }

    /// Below `TORUS_ALGORITHM`: the calibrated model, the threshold, the large-message algorithm,
    /// the cost model.
    private func decideHalf(_ collective: Collective, bytes: Int, options: CollectiveOptions) -> (AllReduceRoute, RouteReason) {
        if let (route, why) = calibratedRoute(collective, bytes: bytes, options: options) { return (route, .chosen(why)) }
        let threshold = collective == .reduceScatter ? options.reduceScatterLibraryBelowBytes : options.libraryBelowBytes
        if bytes < threshold { return (.library, .belowThreshold(threshold)) }
        if let a = options.largeAlgorithm, a.unavailable(collective, topology: topology) == nil {
            return (.schedule(a), .atOrAboveThreshold(threshold))
        }
        let (a, reason) = options.selection.choose(collective, topology: topology, bytes: bytes)
        return (.schedule(a), .chosen(reason))
    }

    /// Runs a ReduceScatter or AllGather along `route`.
    func runHalf(_ collective: Collective, _ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, blockCount c: Int,
                 kernel: ReductionKernel, route: AllReduceRoute) throws {
        guard c >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(c)", expected: "a non-negative element count per rank")
        }
        try checkUsable()
        if ProgressEngine.shared.hasPending(self) { ProgressEngine.shared.drain(self) }
        let options = self.options
        let call = calls.next()
        let type = kernel.type, s = type.size, p = size
        let inPlace = sendBuffer == nil || sendBuffer == UnsafeRawPointer(recvBuffer)
        let arguments = CallArguments(count: c, type: type, op: kernel.op, route: route, inPlace: inPlace)
        if options.check { try checkAgreement(arguments, function: collective.title) }
        // This rank's own block: a ReduceScatter's input (p blocks), an AllGather's contribution.
        let input: UnsafeRawPointer = sendBuffer ?? UnsafeRawPointer(collective == .allGather ? recvBuffer + rank * c * s : recvBuffer)
        let (inputCount, resultCount) = collective == .reduceScatter ? (p * c, c) : (c, p * c)
        if options.nanCheck { reportNonFinite(input, count: inputCount, type: type, call: call, what: "input") }
        var done = false
        defer { if done && options.nanCheck { reportNonFinite(recvBuffer, count: resultCount, type: type, call: call, what: "result") } }
        if case .library = route, try libraryHalf(collective, sendBuffer, recvBuffer, blockCount: c, type: type, op: kernel.op) {
            done = true
            return
        }
        guard p > 1 else {
            done = true
            if input != UnsafeRawPointer(recvBuffer) { ByteCopy.copy(to: recvBuffer, from: input, count: c * s) }
            return
        }
        let chosen: Algorithm
        if case let .schedule(a) = route {
            chosen = a
        } else {
            chosen = options.selection.choose(collective, topology: topology, bytes: p * c * s).0
        }
        var executor = ScheduleExecutor(options: options.executor)
        if options.executor.stallSeconds > 0 {
            executor.onStall = stallHandler(for: BlockingCall(call: call, algorithm: chosen, collective: collective, arguments: arguments), in: scratch)
        }
        func run(data: UnsafeMutableRawPointer, input: UnsafeRawPointer?, result: Range<Int>) throws {
            try executor.run(chosen, collective, count: p * c,
                             build: { try chosen.schedule(collective, topology: topology, rank: rank, count: c) },
                             data: data, input: input, kernel: kernel, transport: transport, engine: reductionEngine, scratch: scratch,
                             result: result)
        }
        let mine = rank * c ..< (rank + 1) * c
        if collective == .reduceScatter {
            let work = scratch.workBuffer(bytes: p * c * s)
            try run(data: work, input: input, result: mine)
            ByteCopy.copy(to: recvBuffer, from: work + rank * c * s, count: c * s)
        } else {
            let block = recvBuffer + rank * c * s
            if input != UnsafeRawPointer(block) { ByteCopy.copy(to: block, from: input, count: c * s) }
            try run(data: recvBuffer, input: nil, result: 0 ..< p * c)
        }
        done = true
    }
}
