// swift-tools-version:6.0
// TorusCollectives: six-direction ring AllReduce for 3D-torus networks.
// Module layout and rules: see DESIGN.md §4 (only the MPI targets import CMPI).
import PackageDescription

let package = Package(
    name: "TorusCollectives",
    products: [
        .library(name: "TorusCore", targets: ["TorusCore"]),
        .library(name: "TorusSchedules", targets: ["TorusSchedules"]),
        .library(name: "TorusRuntime", targets: ["TorusRuntime"]),
        .library(name: "TorusPredictor", targets: ["TorusPredictor"]),
        .library(name: "TorusSim", targets: ["TorusSim"]),
        .library(name: "TorusMPI", targets: ["TorusMPI"]),
        // libtorus_mpi.so: the drop-in MPI_Allreduce (LD_PRELOAD or link before libmpi) and the C API (torus.h).
        .library(name: "torus_mpi", type: .dynamic, targets: ["TorusDropIn"]),
        .executable(name: "torus", targets: ["torus"]),
        .executable(name: "torus-bench", targets: ["torus-bench"]),
        .executable(name: "example-simulated-allreduce", targets: ["example-simulated-allreduce"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Open MPI, found with pkg-config `ompi-c`; shim.h exposes the handle macros as functions.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // hwloc (installed with libopenmpi-dev), for core discovery and thread pinning.
        .systemLibrary(
            name: "CHwloc",
            pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]
        ),
        // AVX2/F16C kernels for the 16-bit floats, chosen at run time (TorusCore falls back to Swift).
        .target(name: "CTorusKernels"),
        .target(name: "TorusCore", dependencies: ["CTorusKernels"]),
        .target(name: "TorusSchedules", dependencies: ["TorusCore"]),
        .target(name: "TorusRuntime", dependencies: ["TorusSchedules"]),
        // The discrete-event predictor behind `torus sim`: needs the schedules and the issue rules, not the runtime.
        .target(name: "TorusPredictor", dependencies: ["TorusSchedules"]),
        .target(name: "TorusSim", dependencies: ["TorusRuntime", "TorusPredictor"]),
        .target(name: "TorusMPI", dependencies: ["TorusRuntime", "TorusPredictor", "CMPI", "CHwloc"]),
        // The drop-in: C entry points (MPI_Allreduce, the Fortran bindings, torus.h's C API, the
        // per-communicator attribute) over the Swift decisions and executor in TorusDropIn.
        .target(name: "CTorusMPI", dependencies: ["CMPI"]),
        .target(name: "TorusDropIn", dependencies: ["TorusMPI", "CMPI", "CTorusMPI"]),
        .executableTarget(
            name: "torus",
            dependencies: [
                "TorusSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "torus-bench",
            dependencies: ["TorusMPI", "TorusPredictor", "CMPI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Run under mpirun by scripts/test-mpi.sh (not a product: a test program).
        .executableTarget(name: "torus-mpi-check", dependencies: ["TorusMPI", "CMPI"], path: "Tests/MPI/CheckAllReduce"),
        .executableTarget(name: "example-simulated-allreduce", dependencies: ["TorusSim"], path: "Examples/SimulatedAllReduce"),
        // DP×TP training on the simulated torus, or on MPI with --mpi.
        .executableTarget(name: "example-dp-tp", dependencies: ["TorusSim", "TorusMPI", "CMPI"], path: "Examples/DataTensorParallel"),
        // The README's AllReduce example, verbatim (ReadmeExampleTests keeps them equal).
        .executableTarget(name: "example-readme", dependencies: ["TorusSim"], path: "Examples/Readme"),
        .testTarget(name: "TorusCoreTests", dependencies: ["TorusCore", "CTorusKernels"]),
        .testTarget(name: "TorusSchedulesTests", dependencies: ["TorusSchedules"]),
        .testTarget(name: "TorusSimTests", dependencies: ["TorusSim", "TorusPredictor"]),
        .testTarget(name: "TorusRuntimeTests", dependencies: ["TorusRuntime"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CMPI", "CHwloc", "torus-mpi-check"]),
        .testTarget(name: "TorusDropInTests", dependencies: ["TorusDropIn", "CTorusMPI"]),
        // Runs the built `torus` executable; depends on it so `swift build --build-tests` builds it.
        .testTarget(name: "TorusCLITests", dependencies: ["torus", "TorusPredictor"]),
        // The parsers as fuzz targets; FuzzRegressionTests replays their seeds and past crashes.
        .target(name: "TorusFuzzing", dependencies: ["TorusRuntime"]),
        .testTarget(name: "TorusFuzzingTests", dependencies: ["TorusFuzzing"], exclude: ["Inputs"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer's driver for those targets, only for scripts/fuzz.sh (TORUS_FUZZ=1): it has no `main`
// of its own (libFuzzer's comes with -sanitize=fuzzer), so an ordinary build leaves it out.
if Context.environment["TORUS_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "torus-fuzz", dependencies: ["TorusFuzzing"], path: "Tests/Fuzz/torus-fuzz"))
}
