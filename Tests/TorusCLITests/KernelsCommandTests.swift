import Foundation
import Testing

/// Runs the built `torus` executable the way a user does.
enum TorusExecutable {
    static var url: URL {
        // Test bundles and executables share the build products folder.
        var dir = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("torus").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("torus")
    }

    /// Output goes to temporary files, not pipes: a process forked meanwhile by another test (Open
    /// MPI's singleton `orted`, from SystemLibraryTests) inherits open pipe ends and would keep a
    /// pipe from ever reaching end of file.
    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(url, arguments)
    }

    /// Runs any program the same way (`script` for a pseudo-terminal, say).
    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("torus-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let o = try Data(contentsOf: outURL), e = try Data(contentsOf: errURL)
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

@Suite struct KernelsCommandTests {
    @Test func jsonLinesCarryTheDocumentedKeys() throws {
        let r = try TorusExecutable.run(["kernels", "--type", "f32,i8", "--op", "sum,bxor", "--bytes", "4K,1K", "--samples", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        // f32 has sum only (bxor is integer-only); i8 has both; two sizes.
        #expect(lines.count == 6)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["type", "op", "bytes", "seconds", "gbps", "memcpy_gbps"])
            #expect((object["gbps"] as? Double ?? 0) > 0)
        }
        #expect(lines.first?.contains("\"bytes\":4096") == true)
    }

    @Test func threadsGiveOneRowPerThreadCount() throws {
        let r = try TorusExecutable.run(["kernels", "--type", "f16", "--op", "sum", "--bytes", "256K", "--samples", "1",
                                         "--threads", "1,3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(rows.compactMap { $0["threads"] as? Int } == [1, 3])
        #expect(rows.allSatisfy { ($0["gbps"] as? Double ?? 0) > 0 })
    }

    @Test func tableHasAHeaderAndOneRowPerMeasurement() throws {
        let r = try TorusExecutable.run(["kernels", "--type", "bf16", "--op", "max", "--bytes", "2K", "--samples", "1"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].contains("memcpy GB/s"))
        #expect(lines[2].contains("bf16"))
    }

    @Test(arguments: [
        (["kernels", "--type", "f128"], "--type"),
        (["kernels", "--op", "avg"], "--op"),
        (["kernels", "--bytes", "12X"], "--bytes"),
        (["kernels", "--type", "f32", "--op", "band"], "integer types only"),
        (["kernels", "--threads", "0"], "--threads"),
    ])
    func badInputIsAClearError(arguments: [String], mentions: String) throws {
        let r = try TorusExecutable.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
