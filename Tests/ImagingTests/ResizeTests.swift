import TestSupport
import Testing

@testable import Imaging

@Suite struct ResizeTests {
    let processor = Shared.processor

    @Test(arguments: [
        ("width=800", 800, 500),
        ("height=300", 480, 300),
        ("scale=0.5", 1280, 800),
        ("width=300&height=300", 300, 188),
        ("width=300&height=300&fit=inside", 300, 188),
        ("width=300&height=300&fit=cover", 300, 300),
        ("width=300&height=300&fit=cover&crop=attention", 300, 300),
        ("width=300&height=100&fit=fill", 300, 100),
        ("width=333&kernel=nearest", 333, 208),
        ("width=640&kernel=linear&format=png", 640, 400),
        ("width=3000", 3000, 1875),
    ])
    func resizesAPhotograph(query: String, width: Int, height: Int) async throws {
        let result = try await processor.resize(try Fixtures.garden(), options: ResizeOptions(query: query))
        let info = try await processor.info(result.bytes)
        #expect((info.width, info.height) == (width, height))
        #expect((result.width, result.height) == (width, height))
        #expect(info.format == result.format)
    }

    @Test(arguments: ImageFormat.writable)
    func writesEveryFormat(format: ImageFormat) async throws {
        let result = try await processor.resize(
            try Fixtures.nature("Storm"), options: ResizeOptions(query: "width=160&format=\(format.rawValue)"))
        let info = try await processor.info(result.bytes)
        #expect(info.format == format)
        #expect((info.width, info.height) == (160, 107))
    }

    @Test func appliesOrientation() async throws {
        let input = try Fixtures.generated("portrait-orientation-6.jpg")
        let upright = try await processor.resize(input, options: ResizeOptions(query: "width=400"))
        #expect((upright.width, upright.height) == (400, 640))
        let asStored = try await processor.resize(input, options: ResizeOptions(query: "width=400&rotate=false"))
        #expect((asStored.width, asStored.height) == (400, 250))

        for orientation in [3, 6, 8] {
            let oriented = try await processor.resize(
                try Fixtures.generated("orientation-\(orientation).jpg"),
                options: ResizeOptions(query: "width=300&format=png"))
            #expect((oriented.width, oriented.height) == (300, 200))
            let topLeft = try pixel(oriented.bytes, x: 10, y: 10)
            #expect(topLeft[0] > 200 && topLeft[1] < 50, "orientation \(orientation): top-left is \(topLeft)")
        }
    }

    @Test func convertsCMYKAndSixteenBit() async throws {
        let cmyk = try await processor.resize(
            try Fixtures.generated("cmyk.jpg"), options: ResizeOptions(query: "width=100"))
        #expect(try await processor.info(cmyk.bytes).bands == 3)
        let deep = try await processor.resize(
            try Fixtures.generated("rgb16.png"), options: ResizeOptions(query: "width=100&format=webp"))
        #expect(try await processor.info(deep.bytes).format == .webp)
    }
}
