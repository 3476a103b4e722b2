import Foundation
import Testing
import TorusPredictor
import TorusSchedules

@Suite struct RankMapCommandTests {
    static func temporary(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "torus-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }

    @Test func generateWritesAMapAndTheCheckerAgreesWithItsReport() throws {
        let map = Self.temporary("job.json"), svg = Self.temporary("job.svg")
        let g = try TorusExecutable.run(["rankmap", "generate", "--torus", "4x4x4", "--job", "tp=2,pp=2,dp=16", "--format", "json",
                                         "--output", map, "--svg", svg])
        #expect(g.status == 0, "\(g.stderr)")
        #expect(g.stderr.contains("DP groups: 4 of 16 ranks, hops per ring step worst 1 mean 1.00"))
        let c = try TorusExecutable.run(["rankmap", "check", map, "--job", "tp=2,pp=2", "--json"])
        #expect(c.status == 0, "\(c.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])
        #expect((report["dp"] as? [String: Any])?["worst_hops"] as? Int == 1)
        #expect(report["dp_max_link_load"] as? Int == 1)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
        // Nothing is overwritten without --force.
        let again = try TorusExecutable.run(["rankmap", "generate", "--torus", "4x4x4", "--job", "dp=64", "--output", map])
        #expect(again.status != 0 && again.stderr.contains("--force"))
        #expect(try String(contentsOfFile: map, encoding: .utf8).contains("\"torus\": \"4x4x4\""))
    }

    @Test func convertRoundTripsThroughEveryFormat() throws {
        let vcoord = Self.temporary("m.vcoord")
        try "(0,0,0) core=1\n(1,0,0)\n(1,1,0) core=2\n(0,1,0)\n".write(toFile: vcoord, atomically: true, encoding: .utf8)
        let rankfile = Self.temporary("m.rankfile"), json = Self.temporary("m.json"), back = Self.temporary("back.vcoord")
        #expect(try TorusExecutable.run(["rankmap", "convert", vcoord, "--format", "rankfile", "--output", rankfile]).status == 0)
        #expect(try TorusExecutable.run(["rankmap", "convert", vcoord, "--format", "json", "--output", json]).status == 0)
        #expect(try TorusExecutable.run(["rankmap", "convert", json, "--format", "vcoord", "--output", back]).status == 0)
        #expect(try String(contentsOfFile: back, encoding: .utf8) == "(0,0,0) core=1\n(1,0,0)\n(1,1,0) core=2\n(0,1,0)\n")
        let check = try TorusExecutable.run(["rankmap", "check", rankfile, "--torus", "2x2x1"])
        #expect(check.status == 0 && check.stdout.contains("valid, 4 ranks"), "\(check.stderr)")
    }

    @Test(arguments: [
        (["rankmap", "generate", "--torus", "48x6x48", "--job", "tp=6,pp=8,dp=300"], "dp=288"),
        (["rankmap", "generate", "--torus", "4x4x4", "--job", "tp=2,pp=2,dp=16", "--format", "xml"], "'vcoord', 'rankfile' or 'json'"),
        (["rankmap", "check", "/nonexistent/map"], "readable file"),
        (["rankmap", "generate", "--torus", "4x4x4", "--job", "tp=x"], "tp=6,pp=8,dp=288"),
    ])
    func badInputIsAClearError(arguments: [String], mentions: String) throws {
        let r = try TorusExecutable.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
    }

    @Test func checkNamesTheLineOfABadCoordinate() throws {
        let map = Self.temporary("bad.vcoord")
        try "(0,0,0)\n(1,0,0)\n(9,0,0)\n(0,1,0)\n".write(toFile: map, atomically: true, encoding: .utf8)
        let r = try TorusExecutable.run(["rankmap", "check", map, "--torus", "2x2x1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("bad.vcoord:3: found '(9,0,0)', expected a coordinate inside the torus 2x2x1"), "\(r.stderr)")
    }
}

@Suite struct SimCommandTests {
    @Test func printsTheSummaryWithTheBound() throws {
        let r = try TorusExecutable.run(["sim", "--torus", "4x4x4", "--bytes", "64M", "--preset", "ideal"])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["sixring on 4x4x4, 64 ranks", "algbw", "busbw", "bound (DESIGN §1): busbw <= 40.80 GB/s", "reached 0.9", "busiest link", "idlest link"] {
            #expect(r.stdout.contains(text), "\(text) in \(r.stdout)")
        }
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let r = try TorusExecutable.run(["sim", "--torus", "2x2x2", "--bytes", "1M", "--payload", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["algorithm", "torus", "bytes", "time_s", "algbw_gbps", "busbw_gbps", "bound_busbw_gbps", "bound_fraction"] {
            #expect(o[key] != nil, "\(key)")
        }
        #expect(o["wrong_elements"] as? Int == 0 && o["mode"] as? String == "payload")
        #expect(o["bytes"] as? Int == 1 << 20)
    }

    /// One half alone: half the AllReduce's bytes through every node, so about half its time,
    /// busbw by nccl-tests' (p−1)/p, the same bound; the bad combinations are refused.
    @Test func reduceScatterAndAllGatherArePredicted() throws {
        var times: [String: Double] = [:]
        for collective in ["all-reduce", "reduce-scatter", "all-gather"] {
            let r = try TorusExecutable.run(["sim", "--torus", "4x4x4", "--bytes", "64M", "--preset", "ideal", "--collective", collective, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(o["collective"] as? String == collective)
            times[collective] = o["time_s"] as? Double ?? 0
            let algbw = o["algbw_gbps"] as? Double ?? 0, busbw = o["busbw_gbps"] as? Double ?? 0
            #expect(abs(busbw - algbw * (collective == "all-reduce" ? 2 : 1) * 63 / 64) < 1e-6 * busbw)
            #expect((o["bound_fraction"] as? Double ?? 0) > 0.85, "\(collective): \(r.stdout)")
        }
        for half in ["reduce-scatter", "all-gather"] {
            let ratio = times[half]! / times["all-reduce"]!
            #expect(ratio > 0.4 && ratio < 0.6, "\(half) takes \(ratio) of the AllReduce's time")
        }
        let refused = try TorusExecutable.run(["sim", "--torus", "3x1x1", "--collective", "all-gather", "-a", "rabenseifner"])
        #expect(refused.status != 0 && refused.stderr.contains("power-of-two group"), "\(refused.stderr)")
        let payload = try TorusExecutable.run(["sim", "--torus", "2x2x2", "--collective", "reduce-scatter", "--payload"])
        #expect(payload.status != 0 && payload.stderr.contains("--payload checks AllReduce results"), "\(payload.stderr)")
    }

    @Test func sweepPrintsARowPerSizeAndCSVAColumnPerKey() throws {
        let r = try TorusExecutable.run(["sim", "--torus", "2x2x2", "-a", "sixring,ring", "--sweep", "1K:8K"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 1 + 4)
        let csv = try TorusExecutable.run(["sim", "--torus", "2x2x2", "-a", "sixring,ring", "--sweep", "1K:8K", "--csv"])
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.count == 1 + 8 && lines[0].hasPrefix("algorithm,torus,bytes,time_s"))
    }

    @Test func jobLayoutRunsEveryDPGroupAndWritesPictures() throws {
        let trace = RankMapCommandTests.temporary("t.json"), heat = RankMapCommandTests.temporary("h.svg")
        let r = try TorusExecutable.run(["sim", "--torus", "4x4x4", "--job", "tp=2,pp=2,dp=16", "--bytes", "4M", "--json",
                                         "--trace", trace, "--heatmap", heat])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(o["groups"] as? Int == 4 && o["group_size"] as? Int == 16)
        let t = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any])
        #expect((t["traceEvents"] as? [Any])?.isEmpty == false)
        #expect(try String(contentsOfFile: heat, encoding: .utf8).contains("bytes per directed link"))
    }

    /// `--sweep-threads`: one row per count of reduction threads, 0 being inline. Inline (reductions
    /// on the thread that also issues messages) is slower than one reduction thread of the same
    /// rate, and one thread slower than two or three (their order depends on how the queues meet).
    @Test func sweepThreadsGivesOneRowPerCount() throws {
        let r = try TorusExecutable.run(["sim", "--torus", "4x4x4", "--bytes", "16M", "--sweep-threads", "0:3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.compactMap { $0["reduction_threads"] as? Int } == [0, 1, 2, 3])
        let times = rows.compactMap { $0["time_s"] as? Double }
        #expect(times.count == 4 && times[0] > times[1] && times[1] > max(times[2], times[3]), "\(times)")
        let text = try TorusExecutable.run(["sim", "--torus", "4x4x4", "--bytes", "16M", "--sweep-threads", "1,4"])
        #expect(text.stdout.contains(" threads      time (us)") && text.stdout.split(separator: "\n").count == 6, "\(text.stdout)")
    }

    /// The progress bar shows on a terminal (a pseudo-terminal from `script`) for a run over a
    /// second, and never when stderr is not a terminal.
    @Test func progressBarOnlyOnATerminal() throws {
        let command = "\(TorusExecutable.url.path) sim --torus 8x8x8 --bytes 512M > /dev/null"
        let terminal = try TorusExecutable.run(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        let text = terminal.stdout + terminal.stderr
        #expect(terminal.status == 0)
        #expect(text.contains("sixring 512M [") && text.contains("100%"), "\(text.suffix(300))")
        let piped = try TorusExecutable.run(["sim", "--torus", "8x8x8", "--bytes", "512M"])
        #expect(piped.status == 0 && !piped.stderr.contains("%"))
    }

    @Test(arguments: [
        (["sim", "--preset", "tofu-z"], "'tofu-d', 'generic' or 'ideal'"),
        (["sim", "--set", "link-bandwidth=-1"], "--set link-bandwidth"),
        (["sim", "--set", "link-bandwidth=1e-300"], "a rate from 1e3 to 1e15"),
        (["sim", "--set", "link-latency=5"], "a time from 0 to 1"),
        (["sim", "--sweep", "8"], "MIN:MAX"),
        (["sim", "--rankmap", "x.vcoord"], "--job"),
        (["sim", "--network", "mesh"], "'torus' and 'full'"),
        (["sim", "--threads", "0"], "--threads"),
        (["sim", "--sweep-threads", "4:1"], "MIN:MAX or a list"),
        (["sim", "--sweep-threads", "1,x"], "MIN:MAX or a list"),
        (["sim", "--sweep-threads", "1,2", "-a", "sixring,ring"], "one --algorithm"),
        (["sim", "--set", "reduction-threads=-1"], "an integer from 0 to 4096"),
        (["sim", "--torus", "4x4x4", "--job", "tp=3"], "tp·pp dividing"),
        (["sim", "--set", "eager-limit=huge"], "--set eager-limit"),
        (["sim", "--model", "/nonexistent/model.json"], "a model file written by `mpirun -np N torus-bench --calibrate FILE`"),
        (["sim", "--model", "/nonexistent/model.json", "--preset", "ideal"], "choose one of --preset and --model"),
        // Refused at once with an estimate, not run until the machine runs out of memory.
        (["sim", "--torus", "1000x1000x1000"], "pass --ignore-memory to run anyway"),
    ])
    func badInputIsAClearError(arguments: [String], mentions: String) throws {
        let r = try TorusExecutable.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
    }

    /// Every figure of a preset says where it comes from; a calibrated model file is read and predicts.
    @Test func showModelNamesEverySourceAndModelFilesPredict() throws {
        let shown = try TorusExecutable.run(["sim", "--show-model"])
        #expect(shown.status == 0, "\(shown.stderr)")
        for text in ["model: tofu-d", "eager-limit", "16K", "assumed", "rendezvous-delay", "Ajima", "receive-overhead"] {
            #expect(shown.stdout.contains(text), "\(text) in \(shown.stdout)")
        }
        var model = NetworkModel(name: "calibrated", machine: MachineFigures.generic)
        model.machine.receiveCopyRate = 4e9
        model.sources = ["link-latency": "measured here"]
        let calibration = Calibration(ranks: 2, ranksPerNode: 2, host: "h", library: "l", date: "d", model: model,
                                      libraryAllReduce: [TimedSize(bytes: 8, seconds: 1e-6)], pingPong: [], notes: [])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cli-model-\(UUID().uuidString).json").path
        try CalibratedModel.encoder.encode(CalibratedModel(calibrations: [calibration])).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let described = try TorusExecutable.run(["sim", "--model", path, "--torus", "2x1x1", "--show-model"])
        #expect(described.status == 0 && described.stdout.contains("calibrated-np2") && described.stdout.contains("measured here"), "\(described.stdout) \(described.stderr)")
        let predicted = try TorusExecutable.run(["sim", "--model", path, "--torus", "2x1x1", "-a", "ring", "--bytes", "1M"])
        #expect(predicted.status == 0 && predicted.stdout.contains("receiver copies at 4 GB/s"), "\(predicted.stdout) \(predicted.stderr)")
    }

    /// An argument error shows the usage (exit 64); a run-time error only its message (exit 1).
    @Test func argumentErrorsShowUsageAndRunTimeErrorsDoNot() throws {
        let argument = try TorusExecutable.run(["sim", "--type", "f33"])
        #expect(argument.status == 64 && argument.stderr.contains("Usage:") && argument.stderr.contains("bf16"), "\(argument.stderr)")
        let runTime = try TorusExecutable.run(["sim", "--torus", "4x4x4", "--job", "tp=2,pp=2,dp=16", "--rankmap", "/nonexistent/map.vcoord"])
        #expect(runTime.status == 1 && !runTime.stderr.contains("Usage:") && runTime.stderr.contains("/nonexistent/map.vcoord"), "\(runTime.stderr)")
        let list = try TorusExecutable.run(["sim", "-a", "sixring,ring", "--bytes", "1M", "--json"])
        #expect(list.status == 0 && list.stdout.contains("\"ring\""), "\(list.stderr)")
    }
}
