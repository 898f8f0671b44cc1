/// The Gearman functions an image worker serves. The workload is the image's bytes, optionally preceded by
/// one options line (see `ImageJobRequest`).
public enum ImageFunction: String, Sendable, CaseIterable, Hashable {
    /// Fits the image within a box, shrinking on load: the fast path.
    case thumbnail
    /// Resamples to a width and/or height or a scale factor, with a fit mode and kernel.
    case resize
    /// Describes the image as JSON.
    case info

    /// Parses `thumbnail,resize` (or `all`).
    public static func list(parsing text: String) throws -> [ImageFunction] {
        if text == "all" { return allCases }
        return try text.split(separator: ",").map { name in
            guard let function = ImageFunction(rawValue: name.trimmingCharacters(in: " ")) else {
                throw ImageJobError.unknownFunction(String(name))
            }
            return function
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
