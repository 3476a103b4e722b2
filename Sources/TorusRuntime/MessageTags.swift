/// The tags of the library's own messages, all in one place so that they can never collide.
///
/// Schedules: stream k of a rank sends and receives with tag `streams + k`. Every algorithm numbers
/// its streams the same way on every rank (part 0 is part 0 everywhere), so stream k of one rank
/// pairs with stream k of its peer; MPI's non-overtaking rule per (peer, tag) then matches each
/// stream's sends to the peer stream's receives in order. Streams number far fewer than `split − streams`.
public enum MessageTags {
    /// The barrier of the backends without one of their own.
    public static let barrier = 7
    /// The first stream's tag (`ExecutorOptions.tagBase`).
    public static let streams = 100
    /// `split(color:key:)` on backends without a split of their own (`GroupSplit`).
    public static let split = 1 << 20
    /// `TORUS_CHECK`'s exchange of call arguments on backends without an allgather of their own.
    public static let check = (1 << 20) + 1
}
