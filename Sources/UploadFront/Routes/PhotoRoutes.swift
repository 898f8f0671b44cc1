import Foundation
import Hummingbird

/// `POST /photos` and `GET /photos/{id}/{size}`.
struct PhotoRoutes: Sendable {
    let configuration: FrontConfiguration
    let processor: PhotoProcessor
    let store: PhotoStore
    let fileIO = FileIO()

    func register(on router: Router<some RequestContext>) {
        router.post("/photos") { request, _ in await self.upload(request) }
        router.get("/photos/{id}/{size}") { request, context in try await self.serve(request, context: context) }
    }

    /// One status for the whole upload: 200 when any photo has any size, with failed photos and sizes
    /// reported in the body with their own status and reason; otherwise the first photo's error (with every
    /// photo's in `photos` when there were several).
    func upload(_ request: Request) async -> Response {
        let started = ContinuousClock.now
        let html = Responses.wantsHTML(request)
        let uploads: [Upload]
        do {
            uploads = try await UploadReader(configuration: configuration).read(request)
        } catch let error as FrontError {
            return Responses.error(error, html: html)
        } catch {
            return Responses.error(FrontError(.badRequest, "could not read the upload: \(error)"), html: html)
        }
        let processor = self.processor
        let retryAfter = configuration.retryAfterSeconds
        let photos = await withTaskGroup(of: (Int, PhotoResult).self) { group in
            for (index, upload) in uploads.enumerated() {
                group.addTask {
                    do {
                        return (index, try await processor.process(upload.bytes, filename: upload.filename))
                    } catch {
                        let failure = FrontError(job: error, retryAfter: retryAfter)
                        return (index, PhotoResult(
                            filename: upload.filename, error: failure.reason, status: Int(failure.status.code)))
                    }
                }
            }
            var photos = [PhotoResult?](repeating: nil, count: uploads.count)
            for await (index, photo) in group { photos[index] = photo }
            return photos.compactMap { $0 }
        }
        let result = UploadResult(photos: photos, ms: (ContinuousClock.now - started).milliseconds)
        if !photos.contains(where: \.succeeded), let first = photos.first {
            let status = HTTPResponse.Status(code: first.status ?? 500)
            let failure = FrontError(
                status, first.error ?? "failed", retryAfter: status == .serviceUnavailable ? retryAfter : nil)
            return Responses.error(failure, html: html, photos: photos.count > 1 ? photos : nil)
        }
        if html {
            return Responses.html(Pages.result(result, sizes: configuration.sizes.map(\.name)))
        }
        return Responses.json(result)
    }

    func serve(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let size = context.parameters.get("size") ?? ""
        guard let file = store.find(id: id, name: size) else {
            let known = size == "original" || configuration.sizes.contains { $0.name == size }
            let reason = known ? "no photo '\(id)' with size '\(size)'" : "unknown size '\(size)'"
            return Responses.error(FrontError(.notFound, reason), html: Responses.wantsHTML(request))
        }
        var headers = HTTPFields()
        headers[.eTag] = file.etag
        headers[.cacheControl] = "public, max-age=31536000, immutable"
        headers[.lastModified] = Self.httpDate(file.lastModified)
        if let match = request.headers[.ifNoneMatch],
            match == "*" || match.split(separator: ",").contains(where: { $0.trimming(" ") == file.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = file.format?.mimeType ?? "application/octet-stream"
        headers[.contentLength] = String(file.bytes)
        let body = try await fileIO.loadFile(path: file.path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
