import Hummingbird
import Imaging
import MultipartKit
import NIOCore

/// One photo taken from a request.
public struct Upload: Sendable {
    public var filename: String?
    public var bytes: ByteBuffer
}

/// Reads the photos out of `POST /photos` as the body streams in: a multipart form (every part with a
/// filename is a photo) or a raw image body. Refuses with 413 as soon as Content-Length or the bytes read so
/// far pass a limit, without buffering the rest.
struct UploadReader {
    let configuration: FrontConfiguration

    func read(_ request: Request) async throws -> [Upload] {
        let contentType = request.headers[.contentType] ?? ""
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let boundary = Self.boundary(contentType) {
            if let declared, declared > configuration.maxRequestBytes {
                throw FrontError(
                    .contentTooLarge,
                    "too large: \(declared) bytes exceeds \(configuration.maxRequestBytes) bytes for one upload")
            }
            return try await readMultipart(request.body, boundary: boundary)
        }
        let limit = configuration.limits.maxInputBytes
        if let declared, declared > limit {
            throw FrontError(imaging: .tooManyBytes(bytes: declared, limit: limit))
        }
        var bytes = ByteBuffer()
        for try await chunk in request.body {
            guard bytes.readableBytes + chunk.readableBytes <= limit else {
                throw FrontError(imaging: .tooManyBytes(bytes: bytes.readableBytes + chunk.readableBytes, limit: limit))
            }
            var chunk = chunk
            bytes.writeBuffer(&chunk)
        }
        guard bytes.readableBytes > 0 else {
            throw FrontError(.badRequest, "no photo: send a multipart form with a file, or the image as the body")
        }
        let filename = request.uri.queryParameters.get("filename")
        return [Upload(filename: filename, bytes: bytes)]
    }

    private func readMultipart(_ body: RequestBody, boundary: String) async throws -> [Upload] {
        let collector = PartCollector(maxPartBytes: configuration.limits.maxInputBytes)
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name, value) }
        parser.onBody = { chunk in collector.body(&chunk) }
        parser.onPartComplete = { collector.complete() }
        var total = 0
        for try await chunk in body {
            total += chunk.readableBytes
            if total > configuration.maxRequestBytes {
                throw FrontError(
                    .contentTooLarge, "too large: more than \(configuration.maxRequestBytes) bytes in one upload")
            }
            do {
                try parser.execute(chunk)
            } catch {
                throw FrontError(.badRequest, "malformed multipart body")
            }
            if let overflow = collector.overflow {
                throw FrontError(imaging: .tooManyBytes(bytes: overflow, limit: configuration.limits.maxInputBytes))
            }
            if collector.uploads.count > configuration.maxPhotosPerUpload {
                throw FrontError(
                    .contentTooLarge, "too many photos: at most \(configuration.maxPhotosPerUpload) in one upload")
            }
        }
        guard !collector.uploads.isEmpty else {
            throw FrontError(.badRequest, "no photo: the form has no file part")
        }
        return collector.uploads
    }

    /// The boundary of a `multipart/form-data` content type.
    static func boundary(_ contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimming(" ") }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                var value = String(pair[1])
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                    value = String(value.dropFirst().dropLast())
                }
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}

/// The parser's callbacks land here: the current part's headers and bytes, and the photos so far.
private final class PartCollector {
    let maxPartBytes: Int
    var headers: [(String, String)] = []
    var current = ByteBuffer()
    var uploads: [Upload] = []
    var overflow: Int?

    init(maxPartBytes: Int) {
        self.maxPartBytes = maxPartBytes
    }

    func header(_ name: String, _ value: String) {
        headers.append((name, value))
    }

    func body(_ chunk: inout ByteBuffer) {
        guard overflow == nil else { return }
        if current.readableBytes + chunk.readableBytes > maxPartBytes {
            overflow = current.readableBytes + chunk.readableBytes
            return
        }
        current.writeBuffer(&chunk)
    }

    func complete() {
        defer {
            headers = []
            current = ByteBuffer()
        }
        let disposition = headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
        // Only parts with a filename are files; a browser sends an empty one for an empty file input.
        guard let filename = Self.parameter("filename", in: disposition) else { return }
        if filename.isEmpty && current.readableBytes == 0 { return }
        uploads.append(Upload(filename: filename.isEmpty ? nil : filename, bytes: current))
    }

    /// `filename` from `form-data; name="photo"; filename="a.jpg"`.
    static func parameter(_ name: String, in header: String) -> String? {
        for item in header.split(separator: ";") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimming(" ").lowercased() == name else { continue }
            var value = pair[1].trimming(" ")
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }
}
