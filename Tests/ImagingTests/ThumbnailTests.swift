import NIOCore
import TestSupport
import Testing

@testable import Imaging

@Suite struct ThumbnailTests {
    let processor = Shared.processor

    func thumbnail(_ bytes: [UInt8], _ query: String) async throws -> (ProcessedImage, ImageInfo) {
        let result = try await processor.thumbnail(bytes, options: ThumbnailOptions(query: query))
        let info = try await processor.info(result.bytes)
        #expect(info.format == result.format)
        #expect(info.width == result.width)
        #expect(info.height == result.height)
        return (result, info)
    }

    @Test(arguments: Fixtures.naturePhotos)
    func fitsEveryPhotographInTheBox(name: String) async throws {
        let input = try Fixtures.nature(name)
        let source = try await processor.info(input)
        let (result, info) = try await thumbnail(input, "size=200x150")
        #expect(result.format == .jpeg)
        #expect(info.width <= 200 && info.height <= 150)
        #expect(info.width == 200 || info.height == 150)
        let expectedAspect = Double(source.width) / Double(source.height)
        #expect(abs(Double(info.width) / Double(info.height) - expectedAspect) < 0.02)
        #expect(info.orientation == 1)
        #expect(!info.hasICCProfile)
    }

    @Test(arguments: ImageFormat.writable)
    func writesEveryFormat(format: ImageFormat) async throws {
        let (result, info) = try await thumbnail(try Fixtures.garden(), "size=200x150&format=\(format.rawValue)")
        #expect(result.format == format)
        #expect(info.format == format)
        #expect((info.width, info.height) == (200, 125))
    }

    @Test(arguments: [
        ("size=200x", 200, 125),
        ("size=x150", 240, 150),
        ("size=200", 200, 125),
        ("size=200x150%3E", 200, 125),
        ("size=5000%3E", 2560, 1600),
        ("size=100%3C", 2560, 1600),
        ("size=200x200!", 200, 200),
        ("size=200x150&crop=centre", 200, 150),
        ("size=200x150&crop=attention", 200, 150),
        ("size=150x150&crop=entropy", 150, 150),
    ])
    func sizesAndCrops(query: String, width: Int, height: Int) async throws {
        let (_, info) = try await thumbnail(try Fixtures.garden(), query)
        #expect((info.width, info.height) == (width, height))
    }

    /// orientation-N.jpg displays as 600x400 with a red square top-left whatever N is.
    @Test(arguments: 1...8)
    func appliesEXIFOrientation(orientation: Int) async throws {
        let input = try Fixtures.generated("orientation-\(orientation).jpg")
        let source = try await processor.info(input)
        #expect(source.orientation == orientation)
        let (result, info) = try await thumbnail(input, "size=300&format=png")
        #expect((info.width, info.height) == (300, 200))
        #expect(info.orientation == 1)
        let topLeft = try pixel(result.bytes, x: 10, y: 10)
        let bottomRight = try pixel(result.bytes, x: 289, y: 189)
        #expect(topLeft[0] > 200 && topLeft[1] < 50 && topLeft[2] < 50, "top-left is \(topLeft)")
        #expect(!(bottomRight[0] > 200 && bottomRight[1] < 50), "bottom-right is \(bottomRight)")
    }

    @Test func portraitPhotoTaggedSixComesOutPortrait() async throws {
        let input = try Fixtures.generated("portrait-orientation-6.jpg")
        let source = try await processor.info(input)
        #expect((source.width, source.height, source.orientation) == (2560, 1600, 6))
        #expect((source.displayWidth, source.displayHeight) == (1600, 2560))

        let (_, upright) = try await thumbnail(input, "size=200x150")
        #expect((upright.width, upright.height) == (94, 150))
        let (_, asStored) = try await thumbnail(input, "size=200x150&rotate=false")
        #expect((asStored.width, asStored.height) == (200, 125))
    }

    @Test func convertsCMYKToSRGB() async throws {
        let input = try Fixtures.generated("cmyk.jpg")
        #expect(try await processor.info(input).bands == 4)
        let (_, info) = try await thumbnail(input, "size=200")
        #expect(info.format == .jpeg)
        #expect(info.bands == 3)
    }

    @Test func reducesSixteenBitPNG() async throws {
        let input = try Fixtures.generated("rgb16.png")
        let (png, pngInfo) = try await thumbnail(input, "size=200")
        #expect(pngInfo.format == .png)
        #expect((pngInfo.width, pngInfo.height) == (200, 125))
        let (jpeg, _) = try await thumbnail(input, "size=200&format=jpeg")
        // Not clipped to white by a plain cast from 16 bits.
        let value = try pixel(jpeg.bytes, x: 100, y: 60)
        #expect(value[0] < 250 || value[1] < 250 || value[2] < 250)
        #expect(!png.bytes.isEmpty)
    }

