import TestSupport
import Testing

@testable import Imaging

@Suite struct ThumbnailPipelineTests {
    let processor = Shared.processor

    func shrink(
        _ pipeline: ThumbnailPipeline, _ width: Int, _ height: Int, box: String, orientation: Int = 1,
        crop: CropMode = .none
    ) throws -> Int {
        pipeline.jpegShrink(
            width: width, height: height, orientation: orientation, box: try ImageSize(parsing: box), crop: crop,
            rotate: true)
    }

    /// The fast pipeline decodes at the smallest size that still covers the box; vipsthumbnail's keeps a
    /// factor of two more.
    @Test func decodesAtTheSmallestSizeThatCoversTheBox() throws {
        #expect(try shrink(.fast, 2000, 1333, box: "500x500") == 4)
        #expect(try shrink(.vipsthumbnail, 2000, 1333, box: "500x500") == 2)
        #expect(try shrink(.fast, 2000, 1333, box: "485x485") == 4)
        #expect(try shrink(.fast, 2000, 1333, box: "501x501") == 2)
        #expect(try shrink(.fast, 5640, 3172, box: "200x150") == 8)
        #expect(try shrink(.vipsthumbnail, 5640, 3172, box: "200x150") == 8)
        #expect(try shrink(.fast, 5640, 3172, box: "640x480") == 8)
        #expect(try shrink(.vipsthumbnail, 5640, 3172, box: "640x480") == 4)
        #expect(try shrink(.fast, 640, 480, box: "640x480") == 1)
        // Only the height is bounded.
        #expect(try shrink(.fast, 2000, 1333, box: "x300") == 4)
        // Enlarging never shrinks on load; `>` never enlarges.
        #expect(try shrink(.fast, 2000, 1333, box: "4000x4000") == 1)
        #expect(try shrink(.fast, 2000, 1333, box: "500x500>") == 4)
        #expect(try shrink(.fast, 2000, 1333, box: "500x500<") == 1)
    }

    @Test func aRotatedPhotoAndACropDecideByTheOtherAxis() throws {
        // 3000x2000 stored, shown upright as 2000x3000 (orientation 6): fitting 500x1000, the shown width
        // decides: 2000 / 500 = 4.
        #expect(try shrink(.fast, 3000, 2000, box: "500x1000", orientation: 6) == 4)
        // Not rotated, the width decides: 3000 / 500 = 6.
        #expect(try shrink(.fast, 3000, 2000, box: "500x1000") == 4)
        // Cropping fills the box: the axis that needs less shrinking decides (2000 / 1000 = 2).
        #expect(try shrink(.fast, 3000, 2000, box: "500x1000", crop: .centre) == 2)
        // Forced to an exact size, the axis that needs less shrinking bounds both.
        #expect(try shrink(.fast, 3000, 2000, box: "500x1000!") == 2)
    }

    /// Both pipelines give the same size for every photograph, and nearly the same pixels.
    @Test(arguments: Fixtures.naturePhotos)
    func bothPipelinesAgreeOnEveryPhotograph(name: String) async throws {
        let input = try Fixtures.nature(name)
        try await expectAgreement(input, box: "497x497")
    }

    /// PNG, WebP and HEIF (AVIF) sources, made from a photograph: only JPEG shrinks on load differently, and
    /// the others must come out the same whichever pipeline is asked for.
    @Test(arguments: [ImageFormat.png, .webp, .avif])
    func bothPipelinesAgreeOnOtherFormats(format: ImageFormat) async throws {
        let source = try await processor.thumbnail(
            try Fixtures.garden(), options: ThumbnailOptions(query: "size=1600&format=\(format.rawValue)&quality=90"))
        try await expectAgreement(source.bytes, box: "497x497")
    }

    @Test func rotatesAndCropsTheSameWay() async throws {
        try await expectAgreement(try Fixtures.generated("portrait-orientation-6.jpg"), box: "97x97")
        try await expectAgreement(try Fixtures.garden(), box: "300x300", extra: "&crop=centre")
        try await expectAgreement(try Fixtures.generated("cmyk.jpg"), box: "60x60")
    }

    func expectAgreement(_ input: [UInt8], box: String, extra: String = "") async throws {
        let query = "size=\(box)&format=jpeg&quality=90\(extra)"
        let fast = try await processor.thumbnail(input, options: ThumbnailOptions(query: query))
        let vips = try await processor.thumbnail(
            input, options: ThumbnailOptions(query: query + "&pipeline=vipsthumbnail"))
        // Each rounds the other side from the size it decoded at: they may differ by a pixel there.
        #expect(abs(fast.width - vips.width) <= 1 && abs(fast.height - vips.height) <= 1)
        #expect(fast.width == vips.width || fast.height == vips.height)
        var difference = 0.0
        var samples = 0
        for row in 1...7 {
            for column in 1...7 {
                let x = fast.width * column / 8
                let y = fast.height * row / 8
                let a = try pixel(fast.bytes, x: x, y: y)
                let b = try pixel(vips.bytes, x: x, y: y)
                difference += zip(a, b).map { abs($0 - $1) }.reduce(0, +) / Double(a.count)
                samples += 1
            }
        }
        // Resampled from decodes of different sizes, pixels differ by a few levels where there is detail.
        #expect(difference / Double(samples) < 12, "mean difference \(difference / Double(samples)) of 255")
    }

    @Test func theQueryNamesThePipelineOnlyWhenItIsNotTheDefault() throws {
        #expect(try ThumbnailOptions(query: "size=10").pipeline == .fast)
        let vips = try ThumbnailOptions(query: "size=10&pipeline=vipsthumbnail")
        #expect(vips.pipeline == .vipsthumbnail)
        #expect(vips.queryItems.items.contains(QueryItem(name: "pipeline", value: "vipsthumbnail")))
        #expect(!(try ThumbnailOptions(query: "size=10")).queryItems.items.contains { $0.name == "pipeline" })
        #expect(throws: ImagingError.self) { try ThumbnailOptions(query: "pipeline=slow") }
    }
}
