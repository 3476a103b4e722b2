/// Cache-line-aligned scratch memory that grows to the largest request and is kept until the
/// owner (a communicator) goes away. One user at a time: a communicator's collectives run one
/// after another on its thread.
public final class ScratchSpace {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0

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
