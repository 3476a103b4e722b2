/// What a communicator keeps between calls: cache-line-aligned scratch memory that grows to the
/// largest request, and the tables of recent schedules (`runs`). Kept until the owner goes away.
/// One user at a time: a communicator's collectives run one after another (nonblocking requests
/// one at a time, and blocking calls wait for them).
public final class ScratchSpace {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    /// Recent schedules, ready to run again.
    public let runs = RunCache()

    public init() {}

    /// At least `bytes` bytes, valid until the next call or the end of the space.
    public func buffer(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity || base == nil {
            base?.deallocate()
            capacity = max(bytes, 64)
            base = .allocate(byteCount: capacity, alignment: 64)
        }
        return base!
    }

    deinit { base?.deallocate() }
}
