import Foundation
import Gearman
import Hummingbird
import HummingbirdTesting
import ImageFarm
import Logging
import NIOCore
import TestSupport
import Testing

@testable import UploadFront

/// The front's routes called through its router, without a port: refusals, lookups and health.
@Suite struct RouteTests {
    /// The routes `UploadFront` serves (`FrontRoutes`: all but `/metrics`), with storage in a fresh folder and
    /// `servers` as the farm: by default a port nothing listens on, for the routes that answer before any job is
    /// sent.
    private static func withRoutes<T: Sendable>(
        _ configuration: FrontConfiguration = FrontHarness.jpegOnly,
        servers given: [GearmanServerAddress]? = nil,
        _ body: @escaping @Sendable (any TestClientProtocol, PhotoStore) async throws -> T
    ) async throws -> T {
        var configuration = configuration
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID())")
        configuration.storage = storage.path
        defer { try? FileManager.default.removeItem(at: storage) }
        let servers = try given ?? [GearmanServerAddress(host: "127.0.0.1", port: try freePort())]
        var logger = Logger(label: "test.routes")
        logger.logLevel = .warning
        let client = GearmanClient(servers: servers, logger: logger)
        do {
            let routes = try await FrontRoutes(
                configuration: configuration, servers: servers, client: client, processor: FrontHarness.processor,
                logger: logger)
            let app = Application(router: routes.router, logger: logger)
            let store = routes.store
            let result = try await withDeadline(.seconds(60)) {
                try await app.test(.router) { client in try await body(client, store) }
            }
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private static func error(_ response: TestResponse) throws -> HTTPReply.ErrorBody.Detail {
        try JSONDecoder().decode(HTTPReply.ErrorBody.self, from: Data(response.body.readableBytesView)).error
    }

    @Test func healthIs503WithRetryAfterWhenNoJobServerAnswers() async throws {
        try await Self.withRoutes { client, _ in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "5")
            let text = String(buffer: response.body)
            #expect(text.contains("\"status\":\"unavailable\""), "\(text)")
            #expect(text.contains("\"reachable\":false"), "\(text)")
        }
    }

    @Test func healthIs200WhenAWorkerForTheFunctionIsAttached() async throws {
        var logger = Logger(label: "test.farm")
        logger.logLevel = .warning
        let farm = try await EmbeddedFarm.bind(concurrency: 1, functions: [.thumbnail], logger: logger)
        try await farm.withRunning {
            try await waitForWorkers(port: farm.address.port, function: "thumbnail", count: 1)
            try await Self.withRoutes(servers: [farm.address]) { client, _ in
                let response = try await client.execute(uri: "/healthz", method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[.retryAfter] == nil)
                let text = String(buffer: response.body)
                #expect(text.contains("\"status\":\"ready\""), "\(text)")
                #expect(text.contains("\"function\":\"thumbnail\""), "\(text)")
            }
        }
    }

    @Test func aMissingPhotoOrSizeIs404() async throws {
        try await Self.withRoutes { client, _ in
            let missing = try await client.execute(uri: "/photos/0123456789abcdef0123456789abcdef/small", method: .get)
            #expect(missing.status == .notFound)
            #expect(try Self.error(missing).reason == "no photo '0123456789abcdef0123456789abcdef' with 'small'")

            let size = try await client.execute(uri: "/photos/0123456789abcdef0123456789abcdef/huge", method: .get)
            #expect(size.status == .notFound)
            #expect(try Self.error(size).reason == "unknown size 'huge'")
        }
    }

    @Test func aStoredSizeIsServedWithItsETagAndRevalidated() async throws {
        try await Self.withRoutes { client, store in
            let id = PhotoStore.newID()
            _ = try await store.write(
                id: id, name: "small", format: .jpeg, bytes: ByteBuffer(string: "not really a jpeg"))
            let found = try await client.execute(uri: "/photos/\(id)/small.jpg", method: .get)
            #expect(found.status == .ok)
            #expect(String(buffer: found.body) == "not really a jpeg")
            #expect(found.headers[.contentType] == "image/jpeg")
            #expect(found.headers[.cacheControl] == "public, max-age=31536000, immutable")
            let etag = try #require(found.headers[.eTag])

            let again = try await client.execute(
                uri: "/photos/\(id)/small.jpg", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            #expect(again.body.readableBytes == 0)
        }
    }

    @Test func aBodyThatIsNotAnImageIs422BeforeAnyJob() async throws {
        try await Self.withRoutes { client, store in
            let response = try await client.execute(
                uri: "/photos", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hello"))
            #expect(response.status == .unprocessableContent)
            #expect(try Self.error(response).reason == "not an image")
            #expect(try await store.photoIDs() == [])
        }
    }

    @Test func anEmptyBodyIs400() async throws {
        try await Self.withRoutes { client, _ in
            let response = try await client.execute(
                uri: "/photos", method: .post, headers: [.contentType: "image/jpeg"])
            #expect(response.status == .badRequest)
            #expect(try Self.error(response).reason.hasPrefix("no photo"))
        }
    }

    /// The declared length alone refuses the upload: no body is sent at all.
    @Test func anOverLimitContentLengthIs413WithoutItsBody() async throws {
        try await Self.withRoutes { client, _ in
            let photoLimit = FrontHarness.jpegOnly.limits.maxInputBytes
            let raw = try await client.execute(
                uri: "/photos", method: .post,
                headers: [.contentType: "image/jpeg", .contentLength: "\(photoLimit + 1)"])
            #expect(raw.status == .contentTooLarge)
            #expect(try Self.error(raw).reason == "too large: \(photoLimit + 1) bytes exceeds \(photoLimit) bytes")

            let requestLimit = FrontHarness.jpegOnly.maxRequestBytes
            let form = try await client.execute(
                uri: "/photos", method: .post,
                headers: [.contentType: "multipart/form-data; boundary=x", .contentLength: "\(requestLimit + 1)"])
            #expect(form.status == .contentTooLarge)
            #expect(
                try Self.error(form).reason
                    == "too large: \(requestLimit + 1) bytes exceeds \(requestLimit) bytes for one upload")
        }
    }

    @Test func withSigningOnlyASignedURLIsServed() async throws {
        var configuration = FrontHarness.jpegOnly
        let signer = try URLSigner(keys: [String(repeating: "k", count: URLSigner.minimumKeyBytes)])
        configuration.signer = signer
        try await Self.withRoutes(configuration) { client, store in
            let id = PhotoStore.newID()
            _ = try await store.write(id: id, name: "small", format: .jpeg, bytes: ByteBuffer(string: "pixels"))
            let path = "/photos/\(id)/small.jpg"

            let unsigned = try await client.execute(uri: path, method: .get)
            #expect(unsigned.status == .forbidden)
            #expect(try Self.error(unsigned).reason == URLSigner.Refusal.missing.description)

            let other = try URLSigner(keys: [String(repeating: "o", count: URLSigner.minimumKeyBytes)])
            let forged = try await client.execute(uri: other.sign(path), method: .get)
            #expect(forged.status == .forbidden)
            #expect(try Self.error(forged).reason == URLSigner.Refusal.wrong.description)

            let garbled = try await client.execute(uri: path + "?s=short", method: .get)
            #expect(garbled.status == .forbidden)

            let signed = try await client.execute(uri: signer.sign(path), method: .get)
            #expect(signed.status == .ok)
            #expect(String(buffer: signed.body) == "pixels")
        }
    }
}
