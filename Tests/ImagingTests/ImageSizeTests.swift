import Testing

@testable import Imaging

@Suite struct ImageSizeTests {
    @Test(
        arguments: [
            ("200x150", 200, 150, ImageSize.Mode.both),
            ("200x", 200, nil, .both),
            ("x150", nil, 150, .both),
            ("200", 200, 200, .both),
            ("200x150>", 200, 150, .down),
            ("200x150<", 200, 150, .up),
            ("200x150!", 200, 150, .force),
            ("x150>", nil, 150, .down),
            (" 320x240 ", 320, 240, .both),
        ] as [(String, Int?, Int?, ImageSize.Mode)])
    func parses(text: String, width: Int?, height: Int?, mode: ImageSize.Mode) throws {
        let size = try ImageSize(parsing: text)
        #expect(size.width == width)
        #expect(size.height == height)
        #expect(size.mode == mode)
        #expect(try ImageSize(parsing: size.description) == size)
    }

    @Test(arguments: ["", "x", "abc", "0x10", "10x0", "200x150x3", "-5", "20000", "200x!", "2e2", "200X150", ">"])
    func refuses(text: String) {
        #expect(throws: ImagingError.self) { try ImageSize(parsing: text) }
        #expect(ImageSize(text) == nil)
    }

    @Test func describesItsErrors() {
        do {
            _ = try ImageSize(parsing: "big")
            Issue.record("expected an error")
        } catch {
            #expect(
                String(describing: error)
                    == "bad size 'big': expected WIDTHxHEIGHT, WIDTHx, xHEIGHT or SIZE, optionally followed by >, < or !"
            )
        }
    }

    @Test func printsInVipsthumbnailNotation() throws {
        #expect(try ImageSize(width: 200, height: 150).description == "200x150")
        #expect(try ImageSize(width: 200, height: nil, mode: .down).description == "200x>")
        #expect(try ImageSize(width: nil, height: 150).description == "x150")
        #expect(try ImageSize(width: 128, height: 128).description == "128")
        #expect(try ImageSize(width: 128, height: 128, mode: .force).description == "128x128!")
    }
}
