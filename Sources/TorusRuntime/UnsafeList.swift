/// A growable list in one manually managed buffer, for the executor's loop: appending, reading,
/// writing and truncating cost no reference counting and no uniqueness check. (An Array held in a
/// struct that is handed between a run and its cached tables pays both on every change: at 8 bytes
/// on two ranks they were a fifth of a call's instructions.)
///
/// The copy of a list shares its buffer, as a pointer does: one owner keeps it and calls `free()`
/// once (`RunStorage`, `RecordExchange`), and whoever changes a copy hands it back to that owner.
struct UnsafeList<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    var isEmpty: Bool { count == 0 }

    subscript(_ i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    @inline(__always) mutating func append(_ element: Element) {
        if count == capacity { reserve(2 * capacity) }
        (base + count).initialize(to: element)
        count += 1
    }

    /// Room for `n` elements, at least.
    @inline(never) mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: n)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = n
    }

    /// Drops the last `k` elements.
    mutating func removeLast(_ k: Int = 1) {
        (base + count - k).deinitialize(count: k)
        count -= k
    }

    /// Drops element `i`, putting the last in its place (order is not kept).
    mutating func swapRemove(at i: Int) {
        count -= 1
        if i == count {
            (base + i).deinitialize(count: 1)
        } else {
            base[i] = (base + count).move()
        }
    }

    /// Inserts `element` at `i`, moving the later ones up (order is kept).
    mutating func insert(_ element: Element, at i: Int) {
        if count == capacity { reserve(2 * capacity) }
        (base + i + 1).moveInitialize(from: base + i, count: count - i)
        (base + i).initialize(to: element)
        count += 1
    }

    /// Drops element `i`, moving the later ones down (order is kept).
    mutating func remove(at i: Int) {
        (base + i).deinitialize(count: 1)
        (base + i).moveInitialize(from: base + i + 1, count: count - i - 1)
        count -= 1
    }

    mutating func removeAll() {
        base.deinitialize(count: count)
        count = 0
    }

    /// The elements, as an array (for reports).
    var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Frees the buffer; the list (and every copy) is unusable afterwards.
    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
