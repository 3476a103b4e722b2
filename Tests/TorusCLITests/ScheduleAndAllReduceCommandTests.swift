import Foundation
import Testing

@Suite struct ScheduleCommandTests {
    @Test func verifyProvesSixRingAndExitsZero() throws {
        let r = try TorusExecutable.run(["schedule", "verify", "--algorithm", "sixring", "--torus", "4x4x4", "--count", "384"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("PROVEN"))
        #expect(r.stdout.contains("hops max 1"))
        #expect(r.stdout.contains("share a directed link: 0"))
    }

    @Test func verifyProvesTheHalvesAndRefusesAlgorithmsWithout() throws {
        for collective in ["reduce-scatter", "all-gather"] {
            let r = try TorusExecutable.run(["schedule", "verify", "-a", "sixring,ring", "--collective", collective, "--torus", "3x4x2", "--count", "5"])
            #expect(r.status == 0 && r.stdout.components(separatedBy: "PROVEN").count == 3, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("24 ranks, 120 elements"))
        }
        let show = try TorusExecutable.run(["schedule", "show", "--collective", "all-gather", "--torus", "2x1x1", "--count", "3"])
        #expect(show.stdout.contains("sixring all-gather rank 0 of 2, 6 elements"), "\(show.stdout)")
        let refused = try TorusExecutable.run(["schedule", "verify", "-a", "recursive-doubling", "--collective", "reduce-scatter"])
        #expect(refused.status != 0 && refused.stderr.contains("recursive-doubling has no reduce-scatter"), "\(refused.stderr)")
    }

    @Test func verifyReportsUnevenLinkLoadAsJSON() throws {
        let r = try TorusExecutable.run(["schedule", "verify", "--torus", "3x4x5", "--count", "600", "--json"])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["proven"] as? Bool == true)
        let load = try #require(object["link_load"] as? [String: Any])
        #expect((load["max_over_min"] as? Double ?? 0) > 1)
    }

    @Test func showDumpsJSONThatNamesTheSteps() throws {
        let r = try TorusExecutable.run(["schedule", "show", "--algorithm", "ring", "--torus", "2x2x1", "--count", "8", "--rank", "1", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"recv_reduce\""))
        let text = try TorusExecutable.run(["schedule", "show", "--algorithm", "rabenseifner", "--torus", "3x1x1", "--count", "9"])
        #expect(text.stdout.contains("rabenseifner rank 0 of 3"))
        // A crossing plan's segment limit (SixRingPlan), in the JSON and in the text; none elsewhere.
        let crossing = try TorusExecutable.run(["schedule", "show", "--torus", "4x3x1", "--count", "2000003", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(crossing.stdout.utf8)) as? [String: Any])
        #expect(object["segment_limit_elements"] as? Int == 65_536)
        #expect(try TorusExecutable.run(["schedule", "show", "--torus", "4x3x1", "--count", "2000003"]).stdout
            .contains("segments of at most 65536 elements"))
        let ring = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(ring["segment_limit_elements"] == nil)
    }

    /// Too large to verify: refused at once with what would fit, and its own exit status.
    @Test func verifyRefusesATorusTooLargeAtOnce() throws {
        let r = try TorusExecutable.run(["schedule", "verify", "--torus", "64x64x64"])
        #expect(r.status == 4 && r.stderr.contains("too large to verify") && r.stderr.contains("up to about 18x18x18"), "\(r.stderr)")
    }

    @Test(arguments: [
        (["schedule", "verify", "--algorithm", "bogus"], "--algorithm"),
        (["schedule", "verify", "--torus", "4x0x4"], "length 0"),
        (["schedule", "show", "--torus", "2x2x2", "--rank", "8"], "--rank 8"),
        (["schedule", "verify", "--count", "-3"], "--count"),
        (["allreduce", "--torus", "16x16x2", "--type", "bf16", "--op", "sum"], "--no-check"),
        (["allreduce", "--bytes", "1Q"], "--bytes"),
        (["allreduce", "--torus", "8x8x8", "--bytes", "1G"], "about 2.0 TiB for 512 ranks of 1G each"),
    ])
    func badInputIsAClearError(arguments: [String], mentions: String) throws {
        let r = try TorusExecutable.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
    }
}

@Suite struct AllReduceCommandTests {
    @Test func runsEveryAlgorithmCheckedWithLinkCounts() throws {
        let r = try TorusExecutable.run(["allreduce", "--torus", "3x3x3", "-a", "sixring,ring", "--bytes", "1M", "-n", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0["wrong"] as? Int == 0 && $0["checked"] as? Bool == true })
        #expect(rows[0]["busy_links_per_node"] as? Double == 6)
        #expect(rows[1]["busy_links_per_node"] as? Double == 1)
        #expect(rows.allSatisfy { $0["max_hops"] as? Int == 1 })
    }

    @Test func checksOtherTypesAndOps() throws {
        for (type, op) in [("i8", "bxor"), ("f16", "max"), ("u64", "prod"), ("bf16", "sum")] {
            let r = try TorusExecutable.run(["allreduce", "--torus", "2x2x2", "-a", "sixring", "--bytes", "4K", "-n", "1",
                                             "--type", type, "--op", op])
            #expect(r.status == 0, "\(type) \(op): \(r.stderr)")
            #expect(r.stdout.contains("yes        0"), "\(r.stdout)")
        }
    }
}