    @Test func keepsAlphaWhereTheFormatCan() async throws {
        let input = try Fixtures.generated("alpha.png")
        let (_, png) = try await thumbnail(input, "size=200")
        #expect(png.hasAlpha && png.bands == 4)
        let (_, webp) = try await thumbnail(input, "size=200&format=webp")
        #expect(webp.hasAlpha)
        let (_, jpeg) = try await thumbnail(input, "size=200&format=jpeg")
        #expect(!jpeg.hasAlpha && jpeg.bands == 3)
    }

    @Test func usesTheFirstFrameOfAnAnimationUnlessAsked() async throws {
        let input = try Fixtures.generated("animated.gif")
        #expect(try await processor.info(input).pages == 3)
        let (still, stillInfo) = try await thumbnail(input, "size=200")
        #expect(still.pages == 1 && stillInfo.pages == 1)
        #expect(stillInfo.format == .gif)
        let (animated, animatedInfo) = try await thumbnail(input, "size=200&animated=true")
        #expect(animated.pages == 3 && animatedInfo.pages == 3)
        #expect((animatedInfo.width, animatedInfo.height) == (200, 125))
        let (_, webpInfo) = try await thumbnail(input, "size=200&animated=true&format=webp")
        #expect(webpInfo.pages == 3)
        let (_, pngInfo) = try await thumbnail(input, "size=200&animated=true&format=png")
        #expect(pngInfo.pages == 1 && pngInfo.height == 125)
        // First frame is red.
        let red = try pixel(still.bytes, x: 100, y: 60)
        #expect(red[0] > 200 && red[1] < 50)
    }

    @Test func keepsWebPAsWebP() async throws {
        let (result, info) = try await thumbnail(try Fixtures.generated("photo.webp"), "size=x100")
        #expect(result.format == .webp && info.format == .webp)
        #expect(info.height == 100)
    }

    @Test func stripsMetadataByDefault() async throws {
        let input = try Fixtures.generated("portrait-orientation-6.jpg")
        let stripped = try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=200"))
        let kept = try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=200&strip=false"))
        #expect(stripped.bytes.count < kept.bytes.count)
        #expect(!containsEXIF(stripped.bytes))
        #expect(containsEXIF(kept.bytes))
    }

    @Test func writesProgressiveJPEG() async throws {
        let input = try Fixtures.garden()
        let plain = try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=200"))
        let progressive = try await processor.thumbnail(
            input, options: ThumbnailOptions(query: "size=200&interlace=true"))
        #expect(containsMarker(progressive.bytes, 0xC2))
        #expect(!containsMarker(plain.bytes, 0xC2))
        #expect(try await processor.info(progressive.bytes).width == 200)
    }

    @Test func qualityChangesTheSize() async throws {
        let input = try Fixtures.garden()
        let low = try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=400&quality=20"))
        let high = try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=400&quality=95"))
        #expect(low.bytes.count < high.bytes.count)
    }

    @Test func acceptsByteBuffers() async throws {
        let buffer = ByteBuffer(bytes: try Fixtures.garden())
        let result = try await processor.thumbnail(buffer, options: ThumbnailOptions(query: "size=100"))
        #expect((result.width, result.height) == (100, 63))
        #expect(try await processor.info(buffer).width == 2560)
    }

    @Test func runsManyAtOnce() async throws {
        let inputs = try Fixtures.naturePhotos.map { try Fixtures.nature($0) }
        let processor = self.processor
        let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
            for input in inputs {
                group.addTask {
                    try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=64x64&crop=centre"))
                        .width
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sizes == Array(repeating: 64, count: inputs.count))
    }
}

/// An APP1 Exif segment near the start of a JPEG.
func containsEXIF(_ bytes: [UInt8]) -> Bool {
    let exif: [UInt8] = Array("Exif".utf8)
    return bytes.prefix(4096).windows(exif.count).contains(exif)
}

/// A JPEG marker (0xFF, code) in the first part of a file; 0xC2 is progressive.
func containsMarker(_ bytes: [UInt8], _ code: UInt8) -> Bool {
    bytes.prefix(8192).windows(2).contains([0xFF, code])
}

extension Collection where Element: Equatable {
    func windows(_ size: Int) -> [[Element]] {
        let array = Array(self)
        guard array.count >= size else { return [] }
        return (0...(array.count - size)).map { Array(array[$0..<$0 + size]) }
    }
}
