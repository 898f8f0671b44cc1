import Foundation
import Imaging
import TestSupport
import Testing

/// `gearbox worker` and `gearbox batch` as processes, against gearmand and `gearbox server`, with
/// libgearman's `gearman` CLI as the client any language would use.
@Suite(.serialized) struct FarmProcessTests {
    enum Server: String, CaseIterable, CustomTestStringConvertible {
        case gearmand, gearbox
        var testDescription: String { rawValue }
    }

    /// A job server process on a free port.
    final class RunningServer {
        let port: Int
        private let gearmand: Gearmand?
        private let child: ChildProcess?

        init(_ kind: Server) async throws {
            switch kind {
            case .gearmand:
                let server = try await Gearmand()
                gearmand = server
                child = nil
                port = server.port
            case .gearbox:
                let binary = try gearboxBinary()
                let (process, port) = try await startJobServer(binary) {
                    ["server", "--port", "\($0)", "--listen", "127.0.0.1"]
                }
                self.port = port
                child = process
                gearmand = nil
            }
        }

        deinit {
            gearmand?.stop()
            child?.stop()
        }
    }

    static let describer = ImageProcessor(configuration: .init(threads: 1))

    func worker(port: Int, _ extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(try gearboxBinary(), ["worker", "--server", "127.0.0.1:\(port)"] + extra)
    }

