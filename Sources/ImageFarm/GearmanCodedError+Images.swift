import Gearman
import Imaging

/// The image functions' refusals travel in WORK_EXCEPTION with their codes.
extension ImageJobError: GearmanCodedError {
    public var exceptionCode: String { code.rawValue }
}

extension ImagingError: GearmanCodedError {
    public var exceptionCode: String { code.rawValue }
}
