import Foundation
import Gearman
import ImageFarm
import Imaging
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TestSupport
import UploadFront

/// The front running in this process on a free port, with its storage in a fresh temporary folder.
struct RunningFront: Sendable {
    let port: Int
    let storage: URL
    var base: String { "http://127.0.0.1:\(port)" }
}

enum FrontHarness {
    static let processor = ImageProcessor(configuration: .init(threads: 2))

    /// One JPEG per size at 1x, as the front made them before formats and densities: for the tests about
    /// uploads, limits and failures, which need not pay for AVIF.
    static let jpegOnly = unhurried(FrontConfiguration(densities: [1], formats: [], embeddedWorkers: 2))

    /// `configuration` without its wall-clock limits on a job (30 s from asking for a turn to the result, 20 s
    /// of work): with a CPU hog on both cores, a debug build's AVIF, or the eight jobs of a 16 MB photo queued
    /// behind two worker slots, took longer and came back 503 ("the image farm did not answer in time").
    /// Only the tests about those limits should meet them, and they set their own.
    static func unhurried(_ configuration: FrontConfiguration) -> FrontConfiguration {
        var configuration = configuration
        configuration.jobTimeout = unhurriedLimit
        configuration.jobTimeLimit = unhurriedLimit
        return configuration
    }

    /// Past every test's own deadline: a job that takes this long has hung.
    static let unhurriedLimit = Duration.seconds(600)

    /// Starts the front with `configuration` (its port and storage replaced), runs `body`, then shuts it down
    /// gracefully and removes the storage.
    static func with<T: Sendable>(
        _ configuration: FrontConfiguration = FrontHarness.jpegOnly,
        storage given: URL? = nil,
        _ body: @Sendable (RunningFront) async throws -> T
    ) async throws -> T {
        var configuration = configuration
        let storage =
            given ?? FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID())")
        configuration.port = 0
        configuration.storage = storage.path
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test.front")
        logger.logLevel = .warning
        let front = UploadFront(configuration: configuration, logger: logger) { port in continuation.yield(port) }
        let group = ServiceGroup(services: [front], logger: logger)
        let running = Task { try await group.run() }
        defer { if given == nil { try? FileManager.default.removeItem(at: storage) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await running.value
            throw FrontTestFailure(description: "the front stopped before listening")
        }
        do {
            let result = try await body(RunningFront(port: port, storage: storage))
            await group.triggerGracefulShutdown()
            try await running.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            throw error
        }
    }

    /// Polls `/healthz` until it answers 200.
    static func waitUntilReady(_ base: String, timeout: Duration = .seconds(15)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let reply = try? await HTTP.get("\(base)/healthz"), reply.status == 200 { return }
            guard ContinuousClock.now < deadline else {
                throw FrontTestFailure(description: "\(base)/healthz never became ready")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func info(_ data: Data) async throws -> ImageInfo {
        try await processor.info([UInt8](data))
    }

    static func fixturePath(_ relative: String) throws -> String {
        try Fixtures.url(relative).path
    }

    static var garden: String { get throws { try fixturePath("cache/photos/nature/Garden.jpg") } }
    static var elephants: String { get throws { try fixturePath("cache/photos/Elephants_5640x3172.jpg") } }
}

/// A job server with a test worker for `function` that sleeps `delay` (and first waits at `gate`, when there is
/// one), then thumbnails for real (or, with `echo`, returns the job's image as it came, costing no CPU); or
/// fails the jobs whose options line contains `failing`. It counts the jobs that reach its worker.
final class TestFarm: Sendable {
    let farm: EmbeddedFarm
    let worker: GearmanWorker
    private let arrivals: JobCounter
    private let farmTask: Task<Void, any Error>
    private let workerTask: Task<Void, any Error>

    init(
        function: String, delay: Duration, concurrency: Int = 12, echo: Bool = false, failing: String? = nil,
        gate: Gate? = nil
    ) async throws {
        var logger = Logger(label: "test.farm")
        logger.logLevel = .warning
        let farm = try await EmbeddedFarm.bind(concurrency: 2, logger: logger)
        let worker = GearmanWorker(servers: [farm.address], concurrency: concurrency, clientID: "test", logger: logger)
        let runner = ImageFunctionRunner(processor: farm.processor)
        let arrivals = JobCounter()
        worker.register(function) { job in
            arrivals.add()
            await gate?.wait()
            try await Task.sleep(for: delay)
            let request = try ImageJobRequest(workload: job.workload)
            if let failing, request.options.encoded.contains(failing) {
                throw FrontTestFailure(description: "deliberate failure for \(failing)")
            }
            if echo { return request.image }
            return ByteBuffer(bytes: try await runner.run(.thumbnail, workload: job.workload).bytes)
        }
        self.farm = farm
        self.worker = worker
        self.arrivals = arrivals
        farmTask = Task { try await farm.run() }
        workerTask = Task { try await worker.run() }
    }

    var address: GearmanServerAddress { farm.address }

    /// Jobs that have reached the worker so far.
    var jobs: Int { arrivals.value }

    func shutdown() async {
        worker.shutdown()
        _ = await workerTask.result
        farm.shutdown()
        _ = await farmTask.result
    }
}

/// A count that a worker's jobs add to and a test reads.
final class JobCounter: Sendable {
    private let count = Mutex(0)

    func add() { count.withLock { $0 += 1 } }

    var value: Int { count.withLock { $0 } }
}

struct FrontTestFailure: Error, CustomStringConvertible {
    var description: String
}

/// `gearbox front` as a child process: its own threads, so that tests that block threads of this process
/// cannot stall it (the timing tests need that on a small, busy machine).
final class FrontProcess: Sendable {
    let port: Int
    let storage: URL
    private let child: ChildProcess
    var base: String { "http://127.0.0.1:\(port)" }
    var pid: Int32 { child.pid }

    private let ownsStorage: Bool

    /// Unless `arguments` say otherwise, one JPEG per size at 1x (as `FrontHarness.jpegOnly`); with
    /// `jpegOnly: false`, the front's own defaults. A `storage` given is kept when the front stops.
    init(_ arguments: [String], storage given: URL? = nil, jpegOnly: Bool = true) async throws {
        storage = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID())")
        ownsStorage = given == nil
        let formats = jpegOnly ? ["--formats", "", "--densities", "1"] : []
        child = try ChildProcess(
            try gearboxBinary(), ["front", "--port", "0", "--storage", storage.path] + formats + arguments)
        // The kernel picks the port and the front names it once it listens ("listening on http://HOST:PORT"):
        // nothing else can hold it, and no test talks to another front by mistake.
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let said = child.standardOutputText
            let wholeLines = said.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            if let line = wholeLines.first(where: { $0.hasPrefix("listening on http://") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                self.port = port
                return
            }
            guard child.isRunning else {
                throw FrontTestFailure(description: "gearbox front exited: \(child.standardErrorText)")
            }
            guard ContinuousClock.now < deadline else {
                throw FrontTestFailure(description: "gearbox front did not say it listens within 30 s: \(said)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func stop() {
        child.stop()
        if ownsStorage { try? FileManager.default.removeItem(at: storage) }
    }
}
