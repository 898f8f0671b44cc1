import Gearman
import Hummingbird
import Imaging

/// Why a request, a photo or one of its sizes failed: an HTTP status and a reason meant for people. The
/// reasons of refused images are `ImagingError`'s, so they read the same as the CLI's and the workers'.
public struct FrontError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var reason: String
    /// Seconds, for 503 and 429.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ reason: String, retryAfter: Int? = nil) {
        self.status = status
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(reason)" }

    /// 413 for an input over the byte or pixel limit, 422 for anything else the decoder refuses.
    public init(imaging error: ImagingError) {
        switch error {
        case .tooManyBytes, .tooManyPixels, .tooManyInterlacedPixels, .tooManyFrames:
            self.init(.contentTooLarge, error.description)
        case .processorShutDown:
            self.init(.serviceUnavailable, error.description, retryAfter: 5)
        default:
            self.init(.unprocessableContent, error.description)
        }
    }

    /// What a failed job means for the client: the farm's refusal of the image (422 or 413, by the reason's
    /// wording), or the farm being unavailable (503).
    init(job error: any Error, retryAfter: Int) {
        switch error {
        case GearmanError.workException(_, let message):
            let status: HTTPResponse.Status = message.hasPrefix("too large") ? .contentTooLarge : .unprocessableContent
            self.init(status, message)
        case GearmanError.workFailed:
            self.init(.unprocessableContent, "the worker failed the job")
        case JobLimiter.Refusal.full:
            self = .queueFull(retryAfter: retryAfter)
        case JobLimiter.Refusal.timedOut:
            self.init(.serviceUnavailable, "no job slot came free in time", retryAfter: retryAfter)
        case GearmanError.timeout:
            self.init(.serviceUnavailable, "the image farm did not answer in time", retryAfter: retryAfter)
        case let error as GearmanError:
            self.init(.serviceUnavailable, "image farm unavailable: \(error)", retryAfter: retryAfter)
        case let error as FrontError:
            self = error
        case let error as ImagingError:
            self.init(imaging: error)
        default:
            self.init(.internalServerError, "\(error)")
        }
    }

    /// 429: the job queue cannot take this upload's jobs now.
    static func queueFull(retryAfter: Int) -> FrontError {
        FrontError(.tooManyRequests, "too many photos are waiting for the image farm; try again shortly", retryAfter: retryAfter)
    }

    static func noWorker(function: String, retryAfter: Int) -> FrontError {
        FrontError(.serviceUnavailable, "no worker for '\(function)' is attached to the job servers", retryAfter: retryAfter)
    }
}
