/// Byte counts as users write them: `4096`, `64K`, `16M`, `1G` (K/M/G mean KiB/MiB/GiB, DESIGN §10).
public enum ByteCount {
    /// Parses a size such as `256`, `64K`, `64KiB`, `16M`, `1G` (case-insensitive suffix).
    /// - Parameter name: what the value is for, used in the error (an option or variable name).
    public static func parse(_ text: String, name: String = "size") throws -> Int {
        let expected = "a byte count such as 4096, 64K, 16M or 1G (K, M, G mean KiB, MiB, GiB)"
        var digits = Substring(text.trimmingCharacters(in: " "))
        var shift = 0
        let suffixes: [(String, Int)] = [("KIB", 10), ("MIB", 20), ("GIB", 30), ("K", 10), ("M", 20), ("G", 30), ("B", 0)]
        for (suffix, s) in suffixes where digits.uppercased().hasSuffix(suffix) {
            digits = digits.dropLast(suffix.count)
            shift = s
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else {
            throw TorusError.invalidValue(name: name, value: text, expected: expected)
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else {
            throw TorusError.invalidValue(name: name, value: text, expected: "a byte count below 2^63")
        }
        return bytes
    }

    /// Formats a byte count compactly with binary suffixes when exact (`65536` → `64K`).
    public static func format(_ bytes: Int) -> String {
        for (suffix, shift) in [("G", 30), ("M", 20), ("K", 10)] where bytes >= (1 << shift) && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