    @Test(arguments: Server.allCases)
    func theGearmanCLIGetsAThumbnailFromAGearboxWorker(_ kind: Server) async throws {
        let server = try await RunningServer(kind)
        let worker = try worker(port: server.port, ["-c", "2"])
        try await waitForWorkers(port: server.port, function: "resize", count: 1, timeout: .seconds(20))
        let garden = try Data(contentsOf: try Fixtures.url("cache/photos/nature/Garden.jpg"))

        // gearman -f resize < large.jpg > thumb.jpg
        let resized = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "resize"], stdin: garden)
        #expect(resized.status == 0, "\(resized.stderr)")
        let thumb = try await Self.describer.info([UInt8](resized.stdout))
        #expect(thumb.format == .jpeg && thumb.width == 200 && thumb.height <= 150)

        // An options line in front of the bytes.
        let options = Data("?size=64x64&format=png\n".utf8) + garden
        let small = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "thumbnail"], stdin: options)
        #expect(small.status == 0, "\(small.stderr)")
        let png = try await Self.describer.info([UInt8](small.stdout))
        #expect(png.format == .png && png.width == 64 && png.height == 40)
        withExtendedLifetime(worker) {}
    }

    /// gearmand 1.1.20 turns WORK_EXCEPTION into a WORK_FAIL with a stray trailing NUL, on which libgearman's
    /// own `gearman` CLI waits forever; `gearbox server` sends a plain WORK_FAIL, so the CLI sees the failure.
    @Test func theGearmanCLISeesABadImageFail() async throws {
        let server = try await RunningServer(.gearbox)
        let worker = try worker(port: server.port, ["-c", "1"])
        try await waitForWorkers(port: server.port, function: "thumbnail", count: 1, timeout: .seconds(20))
        let random = try Data(contentsOf: try Fixtures.url("generated/random.bin"))
        let failed = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "thumbnail"], stdin: random)
        #expect(failed.status != 0)
        #expect(failed.stdout.isEmpty)
        // The worker is still there.
        let garden = try Data(contentsOf: try Fixtures.url("cache/photos/nature/Garden.jpg"))
        let ok = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "thumbnail"], stdin: garden)
        #expect(ok.status == 0)
        #expect(try await Self.describer.info([UInt8](ok.stdout)).width == 200)
        withExtendedLifetime(worker) {}
    }

    @Test func workerFlagsSetTheDefaultsAndTheLimits() async throws {
        let server = try await RunningServer(.gearbox)
        let worker = try worker(
            port: server.port,
            ["-f", "thumbnail,reverse", "-c", "1", "--size", "64x64", "--format", "png", "--max-bytes", "100000"])
        try await waitForWorkers(port: server.port, function: "thumbnail", count: 1, timeout: .seconds(20))
        let small = try Data(contentsOf: try Fixtures.url("generated/photo.jpg"))  // 28 KB, 640x400
        let made = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "thumbnail"], stdin: small)
        #expect(made.status == 0, "\(made.stderr)")
        let png = try await Self.describer.info([UInt8](made.stdout))
        #expect(png.format == .png && png.width == 64 && png.height == 40)
        // Over --max-bytes: refused before decoding.
        let garden = try Data(contentsOf: try Fixtures.url("cache/photos/nature/Garden.jpg"))  // 265 KB
        let refused = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "thumbnail"], stdin: garden)
        #expect(refused.status != 0)
        #expect(refused.stdout.isEmpty)
        // Built-in and image functions side by side.
        let reversed = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "reverse", "abc"])
        #expect(String(decoding: reversed.stdout, as: UTF8.self).hasPrefix("cba"))
        withExtendedLifetime(worker) {}
    }

    // MARK: gearbox batch

    final class Tree {
        let root: URL
        init(photos: [String], broken: Bool = false) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "gearbox-batch-cli-\(UUID().uuidString)")
            for (index, name) in photos.enumerated() {
                let folder = root.appendingPathComponent(index % 2 == 0 ? "in" : "in/sub")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data(contentsOf: try Fixtures.url("cache/photos/nature/\(name).jpg"))
                    .write(to: folder.appendingPathComponent("\(name).jpg"))
            }
            if broken {
                try Data(contentsOf: try Fixtures.url("generated/truncated.jpg"))
                    .write(to: root.appendingPathComponent("in/sub/broken.jpg"))
            }
        }
        deinit { try? FileManager.default.removeItem(at: root) }

        var input: String { root.appendingPathComponent("in").path }
        var output: String { root.appendingPathComponent("out").path }

        /// Every file under the output folder, hidden ones included, relative and sorted.
        var outputs: [String] {
            let walker = FileManager.default.enumerator(atPath: output)
            return (walker?.allObjects as? [String] ?? []).filter { name in
                var folder: ObjCBool = false
                return FileManager.default.fileExists(atPath: output + "/" + name, isDirectory: &folder)
                    && !folder.boolValue
            }.sorted()
        }

        func waitForFirstOutput() async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while outputs.filter({ !$0.contains("/.") && !$0.hasPrefix(".") }).isEmpty {
                guard ContinuousClock.now < deadline else { throw TestFailure("no thumbnail appeared") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    @Test func aBatchWithACorruptFileReportsItAndMakesTheRest() async throws {
        let tree = try Tree(photos: ["Garden", "Aqua", "Dune"], broken: true)
        let run = try await ChildProcess.run(
            try gearboxBinary(),
            ["batch", tree.input, "-o", tree.output, "-s", "200x150", "-s", "100x100", "--progress", "lines"],
            timeout: .seconds(60))
        let stdout = String(decoding: run.stdout, as: UTF8.self)
        #expect(run.status == 1, "\(stdout)\(run.stderr)")
        #expect(stdout.contains("thumbnails: 6 written, 0 already up to date, 2 failed"), "\(stdout)")
        #expect(stdout.contains("sub/broken.jpg [200x150]: truncated JPEG"), "\(stdout)")
        #expect(run.stderr.contains("FAIL sub/broken.jpg"), "\(run.stderr)")
        #expect(run.stderr.contains("ok   Garden.jpg (2 thumbnails)"), "\(run.stderr)")
        #expect(
            tree.outputs == [
                "Dune_100x100.jpg", "Dune_200x150.jpg", "Garden_100x100.jpg", "Garden_200x150.jpg",
                "sub/Aqua_100x100.jpg", "sub/Aqua_200x150.jpg",
            ])
        let thumb = try await Self.describer.info(
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: tree.output + "/sub/Aqua_100x100.jpg"))))
        #expect(thumb.width == 100 && thumb.height <= 100)
    }

    @Test func ctrlCStopsCleanlyAndTheNextRunResumes() async throws {
        let tree = try Tree(photos: Fixtures.naturePhotos)
        let arguments = [
            "batch", tree.input, "-o", tree.output, "-s", "200x150", "-s", "640x480", "-s", "1600x1200",
            "-c", "1", "--in-flight", "1", "--progress", "none",
        ]
        let batch = try ChildProcess(try gearboxBinary(), arguments)
        try await tree.waitForFirstOutput()
        batch.signal(SIGINT)
        let status = try await batch.wait(timeout: .seconds(60))
        #expect(status == 130, "\(batch.standardOutputText)\(batch.standardErrorText)")
        #expect(batch.standardOutputText.contains("Interrupted."))
        let afterInterrupt = tree.outputs
        #expect(afterInterrupt.allSatisfy { !$0.contains(".part") }, "\(afterInterrupt)")
        #expect(afterInterrupt.count < 36)

        let resumed = try await ChildProcess.run(try gearboxBinary(), arguments, timeout: .seconds(120))
        let stdout = String(decoding: resumed.stdout, as: UTF8.self)
        #expect(resumed.status == 0, "\(stdout)\(resumed.stderr)")
        #expect(
            stdout.contains(
                "\(36 - afterInterrupt.count) written, \(afterInterrupt.count) already up to date, 0 failed"),
            "\(stdout)")
        #expect(tree.outputs.count == 36)
    }

    @Test func aWorkerKilledDuringABatchLeavesItsJobsToTheOther() async throws {
        let server = try await RunningServer(.gearmand)
        let doomed = try worker(port: server.port, ["-c", "1", "--client-id", "doomed"])
        let survivor = try worker(port: server.port, ["-c", "1", "--client-id", "survivor"])
        try await waitForWorkers(port: server.port, function: "thumbnail", count: 2, timeout: .seconds(20))
        let tree = try Tree(photos: Fixtures.naturePhotos)
        let batch = try ChildProcess(
            try gearboxBinary(),
            [
                "batch", tree.input, "-o", tree.output, "-s", "200x150", "-s", "640x480",
                "--server", "127.0.0.1:\(server.port)", "--progress", "lines",
            ])
        try await tree.waitForFirstOutput()
        doomed.stop()  // SIGKILL, mid-job: gearmand gives its job back to the queue
        let status = try await batch.wait(timeout: .seconds(120))
        #expect(status == 0, "\(batch.standardOutputText)\(batch.standardErrorText)")
        #expect(batch.standardOutputText.contains("thumbnails: 24 written, 0 already up to date, 0 failed"))
        #expect(tree.outputs.count == 24)
        #expect(tree.outputs.allSatisfy { !$0.contains(".part") })
        withExtendedLifetime(survivor) {}
    }

    @Test func batchRefusesBadArgumentsAndAMissingServer() async throws {
        let tree = try Tree(photos: ["Garden"])
        let badSize = try await ChildProcess.run(
            try gearboxBinary(), ["batch", tree.input, "-o", tree.output, "-s", "big"])
        #expect(badSize.status != 0)
        #expect(badSize.stderr.contains("-s big"), "\(badSize.stderr)")
        let port = try freePort()
        let noServer = try await ChildProcess.run(
            try gearboxBinary(), ["batch", tree.input, "-o", tree.output, "--server", "127.0.0.1:\(port)"])
        #expect(noServer.status == 1)
        #expect(noServer.stderr.contains("no job server answers"), "\(noServer.stderr)")
        let unknown = try await ChildProcess.run(try gearboxBinary(), ["worker", "-f", "thumbnail,crop"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown function crop"), "\(unknown.stderr)")
    }
}
