/// A small seeded generator (SplitMix64): the same seed gives the same sequence on every rank and
/// in every run — the tests' "random" data and the soak's draws (`torus-mpi-check --soak`).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0 ..< n (n > 0), by remainder: what a rerun from the same seed must reproduce.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
