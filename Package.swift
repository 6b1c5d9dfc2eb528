// swift-tools-version: 6.2
import PackageDescription

/// grove's own targets treat every warning as an error; the dependencies' warnings are theirs.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "grove",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grove", targets: ["grove"]),
        .library(name: "GroveGit", targets: ["GroveGit"]),
        .library(name: "GroveCore", targets: ["GroveCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
    ],
    targets: [
        // libgit2 from the system (Debian: libgit2-dev). Only GroveGit imports it.
        .systemLibrary(
            name: "Clibgit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"]), .brew(["libgit2"])]
        ),
        // Small helpers every module shares: error text, list summaries, path comparison.
        .target(name: "GroveBasics", swiftSettings: strict),
        .target(name: "GroveGit", dependencies: ["Clibgit2", "GroveBasics"], swiftSettings: strict),
        .target(
            name: "GroveCore",
            dependencies: [
                "GroveBasics",
                "GroveGit",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GroveCLI",
            dependencies: [
                "GroveBasics",
                "GroveCore",
                "GroveGit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "grove", dependencies: ["GroveCLI"], swiftSettings: strict),
        // Real repositories in temporary directories and the git CLI as the second opinion.
        .target(name: "TestSupport", dependencies: ["GroveGit"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "GroveGitTests", dependencies: ["GroveBasics", "GroveGit", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "GroveCoreTests", dependencies: ["GroveCore", "GroveGit", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "GroveCLITests", dependencies: ["GroveCLI", "GroveCore", "GroveGit", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "FixturesTests", swiftSettings: strict),
    ]
)
