import TorusSchedules

/// What a communicator keeps between calls: cache-line-aligned scratch memory that grows to the
/// largest request, the work buffer of ReduceScatter and AllGather calls, the tables of recent
/// schedules (`runs`) and the block layouts of recent ReduceScatter and AllGather calls. Kept until
/// the owner goes away. One user at a time: a communicator's collectives run one after another
/// (nonblocking requests one at a time, and blocking calls wait for them).
public final class ScratchSpace {
    private var scratch = GrowingBuffer()
    private var work = GrowingBuffer()
    /// Recent schedules, ready to run again.
    public let runs = RunCache()
    private var layouts: [LayoutKey: PackedLayout] = [:]
    private struct LayoutKey: Hashable { var algorithm: Algorithm; var blockCount: Int }

    public init() {}

    deinit {
        scratch.free()
        work.free()
    }

    /// At least `bytes` bytes of schedule scratch, valid until the next call or the end of the space.
    public func buffer(bytes: Int) -> UnsafeMutableRawPointer { scratch.at(least: bytes) }

    /// At least `bytes` bytes for a ReduceScatter's or AllGather's data buffer (apart from `buffer`).
    public func workBuffer(bytes: Int) -> UnsafeMutableRawPointer { work.at(least: bytes) }

    /// `algorithm`'s block layout on this group for blocks of `blockCount`, made once (a few kept).
    func layout(_ algorithm: Algorithm, blockCount: Int, make: () -> BlockLayout) -> PackedLayout {
        let key = LayoutKey(algorithm: algorithm, blockCount: blockCount)
        if let known = layouts[key] { return known }
        if layouts.count >= 16 { layouts.removeAll() }
        let packed = PackedLayout(make())
        layouts[key] = packed
        return packed
    }
}

/// A block layout as flat tables: rank r's pieces are `offsets[first[r] ..< first[r + 1]]` (in the
/// schedule's buffer) with `counts` alike, in the order of its block.
final class PackedLayout {
    let blockCount: Int
    let isRankOrder: Bool
    let first: [Int]
    let offsets: [Int]
    let counts: [Int]

    init(_ layout: BlockLayout) {
        blockCount = layout.blockCount
        isRankOrder = layout.isRankOrder
        var first = [0], offsets: [Int] = [], counts: [Int] = []
        for list in layout.ranges {
            for range in list where !range.isEmpty {
                offsets.append(range.lowerBound)
                counts.append(range.count)
            }
            first.append(offsets.count)
        }
        self.first = first
        self.offsets = offsets
        self.counts = counts
    }

    /// Copies rank `rank`'s block, contiguous at `block`, into its pieces in the schedule's `buffer`.
    func pack(rank: Int, from block: UnsafeRawPointer, into buffer: UnsafeMutableRawPointer, elementSize s: Int) {
        var at = 0
        for i in first[rank] ..< first[rank + 1] {
            (buffer + offsets[i] * s).copyMemory(from: block + at, byteCount: counts[i] * s)
            at += counts[i] * s
        }
    }

    /// Copies rank `rank`'s pieces in the schedule's `buffer` out to `block`, contiguous.
    func unpack(rank: Int, from buffer: UnsafeRawPointer, into block: UnsafeMutableRawPointer, elementSize s: Int) {
        var at = 0
        for i in first[rank] ..< first[rank + 1] {
            (block + at).copyMemory(from: buffer + offsets[i] * s, byteCount: counts[i] * s)
            at += counts[i] * s
        }
    }
}

/// Cache-line-aligned memory that grows to the largest request.
private struct GrowingBuffer {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0

    mutating func at(least bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity || base == nil {
            base?.deallocate()
            capacity = max(bytes, 64)
            base = .allocate(byteCount: capacity, alignment: 64)
        }
        return base!
    }

    func free() { base?.deallocate() }
}

