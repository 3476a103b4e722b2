import CTorusKernels
import Testing
@testable import TorusCore

@Suite struct ByteCopyTests {
    /// Distances 0–71 modulo 4 KiB (the loop's window, 1–63, one by one) and a few up to 4,095,
    /// at sizes around the loop's 128-byte body and its 2 KiB floor: the bytes arrive exactly, and
    /// nothing outside the destination is written.
    @Test(arguments: [0, 1, 127, 128, 129, 2047, 2048, 2049, 5000, 70_001])
    func copiesEveryByteAtEveryDistance(count: Int) {
        let distances = Array(0..<72) + [127, 128, 2048, 4032, 4095]
        let room = count + 8192 + 64
        let source = UnsafeMutableRawPointer.allocate(byteCount: room, alignment: 4096)
        let target = UnsafeMutableRawPointer.allocate(byteCount: room + 4096, alignment: 4096)
        defer { source.deallocate(); target.deallocate() }
        for i in 0..<room { source.storeBytes(of: UInt8(truncatingIfNeeded: i &* 31 &+ 7), toByteOffset: i, as: UInt8.self) }
        for distance in distances {
            let from = source + 5, to = target + 5 + distance
            target.initializeMemory(as: UInt8.self, repeating: 0xEE, count: room + 4096)
            ByteCopy.copy(to: to, from: from, count: count)
            var wrong = 0
            for i in 0..<count where to.load(fromByteOffset: i, as: UInt8.self) != from.load(fromByteOffset: i, as: UInt8.self) { wrong += 1 }
            #expect(wrong == 0, "distance \(distance), \(count) bytes: \(wrong) wrong")
            #expect((to - 1).load(as: UInt8.self) == 0xEE && (to + count).load(as: UInt8.self) == 0xEE,
                    "distance \(distance), \(count) bytes: wrote outside the destination")
        }
    }

    /// The loop serves exactly the window where glibc's memcpy is slow: 1–63 bytes past the
    /// source modulo 4 KiB, from 2 KiB to 4 MiB.
    @Test func theLoopTakesOnlyTheSlowWindow() {
        let base = UnsafeRawPointer(bitPattern: 0x10_0000)!
        func loop(_ distance: Int, _ count: Int) -> Bool { torus_copy_uses_loop(base + distance, base, count) != 0 }
        #expect(loop(16, 262_144) && loop(1, 2048) && loop(63, 4 << 20) && loop(4096 + 16, 65_536))
        #expect(!loop(0, 262_144) && !loop(64, 262_144) && !loop(4095, 262_144) && !loop(4096, 262_144))
        #expect(!loop(16, 2047) && !loop(16, (4 << 20) + 1))
        // Two same-sized malloc buffers, a multiple of 4 KiB each, lie 16 bytes apart modulo 4 KiB.
        #expect(loop(262_144 + 16, 262_144))
    }
}
