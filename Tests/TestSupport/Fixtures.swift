import Foundation

/// Real photographs and generated edge cases, fetched and made by `fixtures/fetch.sh` on first use.
public enum Fixtures {
    public static let root = packageRoot.appendingPathComponent("fixtures")

    private static let ready: Result<Void, FixtureError> = {
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
            return .failure(
                FixtureError(description: "fixtures/fetch.sh failed with status \(process.terminationStatus)"))
        }
        return .success(())
    }()

    public struct FixtureError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Makes sure the fixtures exist; throws why not.
    public static func prepare() throws {
        try ready.get()
    }

    public static func url(_ relativePath: String) throws -> URL {
        try prepare()
        return root.appendingPathComponent(relativePath)
    }

    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relativePath)))
    }

    public static func generated(_ name: String) throws -> [UInt8] {
        try bytes("generated/\(name)")
    }

    public static let naturePhotos = [
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops",
        "Storm", "TwoWings", "Wood", "YellowFlower",
    ]

    public static func nature(_ name: String) throws -> [UInt8] {
        try bytes("cache/photos/nature/\(name).jpg")
    }

    public static func garden() throws -> [UInt8] { try nature("Garden") }

    public static func elephants() throws -> [UInt8] {
        try bytes("cache/photos/Elephants_5640x3172.jpg")
    }
}
