import Foundation
import Hummingbird

/// JSON and HTML answers, and how to tell which one a request wants.
enum Responses {
    /// A browser's form submission asks for HTML first; `fetch` from the upload page and `curl` do not.
    static func wantsHTML(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept]?.lowercased() else { return false }
        guard let html = accept.range(of: "text/html") else { return false }
        guard let json = accept.range(of: "application/json") else { return true }
        return html.lowerBound < json.lowerBound
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        var buffer = ByteBuffer(bytes: data)
        buffer.writeString("\n")
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var status: Int
            var reason: String
        }
        var error: Detail
        var photos: [PhotoResult]?
    }

    /// `{"error":{"status":422,"reason":"not an image"}}`, or a page saying the same; 503 carries Retry-After.
    static func error(_ error: FrontError, html: Bool, photos: [PhotoResult]? = nil) -> Response {
        var headers = HTTPFields()
        if let retryAfter = error.retryAfter {
            headers[.retryAfter] = String(retryAfter)
        }
        if html {
            return Self.html(Pages.error(error), status: error.status, headers: headers)
        }
        return json(
            ErrorBody(error: .init(status: Int(error.status.code), reason: error.reason), photos: photos),
            status: error.status,
            headers: headers)
    }
}

extension String {
    /// Escaped for HTML text and attribute values.
    var htmlEscaped: String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for character in self {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
