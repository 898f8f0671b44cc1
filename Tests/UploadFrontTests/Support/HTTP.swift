import Foundation
import TestSupport
import UploadFront

/// Real HTTP requests, made with curl: the same requests the documentation shows.
struct HTTPReply: Sendable {
    var status: Int
    /// Lower-cased names.
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json<T: Decodable>(_ type: T.Type = UploadResult.self) throws -> T {
        try JSONDecoder().decode(T.self, from: body)
    }

    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var status: Int
            var reason: String
        }
        var error: Detail
    }

    func error() throws -> ErrorBody.Detail { try json(ErrorBody.self).error }
}

enum HTTP {
    static func get(_ url: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await curl([url] + headerArguments(headers))
    }

    /// A multipart form with one `photo` part per file.
    static func postFiles(
        _ url: String, _ paths: [String], field: String = "photo", headers: [String: String] = [:]
    ) async throws -> HTTPReply {
        try await curl([url] + paths.flatMap { ["-F", "\(field)=@\($0)"] } + headerArguments(headers))
    }

    /// The file as the request body.
    static func postRaw(
        _ url: String, _ path: String, contentType: String = "image/jpeg", headers: [String: String] = [:]
    ) async throws -> HTTPReply {
        try await curl(
            [url, "--data-binary", "@\(path)", "-H", "Content-Type: \(contentType)"] + headerArguments(headers))
    }

    static func curl(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> HTTPReply {
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        // No `Expect: 100-continue`: curl would wait a second before sending larger bodies.
        let result = try await ChildProcess.run(
            "curl", ["-sS", "-D", "-", "-o", bodyFile.path, "-H", "Expect:"] + arguments, timeout: timeout)
        guard result.status == 0 else {
            throw FrontTestFailure(description: "curl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        let head = String(decoding: result.stdout, as: UTF8.self)
        // The last header block wins (a 100 Continue may come first).
        let blocks = head.components(separatedBy: "\r\n\r\n").filter { $0.hasPrefix("HTTP/") }
        guard let block = blocks.last else { throw FrontTestFailure(description: "no HTTP response in \(head)") }
        let lines = block.components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else {
            throw FrontTestFailure(description: "bad status line \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let body = (try? Data(contentsOf: bodyFile)) ?? Data()
        return HTTPReply(status: status, headers: headers, body: body)
    }

    private static func headerArguments(_ headers: [String: String]) -> [String] {
        headers.flatMap { ["-H", "\($0.key): \($0.value)"] }
    }
}
