import Testing

@testable import Imaging

@Suite struct OptionParsingTests {
    @Test func thumbnailOptionsFromAQuery() throws {
        let options = try ThumbnailOptions(query: "size=320x240&format=webp&quality=80&crop=attention&strip=true")
        #expect(options.size == (try ImageSize(width: 320, height: 240)))
        #expect(options.output.format == .webp)
        #expect(options.output.quality == 80)
        #expect(options.crop == .attention)
        #expect(options.output.strip)
        #expect(options.rotate)
        #expect(!options.animated)
    }

    @Test func thumbnailOptionsFromPairs() throws {
        let options = try ThumbnailOptions(queryItems: [
            (name: "size", value: "x150>"), (name: "rotate", value: "false"), (name: "animated", value: "1"),
            (name: "strip", value: "no"), (name: "interlace", value: ""), (name: "crop", value: "center"),
            (name: "format", value: "JPG"),
        ])
        #expect(options.size == (try ImageSize(width: nil, height: 150, mode: .down)))
        #expect(!options.rotate)
        #expect(options.animated)
        #expect(!options.output.strip)
        #expect(options.output.interlace)
        #expect(options.crop == .centre)
        #expect(options.output.format == .jpeg)
    }

    @Test func defaults() throws {
        let options = try ThumbnailOptions(query: "")
        #expect(options == ThumbnailOptions())
        #expect(options.size.description == "128")
        #expect(options.output.strip)
        #expect(options.output.format == nil)
    }

    @Test func decodesPercentEscapes() throws {
        let options = try ThumbnailOptions(query: "?size=200x150%3E&format=png")
        #expect(options.size.mode == .down)
        #expect(options.output.format == .png)
    }

    @Test func roundTripsThroughQueryItems() throws {
        let options = ThumbnailOptions(
            size: try ImageSize(width: 200, height: nil, mode: .down), crop: .entropy, rotate: false,
            animated: true, output: OutputOptions(format: .avif, quality: 40, strip: false, interlace: true))
        #expect(try ThumbnailOptions(query: options.queryItems.encoded) == options)
        #expect(try ThumbnailOptions(queryItems: options.queryItems) == options)
    }

    @Test(arguments: [
        (
            "colour=red",
            "unknown option 'colour' (known: size, crop, rotate, animated, pipeline, format, quality, strip, interlace)"
        ),
        ("size=200&size=300", "option 'size' given more than once"),
        ("quality=0", "bad quality '0': expected a whole number from 1 to 100"),
        ("quality=high", "bad quality 'high': expected a whole number from 1 to 100"),
        ("format=bmp", "bad format 'bmp': expected one of jpeg, png, webp, avif, gif"),
        ("format=tiff", "bad format 'tiff': expected one of jpeg, png, webp, avif, gif"),
        ("crop=middle", "bad crop 'middle': expected one of none, centre, attention, entropy"),
        ("strip=maybe", "bad strip 'maybe': expected true or false"),
        ("size=0", "bad size '0': expected width and height from 1 to 10000"),
    ])
    func refusesBadThumbnailQueries(query: String, message: String) {
        do {
            _ = try ThumbnailOptions(query: query)
            Issue.record("expected \(query) to be refused")
        } catch {
            #expect(String(describing: error) == message)
        }
    }

    @Test func resizeOptionsFromAQuery() throws {
        let options = try ResizeOptions(
            query: "width=800&height=600&fit=cover&kernel=mitchell&format=webp&crop=attention")
        #expect(options.width == 800)
        #expect(options.height == 600)
        #expect(options.fit == .cover)
        #expect(options.kernel == .mitchell)
        #expect(options.crop == .attention)
        #expect(options.output.format == .webp)
        #expect(!options.output.strip)
        #expect(try ResizeOptions(queryItems: options.queryItems) == options)

        let scaled = try ResizeOptions(query: "scale=0.25")
        #expect(scaled.scale == 0.25)
        #expect(scaled.fit == .inside)
        #expect(scaled.kernel == .lanczos3)
    }

    @Test(arguments: [
        ("", "resize needs width, height or scale"),
        ("width=100&scale=2", "resize takes either scale or width/height, not both"),
        ("scale=0", "bad scale '0': expected a number above 0 and at most 100"),
        ("width=-3", "bad width '-3': expected a whole number from 1 to 10000"),
        ("width=10&fit=stretch", "bad fit 'stretch': expected one of inside, cover, fill"),
        (
            "width=10&kernel=box",
            "bad kernel 'box': expected one of nearest, linear, cubic, mitchell, lanczos2, lanczos3"
        ),
        (
            "width=10&size=20",
            "unknown option 'size' (known: width, height, scale, fit, kernel, crop, rotate, format, quality, strip, interlace)"
        ),
    ])
    func refusesBadResizeQueries(query: String, message: String) {
        do {
            _ = try ResizeOptions(query: query)
            Issue.record("expected \(query) to be refused")
        } catch {
            #expect(String(describing: error) == message)
        }
    }

    @Test func errorMessages() {
        #expect(
            ImagingError.tooManyPixels(width: 100000, height: 100000, pages: 1, limitMegapixels: 50).description
                == "too large: 100000x100000 exceeds 50 MP")
        #expect(
            ImagingError.tooManyPixels(width: 320, height: 200, pages: 3, limitMegapixels: 0.15).description
                == "too large: 320x200x3 pages exceeds 0.15 MP")
        #expect(ImagingError.notAnImage.description == "not an image")
        #expect(ImagingError.truncated(.jpeg).description == "truncated JPEG")
        #expect(
            ImagingError.tooManyBytes(bytes: 2000, limit: 1000).localizedDescription
                == "too large: 2000 bytes exceeds 1000 bytes")
    }

    @Test func formatNames() {
        #expect(ImageFormat(name: "JPG") == .jpeg)
        #expect(ImageFormat(name: "heic") == .heif)
        #expect(ImageFormat(name: "bmp") == nil)
        #expect(ImageFormat(loader: "VipsForeignLoadJpegBuffer") == .jpeg)
        #expect(ImageFormat(loader: "VipsForeignLoadNsgifBuffer") == .gif)
        #expect(ImageFormat(loader: "pngload_buffer") == .png)
        #expect(ImageFormat(loader: "VipsForeignLoadSvgBuffer") == nil)
        #expect(ImageFormat.writable.allSatisfy { $0.isWritable })
        #expect(!ImageFormat.heif.isWritable)
    }
}
