import TorusCore
import TorusSchedules

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

/// The run tables (`RunStorage`) of a communicator's recent calls, so that a call like a recent
/// one — the same algorithm, count, element size and issue rules — neither builds its schedule nor
/// allocates. At most `maxEntries` entries and about `maxBytes` bytes; the least recently used go
/// first. A storage is lent to one run at a time: a call that finds it in use gets a fresh one
/// that is not kept.
public final class RunCache {
    struct Key: Hashable {
        var algorithm: Algorithm
        var count: Int
        var elementSize: Int
        var rules: IssueRules
    }

    public static let maxEntries = 32
    public static let maxBytes = 64 << 20
    private var entries: [Key: RunStorage] = [:]
    /// Least recently used first (the last one lent is at the end, or not yet moved there).
    private var order: [Key] = []
    private var last: (key: Key, storage: RunStorage)?
    private var bytes = 0
    /// Schedules built (a miss each), for tests and `TORUS_VERBOSE`.
    public private(set) var builds = 0

    public init() {}

    /// Entries kept.
    public var count: Int { entries.count }

    func storage(_ algorithm: Algorithm, count: Int, elementSize: Int, rules: IssueRules,
                 build: () throws -> Schedule) throws -> RunStorage {
        let key = Key(algorithm: algorithm, count: count, elementSize: elementSize, rules: rules)
        // The same call as the last one: no hashing.
        if let last, last.key == key, !last.storage.inUse, last.storage.cache === self {
            last.storage.inUse = true
            return last.storage
        }
        if let found = entries[key] {
            last = (key, found)
            if order.last != key, let i = order.lastIndex(of: key) {
                order.remove(at: i)
                order.append(key)
            }
            if !found.inUse {
                found.inUse = true
                return found
            }
        }
        builds += 1
        let storage = RunStorage(try build(), rules: rules, elementSize: elementSize)
        guard entries[key] == nil else { return storage }   // the kept one is in use: this one is not kept
        storage.cache = self
        entries[key] = storage
        order.append(key)
        last = (key, storage)
        account(storage)
        return storage
    }

    /// A run handed `storage` back (its tables may have grown).
    func returned(_ storage: RunStorage) {
        account(storage)
    }

    /// Counts `storage`'s bytes as they are now, then drops the least recently used entries past the bounds.
    private func account(_ storage: RunStorage) {
        let now = storage.bytes
        bytes += now - storage.accounted
        storage.accounted = now
        while entries.count > Self.maxEntries || (bytes > Self.maxBytes && order.count > 1) {
            let oldest = order.removeFirst()
            if last?.key == oldest { last = nil }
            if let gone = entries.removeValue(forKey: oldest) {
                bytes -= gone.accounted
                gone.cache = nil
            }
        }
    }

    /// Drops every entry (their memory goes once no run holds them).
    public func removeAll() {
        for storage in entries.values { storage.cache = nil }
        entries.removeAll()
        last = nil
        order.removeAll()
        bytes = 0
    }
}
