/// An error with a stable code that a worker function throws to refuse a job in a way programs can read: the
/// worker sends it as WORK_EXCEPTION with the text `CODE: description` (``GearmanExceptionText``), so a
/// client in any language can tell refusals apart by the text's first word, and a Swift client reads the code
/// back as ``GearmanError/exceptionCode``.
public protocol GearmanCodedError: Error, CustomStringConvertible {
    /// Upper-case letters, digits and underscores, starting with a letter: `TOO_MANY_PIXELS`.
    var exceptionCode: String { get }
}
