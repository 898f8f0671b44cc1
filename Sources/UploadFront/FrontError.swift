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
        if error.code.isOverLimit {
            self.init(.contentTooLarge, error.description)
        } else if error.code == .processorShutDown {
            self.init(.serviceUnavailable, error.description, retryAfter: 5)
        } else {
            self.init(.unprocessableContent, error.description)
        }
    }

    /// What a failed job means for the client: the farm's refusal of the image (413 or 422, by the code at the
    /// head of the worker's WORK_EXCEPTION), or the farm being unavailable (503).
    init(job error: any Error, retryAfter: Int) {
        switch error {
        case let error as GearmanError:
            self.init(gearman: error, retryAfter: retryAfter)
        case JobLimiter.Refusal.full:
            self = .queueFull(retryAfter: retryAfter)
        case JobLimiter.Refusal.timedOut:
            self.init(.serviceUnavailable, "no job slot came free in time", retryAfter: retryAfter)
        case let error as FrontError:
            self = error
        case let error as ImagingError:
            self.init(imaging: error)
        default:
            self.init(.internalServerError, "\(error)")
        }
    }

    private init(gearman error: GearmanError, retryAfter: Int) {
        switch error.code {
        case .workException:
            let overLimit = error.exceptionCode.flatMap(ImagingError.Code.init(rawValue:))?.isOverLimit ?? false
            self.init(
                overLimit ? .contentTooLarge : .unprocessableContent,
                GearmanExceptionText.description(of: error.message))
        case .workFailed:
            self.init(.unprocessableContent, "the worker failed the job")
        case .timeout:
            self.init(.serviceUnavailable, "the image farm did not answer in time", retryAfter: retryAfter)
        default:
            self.init(.serviceUnavailable, "image farm unavailable: \(error)", retryAfter: retryAfter)
        }
    }

    /// 429: the job queue cannot take this upload's jobs now.
    static func queueFull(retryAfter: Int) -> FrontError {
        FrontError(
            .tooManyRequests, "too many photos are waiting for the image farm; try again shortly",
            retryAfter: retryAfter)
    }
}
