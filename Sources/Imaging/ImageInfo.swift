#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the header says about an image, without decoding its pixels.
public struct ImageInfo: Sendable, Hashable, Codable {
    public var format: ImageFormat
    /// Stored width, before EXIF orientation.
    public var width: Int
    /// Stored height of one page (frame), before EXIF orientation.
    public var height: Int
    public var bands: Int
    /// EXIF orientation 1...8 (1 when absent). 5-8 swap width and height for display.
    public var orientation: Int
    public var hasAlpha: Bool
    public var hasICCProfile: Bool
    /// Pages or frames in the file (1 for still images).
    public var pages: Int

    public init(
        format: ImageFormat, width: Int, height: Int, bands: Int, orientation: Int,
        hasAlpha: Bool, hasICCProfile: Bool, pages: Int
    ) {
        self.format = format
        self.width = width
        self.height = height
        self.bands = bands
        self.orientation = orientation
        self.hasAlpha = hasAlpha
        self.hasICCProfile = hasICCProfile
        self.pages = pages
    }

    enum CodingKeys: String, CodingKey {
        case format, width, height, bands, orientation
        case hasAlpha = "has_alpha"
        case hasICCProfile = "has_icc_profile"
        case pages
    }

    /// Width and height as displayed, after EXIF orientation.
    public var displayWidth: Int { orientation >= 5 ? height : width }
    public var displayHeight: Int { orientation >= 5 ? width : height }

    /// `{"bands":3,"format":"jpeg","has_alpha":false,...}` with sorted keys.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain integers, booleans and strings cannot fail.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
