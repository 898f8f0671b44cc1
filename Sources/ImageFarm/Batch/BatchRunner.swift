import Gearman
import Imaging
import NIOCore
import NIOPosix

/// Runs a `BatchPlan` through Gearman: one `thumbnail` job per (photo, size), with the options line
/// `?size=...&format=...`, submitted through a `GearmanClient` to whatever farm it names (an `EmbeddedFarm`
/// or real job servers). Each file is read once and its sizes are submitted at once; at most
/// `maxPhotosInFlight` photos are held in memory. Thumbnails are written under a temporary name and renamed
/// into place. Failures are collected with their reasons; the other photos go on.
///
/// Cancelling the task that runs `run` stops submitting: photos not started are left for the next run,
/// jobs in flight are abandoned and nothing half-written remains.
public struct BatchRunner: Sendable {
    public struct Configuration: Sendable {
        /// Options sent with every job besides `size` and `format`: `quality`, `crop`, `strip`, ...
        public var options: QueryItems
        /// Photos read and submitted at once.
        public var maxPhotosInFlight: Int
        /// Files larger than this are reported as failures without being read.
        public var maxInputBytes: Int
        /// The Gearman function called.
        public var function: String

        public init(
            options: QueryItems = QueryItems([QueryItem]()), maxPhotosInFlight: Int = 2 * System.coreCount,
            maxInputBytes: Int = ImageLimits.default.maxInputBytes, function: String = ImageFunction.thumbnail.rawValue
        ) {
            self.options = options
            self.maxPhotosInFlight = max(1, maxPhotosInFlight)
            self.maxInputBytes = maxInputBytes
            self.function = function
        }
    }

    public let client: GearmanClient
    public let configuration: Configuration

    public init(client: GearmanClient, configuration: Configuration = Configuration()) {
        self.client = client
        self.configuration = configuration
    }

    /// Makes every pending thumbnail of `plan`; `onPhoto` hears about each photo as it finishes (up-to-date
    /// ones included).
    public func run(
        _ plan: BatchPlan, onPhoto: @escaping @Sendable (BatchPhotoResult) -> Void = { _ in }
    ) async -> BatchSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var summary = BatchSummary(photos: plan.photos.count, sizes: plan.sizes)
        func record(_ result: BatchPhotoResult) {
            summary.add(result)
            onPhoto(result)
        }
        await withTaskGroup(of: BatchPhotoResult.self) { group in
            var inFlight = 0
            var next = 0
            while next < plan.photos.count, !Task.isCancelled {
                let photo = plan.photos[next]
                next += 1
                if photo.pending.isEmpty {
                    var result = BatchPhotoResult(photo: photo)
                    result.upToDate = photo.outputs.count
                    record(result)
                    continue
                }
                if inFlight >= configuration.maxPhotosInFlight, let result = await group.next() {
                    inFlight -= 1
                    record(result)
                }
                if Task.isCancelled {
                    next -= 1
                    break
                }
                group.addTask { await self.process(photo) }
                inFlight += 1
            }
            for await result in group {
                record(result)
            }
            summary.notDone += plan.photos[next...].filter { !$0.pending.isEmpty }.count
        }
        summary.interrupted = Task.isCancelled
        summary.seconds = BatchProgress.seconds(clock.now - start)
        return summary
    }

    /// Reads one photo, submits all its pending sizes at once, writes what comes back.
    func process(_ photo: BatchPlan.Photo) async -> BatchPhotoResult {
        var result = BatchPhotoResult(photo: photo)
        result.upToDate = photo.outputs.count - photo.pending.count
        let image: ByteBuffer
        do {
            let limit = configuration.maxInputBytes
            image = try await NIOThreadPool.singleton.runIfActive {
                try BatchFiles.readFile(photo.path, limit: limit)
            }
        } catch {
            if Task.isCancelled {
                result.interrupted = true
            } else {
                result.failures.append(BatchFailure(file: photo.relativePath, size: nil, reason: Self.reason(error)))
            }
            return result
        }
        result.bytesIn = image.readableBytes

        enum Outcome: Sendable {
            case written(path: String, bytes: Int)
            case failed(BatchFailure)
            case interrupted
        }
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for output in photo.pending {
                let workload = self.workload(size: output.size, format: photo.format, image: image)
                group.addTask {
                    do {
                        let thumbnail = try await client.submit(configuration.function, workload: workload)
                        try Task.checkCancellation()
                        try await NIOThreadPool.singleton.runIfActive {
                            try BatchFiles.writeAtomically(thumbnail, to: output.path)
                        }
                        return .written(path: output.path, bytes: thumbnail.readableBytes)
                    } catch {
                        if Task.isCancelled || error is CancellationError { return .interrupted }
                        return .failed(
                            BatchFailure(
                                file: photo.relativePath, size: output.size, reason: Self.reason(error)))
                    }
                }
            }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        for outcome in outcomes {
            switch outcome {
            case .written(let path, let bytes):
                result.written.append(path)
                result.bytesOut += bytes
            case .failed(let failure):
                result.failures.append(failure)
            case .interrupted:
                result.interrupted = true
            }
        }
        result.written.sort()
        result.failures.sort { ($0.size?.description ?? "") < ($1.size?.description ?? "") }
        return result
    }

    /// `?size=200x150&format=webp&<options>\n<image>`.
    func workload(size: ImageSize, format: ImageFormat, image: ByteBuffer) -> ByteBuffer {
        let items =
            [QueryItem(name: "size", value: size.description), QueryItem(name: "format", value: format.rawValue)]
            + configuration.options.items.filter { $0.name != "size" && $0.name != "format" }
        return ImageJobRequest.workload(options: QueryItems(items), image: image)
    }

    /// What a person should read: the worker's own message for an exception, without its code.
    public static func reason(_ error: any Error) -> String {
        guard let error = error as? GearmanError else { return String(describing: error) }
        switch error.code {
        case .workException: return GearmanExceptionText.description(of: error.message)
        case .workFailed: return "the worker failed the job"
        default: return String(describing: error)
        }
    }
}
