import ImageFarm
import Imaging
import NIOCore
import Testing

@Suite struct ImageJobRequestTests {
    @Test func plainImageBytesHaveNoOptions() throws {
        let jpeg = ByteBuffer(bytes: [0xFF, 0xD8, 0xFF, 0xE0, 0x3F, 0x0A])
        let request = try ImageJobRequest(workload: jpeg)
        #expect(request.options.items.isEmpty)
        #expect(request.image == jpeg)
    }

    @Test func optionsLineIsSplitFromTheImage() throws {
        var workload = ByteBuffer(string: "?size=320x240&format=webp&quality=80\n")
        workload.writeBytes([0xFF, 0xD8, 0x0A, 0x3F])
        let request = try ImageJobRequest(workload: workload)
        #expect(request.options.items.map(\.name) == ["size", "format", "quality"])
        #expect(request.options.items.map(\.value) == ["320x240", "webp", "80"])
        #expect(Array(request.image.readableBytesView) == [0xFF, 0xD8, 0x0A, 0x3F])
    }

    @Test func crlfAndEscapesAreUnderstood() throws {
        let request = try ImageJobRequest(workload: ByteBuffer(string: "?size=200x%3E150&strip\r\nIMAGE"))
        #expect(
            request.options.items == [QueryItem(name: "size", value: "200x>150"), QueryItem(name: "strip", value: "")])
        #expect(String(buffer: request.image) == "IMAGE")
    }

    @Test func anUnterminatedOptionsLineIsRefused() {
        #expect(throws: ImageJobError.optionsLineNotTerminated(limit: ImageJobRequest.maximumOptionsLineLength)) {
            try ImageJobRequest(workload: ByteBuffer(string: "?size=100x100"))
        }
        let long = "?" + String(repeating: "a", count: ImageJobRequest.maximumOptionsLineLength + 10) + "\nIMAGE"
        #expect(throws: ImageJobError.optionsLineNotTerminated(limit: ImageJobRequest.maximumOptionsLineLength)) {
            try ImageJobRequest(workload: ByteBuffer(string: long))
        }
    }

    @Test func workloadsRoundTrip() throws {
        let options = QueryItems([QueryItem(name: "size", value: "64x64"), QueryItem(name: "format", value: "png")])
        let workload = ImageJobRequest.workload(options: options, image: ByteBuffer(bytes: [1, 2, 3]))
        #expect(String(buffer: workload).hasPrefix("?size=64x64&format=png\n"))
        let request = try ImageJobRequest(workload: workload)
        #expect(request.options == options)
        #expect(Array(request.image.readableBytesView) == [1, 2, 3])
        #expect(
            ImageJobRequest.workload(options: QueryItems([QueryItem]()), image: ByteBuffer(bytes: [9]))
                == ByteBuffer(bytes: [9]))
    }

    @Test func functionListsParse() throws {
        #expect(try ImageFunction.list(parsing: "all") == ImageFunction.allCases)
        #expect(try ImageFunction.list(parsing: "thumbnail, info") == [.thumbnail, .info])
        #expect(throws: ImageJobError.unknownFunction("crop")) { try ImageFunction.list(parsing: "resize,crop") }
    }
}
