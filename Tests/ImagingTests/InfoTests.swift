import Foundation
import TestSupport
import Testing

@testable import Imaging

@Suite struct InfoTests {
    let processor = Shared.processor

    @Test func describesAPhotograph() async throws {
        let info = try await processor.info(try Fixtures.elephants())
        #expect(
            info
                == ImageInfo(
                    format: .jpeg, width: 5640, height: 3172, bands: 3, orientation: 1,
                    hasAlpha: false, hasICCProfile: false, pages: 1))
    }

    @Test(arguments: [
        (
            "orientation-6.jpg",
            ImageInfo(
                format: .jpeg, width: 400, height: 600, bands: 3, orientation: 6,
                hasAlpha: false, hasICCProfile: false, pages: 1)
        ),
        (
            "alpha.png",
            ImageInfo(
                format: .png, width: 640, height: 400, bands: 4, orientation: 1,
                hasAlpha: true, hasICCProfile: false, pages: 1)
        ),
        (
            "cmyk.jpg",
            ImageInfo(
                format: .jpeg, width: 640, height: 400, bands: 4, orientation: 1,
                hasAlpha: false, hasICCProfile: true, pages: 1)
        ),
        (
            "rgb16.png",
            ImageInfo(
                format: .png, width: 640, height: 400, bands: 3, orientation: 1,
                hasAlpha: false, hasICCProfile: false, pages: 1)
        ),
        (
            "animated.gif",
            ImageInfo(
                format: .gif, width: 320, height: 200, bands: 4, orientation: 1,
                hasAlpha: true, hasICCProfile: false, pages: 3)
        ),
        (
            "photo.webp",
            ImageInfo(
                format: .webp, width: 640, height: 400, bands: 3, orientation: 1,
                hasAlpha: false, hasICCProfile: false, pages: 1)
        ),
    ])
    func describesEdgeCases(name: String, expected: ImageInfo) async throws {
        #expect(try await processor.info(try Fixtures.generated(name)) == expected)
    }

    @Test func encodesAsJSON() async throws {
        let info = try await processor.info(try Fixtures.generated("orientation-6.jpg"))
        #expect(
            info.json() == #"{"bands":3,"format":"jpeg","has_alpha":false,"has_icc_profile":false,"#
                + #""height":600,"orientation":6,"pages":1,"width":400}"#)
        let decoded = try JSONDecoder().decode(ImageInfo.self, from: Data(info.json().utf8))
        #expect(decoded == info)
    }
}
