import Foundation
import Gearman
import ImageFarm
import Imaging
import Logging
import TestSupport
import Testing
import UploadFront

/// `gearbox front --server` against gearmand, with image workers attached to gearmand: the deployment where
/// the front, the job server and the farm are separate processes.
@Suite(.serialized) struct ExternalFarmTests {
    /// `gearbox worker` offering the image functions, when this build's worker has them; otherwise the same
    /// functions (`ImageWorkerFunctions`) on a worker in the test process.
    private func attachWorker(to gearmand: Gearmand) async throws -> @Sendable () async -> Void {
        let binary = try gearboxBinary()
        let help = try await ChildProcess.run(binary, ["worker", "--help"])
        let server = "127.0.0.1:\(gearmand.port)"
        if String(decoding: help.stdout, as: UTF8.self).contains("thumbnail") {
            let child = try ChildProcess(
                binary, ["worker", "--server", server, "--function", "thumbnail", "--concurrency", "2"])
            return { child.stop() }
        }
        print("note: this gearbox worker has no image functions; attaching ImageWorkerFunctions in the test process")
        var logger = Logger(label: "test.worker")
        logger.logLevel = .warning
        let processor = ImageProcessor(configuration: .init(threads: 2))
        let worker = GearmanWorker(
            servers: [GearmanServerAddress(host: "127.0.0.1", port: gearmand.port)], concurrency: 2, logger: logger)
        ImageWorkerFunctions.register([.thumbnail], on: worker, runner: ImageFunctionRunner(processor: processor))
        let task = Task { try await worker.run() }
        return {
            worker.shutdown()
            _ = await task.result
            await processor.shutdown()
        }
    }

    @Test func theFrontCommandUploadsThroughGearmandToItsWorkers() async throws {
        let gearmand = try await Gearmand()
        defer { gearmand.stop() }
        let port = try freePort()
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        let front = try ChildProcess(
            try gearboxBinary(),
            [
                "front", "--port", String(port), "--server", "127.0.0.1:\(gearmand.port)", "--storage", storage.path,
                "--sizes", "thumb=200x150,web=1024x768",
                // No wall-clock limits (FrontHarness.unhurried says why): this test is about the path.
                "--job-timeout", "\(FrontHarness.unhurriedLimit.components.seconds)",
                "--job-time-limit", "\(FrontHarness.unhurriedLimit.components.seconds)",
            ])
        defer { front.stop() }
        try await waitUntilListening(port: port)
        let base = "http://127.0.0.1:\(port)"

        // Not ready until a worker attaches.
        #expect(try await HTTP.get(base + "/healthz").status == 503)
        let detach = try await attachWorker(to: gearmand)
        try await FrontHarness.waitUntilReady(base)

        // The 16 MB photograph as a raw body (multipart parsing of that much is slow in a debug build).
        let reply = try await HTTP.postRaw(base + "/photos", try FrontHarness.elephants)
        #expect(reply.status == 200, "\(reply.text)")
        let photo = try #require(try reply.json().photos.first)
        #expect(photo.original?.width == 5640 && photo.original?.height == 3172)
        let expected = ["thumb": (200, 112), "web": (1024, 576)]
        for (name, (width, height)) in expected {
            let size = try #require(photo.sizes[name])
            let image = try await HTTP.get(base + (try #require(size.url, "\(name): \(size)")))
            #expect(image.status == 200)
            let info = try await FrontHarness.info(image.body)
            #expect(info.width == width && info.height == height, "\(name): \(info.width)x\(info.height)")
            #expect(
                FileManager.default.fileExists(atPath: storage.appendingPathComponent("\(photo.id!)/\(name).jpg").path))
        }
        // AVIF comes after the answer, through the photo's background job on gearmand, run by the front itself.
        let folder = storage.appendingPathComponent(photo.id!)
        let deadline = ContinuousClock.now + .seconds(120)
        while !["thumb.avif", "thumb@2x.avif", "web.avif", "web@2x.avif"].allSatisfy({
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }) {
            guard ContinuousClock.now < deadline else {
                throw FrontTestFailure(description: "no AVIF through gearmand")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let avif = try await HTTP.get(base + photo.sizes["web"]!.url!, headers: ["Accept": "image/avif"])
        #expect(avif.headers["content-type"] == "image/avif")
        await detach()

        front.signal(SIGTERM)
        #expect(try await front.wait(timeout: .seconds(10)) == 0)
    }

    /// `gearbox front --server ... --ssl`: the front reaches its job server over TLS, as do the workers.
    @Test func theFrontReachesItsJobServerOverTLS() async throws {
        let certificates = try await TestCertificates()
        let tlsPort = try freePort()
        let (server, serverPort) = try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "--ssl-port", "\(tlsPort)", "--ssl-certificate",
                certificates.serverCertificate,
                "--ssl-key", certificates.serverKey,
            ]
        }
        defer { server.stop() }
        try await waitUntilListening(port: tlsPort)
        let tls = ["--ssl", "--ssl-ca-file", certificates.caFile]
        let worker = try ChildProcess(
            try gearboxBinary(),
            ["worker", "--server", "127.0.0.1:\(tlsPort)", "--function", "thumbnail", "--concurrency", "2"] + tls)
        defer { worker.stop() }
        let port = try freePort()
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        let front = try ChildProcess(
            try gearboxBinary(),
            [
                "front", "--port", String(port), "--server", "127.0.0.1:\(tlsPort)", "--storage", storage.path,
                "--sizes", "thumb=200x150", "--formats", "", "--densities", "1",
            ] + tls)
        defer { front.stop() }
        try await waitUntilListening(port: port)
        let base = "http://127.0.0.1:\(port)"
        try await FrontHarness.waitUntilReady(base)
        let reply = try await HTTP.postRaw(base + "/photos?filename=garden.jpg", try FrontHarness.garden)
        #expect(reply.status == 200, "\(reply.text)")
        let photo = try #require(try reply.json().photos.first)
        #expect(photo.sizes["thumb"] != nil)
        // The worker that joined through the TLS port is the one the server lists.
        let admin = try await RawConnection(port: serverPort)
        try await admin.send(line: "status")
        #expect(try await admin.receiveAdminReply().contains("thumbnail\t0\t0\t1"))
    }
}
