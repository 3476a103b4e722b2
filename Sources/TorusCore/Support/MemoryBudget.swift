import Foundation

/// What a command is about to allocate, checked against the memory the machine has free before
/// any of it is allocated: a run that cannot fit is refused with the estimate and what is
/// available, instead of growing until the kernel kills it.
public enum MemoryBudget {
    /// Bytes of memory available now: `MemAvailable` of /proc/meminfo, else the free physical pages.
    public static func available() -> Int? {
        if let file = fopen("/proc/meminfo", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if text.hasPrefix("MemAvailable:"), let kib = Int(text.split(separator: " ")[1]) { return kib * 1024 }
            }
        }
        let pages = sysconf(Int32(_SC_AVPHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : nil
    }

    /// Throws when `bytes` (an estimate of what `what` needs) exceeds what is available; the error
    /// names the estimate, the memory free and `override`, the option that goes ahead anyway.
    public static func check(_ bytes: Double, for what: String, override: String, available: Int? = MemoryBudget.available()) throws {
        guard let available, bytes > Double(available) else { return }
        throw TorusError.invalidValue(name: "memory", value: "about \(format(bytes)) for \(what)",
                                      expected: "at most the \(format(Double(available))) this machine has available: choose a smaller size or torus, "
                                          + "or pass \(override) to run anyway")
    }

    /// "540 GiB", "3.2 TiB".
    public static func format(_ bytes: Double) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = bytes, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v)) bytes" : (v < 10 ? String(format: "%.1f %@", v, units[i]) : "\(Int(v.rounded())) \(units[i])")
    }
}
