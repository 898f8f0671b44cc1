import Foundation
import Hummingbird
import Imaging

/// `GET /photos/{id}/image?OPTIONS&e=EXPIRES&s=SIGNATURE`: the photo at any size the `thumbnail` function's
/// options describe, signed (or, with `unsafeTransforms`, not), made once and kept on disk.
struct TransformRoutes: Sendable {
    let configuration: FrontConfiguration
    let store: PhotoStore
    let maker: TransformMaker

    static let unsignedRefusal =
        "arbitrary sizes need a signed URL: start the front with --signing-key-file, or --unsafe-transforms"

    func register(on router: Router<some RequestContext>) {
        router.get("/photos/{id}/image") { request, context in await self.serve(request, context: context) }
    }

    func serve(_ request: Request, context: some RequestContext) async -> Response {
        let html = Responses.wantsHTML(request)
        do {
            return try await answer(request, id: context.parameters.get("id") ?? "")
        } catch let error as FrontError {
            return Responses.error(error, html: html)
        } catch {
            return Responses.error(FrontError(.internalServerError, "\(error)"), html: html)
        }
    }

    private func answer(_ request: Request, id: String) async throws -> Response {
        let signer = configuration.unsafeTransforms ? nil : configuration.signer
        guard configuration.unsafeTransforms || signer != nil else {
            throw FrontError(.forbidden, Self.unsignedRefusal)
        }
        let transform: TransformRequest
        do {
            transform = try TransformRequest(query: request.uri.query ?? "")
        } catch {
            throw FrontError(.badRequest, "\(error)")
        }
        var expiry: Int?
        if let signer {
            do {
                expiry = try signer.verify(
                    "/photos/\(id)/image", options: transform.normalizedQuery, expires: transform.expires,
                    signature: transform.signature)
            } catch {
                throw FrontError(.forbidden, error.description)
            }
        }
        try transform.checkSize(
            maxDimension: configuration.maxTransformDimension, maxMegapixels: configuration.limits.maxMegapixels)
        guard let original = await store.find(id: id, name: "original") else {
            throw FrontError(.notFound, "no photo '\(id)'")
        }
        let format: ImageFormat
        if let named = transform.options.output.format {
            format = named
        } else {
            let accepted = PhotoRoutes.acceptedFormats(request.headers[.accept])
            if let preferred = configuration.formats.first(where: accepted.contains) {
                format = preferred
            } else {
                format = try await maker.fallbackFormat(photo: id, original: original)
            }
        }
        let options = transform.resolved(format: format)
        let key = TransformRequest.key(function: configuration.function, photo: id, options: options)

        var headers = HTTPFields()
        // The key names the content: the same options on the same photo give the same bytes.
        let etag = "\"\(key.prefix(40))\""
        headers[.eTag] = etag
        if !transform.namesFormat {
            headers[.vary] = "Accept"
        }
        if let expiry {
            let remaining = max(0, expiry - Int(Date().timeIntervalSince1970))
            headers[.cacheControl] = "private, max-age=\(min(remaining, 31_536_000))"
        } else {
            headers[.cacheControl] = "public, max-age=31536000, immutable"
        }
        if let match = request.headers[.ifNoneMatch],
            match == "*" || match.split(separator: ",").contains(where: { $0.trimming(" ") == etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        let made = try await maker.make(key, options: options, original: original)
        headers[.contentType] = made.format.mimeType
        headers[.contentLength] = String(made.bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: made.bytes))
    }
}
