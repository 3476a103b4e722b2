import Foundation

/// Errors raised by ranks running on threads of one process (the simulated torus, the
/// predictor's schedule build), in order of arrival.
// @unchecked Sendable: all mutable state is behind `lock`.
public final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(Int, Error)] = []

    public init() {}

    public func append(rank: Int, _ error: Error) {
        lock.lock()
        list.append((rank, error))
        lock.unlock()
    }

    /// The first error that is not a consequence of another rank's failure.
    public func rootCause() -> Error? {
        lock.lock()
        defer { lock.unlock() }
        let isEcho = { (e: Error) -> Bool in
            if case let .communication(m)? = e as? TorusError { return m.contains(" stopped: ") }
            return false
        }
        return list.first { !isEcho($0.1) }?.1 ?? list.first?.1
    }
}

