import Foundation
import Hummingbird
import Imaging

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
                        return (
                            index,
                            PhotoResult(
                                filename: upload.filename, error: failure.reason, status: Int(failure.status.code))
                        )
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
                status, first.error ?? "failed",
                retryAfter: status == .serviceUnavailable || status == .tooManyRequests ? retryAfter : nil)
            return Responses.error(failure, html: html, photos: photos.count > 1 ? photos : nil)
        }
        if html {
            return Responses.html(
                Pages.result(result, sizes: configuration.sizes.map(\.name), formats: configuration.formats))
        }
        return Responses.json(result)
    }

    /// `GET /photos/ID/FILE`: `original`, a size (`thumb`, `thumb@2x`: the format the Accept header
    /// prefers, with `Vary: Accept`), or one file (`thumb@2x.webp`). With a signing key, only signed URLs.
    func serve(_ request: Request, context: some RequestContext) async throws -> Response {
        let html = Responses.wantsHTML(request)
        let id = context.parameters.get("id") ?? ""
        let file = context.parameters.get("size") ?? ""
        var expiry: Int?
        if let signer = configuration.signer {
            let query = request.uri.queryParameters
            do {
                expiry = try signer.verify(
                    "/photos/\(id)/\(file)", expires: query["e"].map(String.init),
                    signature: query["s"].map(String.init))
            } catch {
                return Responses.error(FrontError(.forbidden, error.description), html: html)
            }
        }
        let (name, requested) = Self.split(file)
        let candidates: [ImageFormat]
        var best: ImageFormat?
        if let requested {
            candidates = [requested]
        } else if name == "original" {
            candidates = []
        } else {
            let accepted = Self.acceptedFormats(request.headers[.accept])
            let preferred = configuration.formats.filter(accepted.contains)
            best = preferred.first
            candidates = preferred + VariantPlan.fallbackFormats.filter { !preferred.contains($0) }
        }
        let found =
            candidates.isEmpty
            ? await store.find(id: id, name: name) : await store.find(id: id, name: name, formats: candidates)
        guard let found else {
            let known = name == "original" || configuration.plan.variantName(name) != nil
            let reason = known ? "no photo '\(id)' with '\(file)'" : "unknown size '\(name)'"
            return Responses.error(FrontError(.notFound, reason), html: html)
        }
        var headers = HTTPFields()
        headers[.eTag] = found.etag
        headers[.lastModified] = Self.httpDate(found.lastModified)
        let negotiated = requested == nil && name != "original"
        if negotiated {
            headers[.vary] = "Accept"
        }
        if negotiated && best != nil && found.format != best {
            // The preferred format is not made yet (a backfill will): ask again soon.
            headers[.cacheControl] = "public, max-age=60"
        } else if let expiry {
            let remaining = max(0, expiry - Int(Date().timeIntervalSince1970))
            headers[.cacheControl] = "private, max-age=\(min(remaining, 31_536_000))"
        } else {
            headers[.cacheControl] = "public, max-age=31536000, immutable"
        }
        if let match = request.headers[.ifNoneMatch],
            match == "*" || match.split(separator: ",").contains(where: { $0.trimming(" ") == found.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = found.format?.mimeType ?? "application/octet-stream"
        headers[.contentLength] = String(found.bytes)
        let body = try await fileIO.loadFile(path: found.path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `thumb@2x.webp` → (`thumb@2x`, webp); `thumb` → (`thumb`, nil).
    static func split(_ file: String) -> (name: String, format: ImageFormat?) {
        guard let dot = file.lastIndex(of: "."), let format = ImageFormat(name: String(file[file.index(after: dot)...]))
        else { return (file, nil) }
        return (String(file[..<dot]), format)
    }

    /// The modern formats an Accept header names with a quality above zero. `image/*` and `*/*` do not
    /// count: browsers that cannot decode AVIF send them too.
    static func acceptedFormats(_ accept: String?) -> Set<ImageFormat> {
        guard let accept else { return [] }
        var formats: Set<ImageFormat> = []
        for item in accept.lowercased().split(separator: ",").prefix(64) {
            let parameters = item.split(separator: ";").map { $0.trimming(" ") }
            guard let type = parameters.first else { continue }
            let quality = parameters.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            guard quality > 0 else { continue }
            switch type {
            case "image/avif": formats.insert(.avif)
            case "image/webp": formats.insert(.webp)
            default: break
            }
        }
        return formats
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
