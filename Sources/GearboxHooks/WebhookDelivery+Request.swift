import AsyncHTTPClient
import Crypto
import Foundation
import GearmanServer
import NIOCore

/// The request that carries one event: a POST of its JSON, with the headers that name, identify and sign it.
extension WebhookDelivery {
    public static let eventHeader = "X-Gearbox-Event"
    public static let deliveryHeader = "X-Gearbox-Delivery"
    public static let signatureHeader = "X-Gearbox-Signature"
    static let userAgent = "gearbox/\(GearboxVersion.gearbox)"

    /// The JSON of `event`, keys sorted.
    public static func body(of event: JobEvent) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(event))
    }

    /// `X-Gearbox-Signature` for `body`: `sha256=` and the lower-case hex of HMAC-SHA256 keyed with `secret`.
    public static func signature(of body: some DataProtocol, secret: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in code {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return "sha256=" + String(decoding: hex, as: UTF8.self)
    }

    /// `X-Gearbox-Delivery` for `event`: the same on every attempt at it, so that a receiver can ignore a
    /// repeated delivery; the time tells apart events of equal handles from two runs of a server.
    public static func deliveryID(of event: JobEvent) -> String {
        "\(event.handle)/\(event.event.rawValue)/\(event.attempt)/\(event.time)"
    }

    static func request(for event: JobEvent, to url: String, secret: [UInt8]?) throws -> HTTPClientRequest {
        let body = try body(of: event)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: eventHeader, value: event.event.rawValue)
        request.headers.add(name: deliveryHeader, value: deliveryID(of: event))
        if let secret {
            request.headers.add(name: signatureHeader, value: signature(of: body, secret: secret))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }
}
