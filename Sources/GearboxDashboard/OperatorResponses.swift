import Foundation
import Hummingbird
import NIOCore

/// The operator port's answers: JSON, errors as `{"error": "…"}`, and the page's files with the headers that
/// keep anything but the page's own script and style from running in it.
enum OperatorResponses {
    /// Only this server's own files: no inline script or style, no frames, no plugins, no form posts.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!

    private struct ErrorBody: Encodable {
        var error: String
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        // A percentile that overflowed its buckets is still shown, as "Infinity", rather than failing the page.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        guard let data = try? encoder.encode(value) else {
            return error(.internalServerError, "the answer could not be encoded as JSON")
        }
        return Response(
            status: status, headers: headers(contentType: "application/json; charset=utf-8"),
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        json(ErrorBody(error: reason), status: status)
    }

    static func bytes(_ buffer: ByteBuffer, contentType: String) -> Response {
        Response(status: .ok, headers: headers(contentType: contentType), body: ResponseBody(byteBuffer: buffer))
    }

    /// The page, its script or its style.
    static func pageFile(_ buffer: ByteBuffer, contentType: String) -> Response {
        var headers = headers(contentType: contentType)
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[referrerPolicy] = "no-referrer"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    private static func headers(contentType: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return headers
    }
}
