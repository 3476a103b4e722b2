import CTorusKernels

/// Copies between buffers of a call (an out-of-place input into the result, scratch into the
/// result): memcpy, except where glibc's is slow on AMD Zen (`torus_copy` in CTorusKernels says
/// when: a destination 1–63 bytes past the source modulo 4 KiB, which two same-sized `malloc`
/// buffers give).
public enum ByteCopy {
    /// `count` bytes from `source` to `destination`; the two must not overlap.
    @inline(__always)
    public static func copy(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
        torus_copy(destination, source, count)
    }
}
