import Foundation
import Testing

@testable import Imaging

/// The fixture files (fixtures/fetch.sh), fetched and generated on first use.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures")

    /// Runs fixtures/fetch.sh once per test process; it returns at once when cached.
    static let ready: Result<Void, FixtureError> = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("fetch.sh").path]
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return .failure(FixtureError(description: "could not run fixtures/fetch.sh: \(error)"))
        }
        guard process.terminationStatus == 0 else {
            return .failure(FixtureError(description: "fixtures/fetch.sh failed with status \(process.terminationStatus)"))
        }
        return .success(())
    }()

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        try ready.get()
        return [UInt8](try Data(contentsOf: root.appendingPathComponent(relativePath)))
    }

    static func generated(_ name: String) throws -> [UInt8] {
        try bytes("generated/\(name)")
    }

    /// The 12 nature photographs (1280x1024 to 2560x1920).
    static let naturePhotos = [
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops",
        "Storm", "TwoWings", "Wood", "YellowFlower",
    ]

    static func nature(_ name: String) throws -> [UInt8] {
        try bytes("cache/photos/nature/\(name).jpg")
    }

    /// Garden.jpg: 2560x1600.
    static func garden() throws -> [UInt8] { try nature("Garden") }

    /// 5640x3172, 16 MB.
    static func elephants() throws -> [UInt8] {
        try bytes("cache/photos/Elephants_5640x3172.jpg")
    }
}

/// One processor for the whole test process, as a service would have.
enum Shared {
    static let processor = try! ImageProcessor()
}

/// Decodes an encoded image and reads one pixel.
func pixel(_ bytes: [UInt8], x: Int, y: Int) throws -> [Double] {
    try bytes.withUnsafeBytes { buffer in
        let opened = try ImagePipeline.open(buffer, limits: .default)
        return try opened.image.pixel(x: x, y: y)
    }
}

/// The description an error gives, or nil when `body` does not throw.
func errorText(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch {
        return String(describing: error)
    }
}
