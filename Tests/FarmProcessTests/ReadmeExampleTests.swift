import Foundation
import Imaging
import TestSupport
import Testing

/// The README's examples, read from the README itself (each follows a `<!-- readme-example: NAME -->`
/// marker), run against `gearbox server` and `gearbox worker` with a real photograph: what a reader copies
/// works.
@Suite(.serialized) struct ReadmeExampleTests {
    /// The code block after the marker, with the default port swapped for the test server's.
    static func example(_ name: String, port: Int) throws -> String {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let marker = readme.range(of: "<!-- readme-example: \(name) -->"),
            let open = readme.range(of: "```", range: marker.upperBound..<readme.endIndex),
            let firstLine = readme.range(of: "\n", range: open.upperBound..<readme.endIndex),
            let close = readme.range(of: "\n```", range: firstLine.upperBound..<readme.endIndex)
        else { throw TestFailure("README.md has no example marked \(name)") }
        return String(readme[firstLine.upperBound..<close.lowerBound]).replacingOccurrences(of: "4730", with: "\(port)")
    }

    /// Runs `body` in a folder holding photo.jpg, with a job server and an image worker up.
    func withFarm(_ body: (_ folder: String, _ port: Int) async throws -> Void) async throws {
        let folder = try ScratchFolder()
        try Data(try Fixtures.nature(Fixtures.naturePhotos[0])).write(to: URL(fileURLWithPath: folder.path + "/photo.jpg"))
        let (server, port) = try await startJobServer(try gearboxBinary()) { ["server", "--port", "\($0)"] }
        defer { server.stop() }
        let worker = try ChildProcess(try gearboxBinary(), ["worker", "--server", "127.0.0.1:\(port)", "-c", "2"])
        defer { worker.stop() }
        try await waitForWorkers(port: port, function: "thumbnail", count: 1, timeout: .seconds(30))
        try await body(folder.path, port)
    }

    /// The thumbnail the example wrote: a WebP within 320x240.
    func expectThumbnail(in folder: String) async throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/thumb.webp"))
        let info = try await FarmProcessTests.describer.info([UInt8](bytes))
        #expect(info.format == .webp)
        #expect(info.width <= 320 && info.height <= 240 && max(info.width, info.height) >= 200)
    }

    @Test func thePythonExampleWithGear() async throws {
        try await withFarm { folder, port in
            let script = folder + "/example.py"
            try Self.example("python", port: port).write(toFile: script, atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONPATH"] = testPythonPath
            let python = try ChildProcess("/bin/sh", ["-c", "cd '\(folder)' && exec python3 example.py"], environment: environment)
            #expect(try await python.wait(timeout: .seconds(90)) == 0, "\(python.standardErrorText)")
            #expect(!python.standardOutputText.contains("failed"), "\(python.standardOutputText)")
            try await expectThumbnail(in: folder)
        }
    }

    @Test func thePHPExample() async throws {
        try await withFarm { folder, port in
            try ("<?php\n" + Self.example("php", port: port)).write(toFile: folder + "/example.php", atomically: true, encoding: .utf8)
            let php = try ChildProcess("/bin/sh", ["-c", "cd '\(folder)' && exec php example.php"])
            #expect(try await php.wait(timeout: .seconds(90)) == 0, "\(php.standardErrorText)")
            #expect(!php.standardOutputText.contains("failed"), "\(php.standardOutputText)")
            try await expectThumbnail(in: folder)
        }
    }
}

/// Waits until `count` workers offer `function`, by the admin `status` table.
func waitForWorkers(port: Int, function: String, count: Int, timeout: Duration) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let admin = try RawConnection(port: port)
        try admin.send(line: "status")
        for line in try admin.receiveAdminReply().split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 4, fields[0] == function, Int(fields[3]) ?? 0 >= count { return }
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("\(count) workers for \(function) did not register within \(timeout)")
}
