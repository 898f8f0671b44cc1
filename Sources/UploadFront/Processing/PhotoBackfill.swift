import Foundation
import Gearman
import Imaging
import Logging
import NIOCore

/// Makes the files photos lack after `--sizes`, `--formats` or `--densities` changed: one background job
/// per photo (its id is the workload and the unique key, so a photo queued twice runs once), run by the
/// front itself as a worker of ``FrontConfiguration/backfillFunction``. A job makes only what is missing, so
/// a backfill can be interrupted and run again; with a durable job store the queued jobs survive restarts.
public struct PhotoBackfill: Sendable {
    let configuration: FrontConfiguration
    let store: PhotoStore

    public init(configuration: FrontConfiguration, store: PhotoStore) {
        self.configuration = configuration
        self.store = store
    }

    /// Whether a photo lacks a file: a size and density with no file at all, or without one of the modern
    /// formats. Looks at names only, without reading the photo.
    public func isIncomplete(id: String) async -> Bool {
        let files = await store.fileNames(id: id)
        func has(_ name: String, _ format: ImageFormat) -> Bool { files.contains("\(name).\(format.fileExtension)") }
        let plan = configuration.plan
        for preset in plan.sizes {
            for density in plan.densities {
                let name = PhotoVariant.name(preset.name, density: density)
                if !plan.fallbackCandidates(for: preset).contains(where: { has(name, $0) }) {
                    return true
                }
                if plan.formats.contains(where: { !has(name, $0) }) {
                    return true
                }
            }
        }
        return false
    }

    /// Every stored photo that lacks a file.
    public func incompletePhotos() async throws -> [String] {
        var incomplete: [String] = []
        for id in try await store.photoIDs() where await isIncomplete(id: id) {
            incomplete.append(id)
        }
        return incomplete.sorted()
    }

    /// Queues a background job for each photo that lacks a file; calls `progress(queued, total)` as it goes.
    @discardableResult
    public func queue(
        client: GearmanClient, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Int {
        let ids = try await incompletePhotos()
        for (index, id) in ids.enumerated() {
            try await Self.queue(id, function: configuration.backfillFunction, on: client, timeout: .seconds(30))
            progress(index + 1, ids.count)
        }
        return ids.count
    }

    /// Queues the background job that makes `id`'s missing files: low priority, with the id as its unique key
    /// so that a photo queued twice runs once.
    static func queue(_ id: String, function: String, on client: GearmanClient, timeout: Duration) async throws {
        _ = try await client.submitBackground(
            function, workload: ByteBuffer(string: id), unique: id, priority: .low, timeout: timeout)
    }

    /// The worker's side: makes `id`'s missing files with `processor`'s farm jobs. Returns how many were
    /// made; throws when the photo is gone or a file could not be made (the reason is the job's).
    func fill(id: String, with processor: PhotoProcessor, images: ImageProcessor) async throws -> Int {
        guard PhotoStore.isSafeName(id), let original = await store.find(id: id, name: "original") else {
            throw FrontError(.notFound, "no photo '\(id)'")
        }
        let bytes = try await store.read(original)
        let info = try await images.info(bytes)
        let files = await store.fileNames(id: id)
        let missing = configuration.plan.variants(hasAlpha: info.hasAlpha).filter {
            !files.contains("\($0.name).\($0.format.fileExtension)")
        }
        let made = await processor.make(missing, of: id, from: bytes)
        if let failed = made.first(where: { $0.failure != nil }), let failure = failed.failure {
            throw FrontError(
                failure.status, "\(failed.variant.name).\(failed.variant.format.fileExtension): \(failure.reason)")
        }
        return made.count
    }

    /// Registers the backfill function on `worker`.
    func register(on worker: GearmanWorker, processor: PhotoProcessor, images: ImageProcessor, logger: Logger) {
        worker.register(configuration.backfillFunction) { job in
            let id = String(buffer: job.workload)
            let count = try await fill(id: id, with: processor, images: images)
            logger.info("backfilled", metadata: ["front.photo": "\(id)", "front.files": "\(count)"])
            return ByteBuffer(string: "\(count)")
        }
    }
}
