import Crypto
import Foundation

/// Signs the photo URLs the front hands out and checks the ones it is asked for: `HMAC-SHA256(key, PATH
/// "\n" EXPIRES)` in base64url without padding, as `?e=EXPIRES&s=SIGNATURE` (`e` only with an expiry, Unix
/// seconds). A URL with options (`/photos/ID/image?size=300x200`) signs `PATH "?" OPTIONS "\n" EXPIRES`, the
/// options in the normalized form its caller gives (`TransformRequest.normalizedQuery`), so that any order
/// of the same options verifies. The first key signs; every key is accepted, so that a new key can be put first while URLs
/// signed with the old one still work, and the old one removed once they have expired. Comparison is
/// constant-time (swift-crypto's `isValidAuthenticationCode`).
public struct URLSigner: Sendable {
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case missing
        case malformed
        case wrong
        case expired

        public var description: String {
            switch self {
            case .missing: return "this URL needs a signature"
            case .malformed: return "the URL's signature or expiry is malformed"
            case .wrong: return "the URL's signature does not match"
            case .expired: return "the URL has expired"
            }
        }
    }

    private let keys: [SymmetricKey]
    /// How long a signed URL stays valid; nil: for ever.
    public let lifetime: Duration?

    /// The shortest key accepted, in bytes: HMAC-SHA256's own block of security.
    public static let minimumKeyBytes = 32

    /// - Parameter keys: secrets of at least 32 bytes each, the signing one first.
    public init(keys: [String], lifetime: Duration? = nil) throws {
        guard !keys.isEmpty else { throw FrontConfigurationError("a signing key is needed") }
        for key in keys where key.utf8.count < Self.minimumKeyBytes {
            throw FrontConfigurationError("a signing key must be at least \(Self.minimumKeyBytes) bytes")
        }
        self.keys = keys.map { SymmetricKey(data: Data($0.utf8)) }
        self.lifetime = lifetime
    }

    /// `path` with its signature, valid until `now + lifetime`.
    public func sign(_ path: String, now: Date = Date()) -> String {
        sign(path, options: "", now: now)
    }

    /// `path?options&e=EXPIRES&s=SIGNATURE`, valid until `now + lifetime`; `options` is an encoded query
    /// (`a=1&b=2`, or empty for none), signed as given.
    public func sign(_ path: String, options: String, now: Date = Date()) -> String {
        let expires = lifetime.map { Int(now.timeIntervalSince1970) + Int($0.components.seconds) }
        let message = Self.message(path, options: options, expires: expires)
        let signature = Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: message, using: keys[0])))
        let query = (options.isEmpty ? [] : [options]) + (expires.map { ["e=\($0)"] } ?? []) + ["s=\(signature)"]
        return "\(path)?\(query.joined(separator: "&"))"
    }

    /// Checks the `e` and `s` query values for `path`; returns the expiry, if the URL has one.
    @discardableResult
    public func verify(_ path: String, expires: String?, signature: String?, now: Date = Date()) throws(Refusal) -> Int?
    {
        try verify(path, options: "", expires: expires, signature: signature, now: now)
    }

    /// Checks the `e` and `s` query values for `path` with `options`, in the form they were signed in;
    /// returns the expiry, if the URL has one.
    @discardableResult
    public func verify(
        _ path: String, options: String, expires: String?, signature: String?, now: Date = Date()
    ) throws(Refusal) -> Int? {
        guard let signature else { throw .missing }
        guard let code = Self.decodeBase64URL(signature), code.count == SHA256.byteCount else { throw .malformed }
        var expiry: Int?
        if let expires {
            guard expires.count <= 12, let seconds = Int(expires), seconds >= 0 else { throw .malformed }
            expiry = seconds
        }
        let message = Self.message(path, options: options, expires: expiry)
        guard keys.contains(where: { HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: $0) })
        else { throw .wrong }
        if let expiry, Int(now.timeIntervalSince1970) >= expiry { throw .expired }
        return expiry
    }

    /// A path never holds `?`, so a URL with options cannot sign the same message as one without.
    private static func message(_ path: String, options: String, expires: Int?) -> Data {
        let resource = options.isEmpty ? path : "\(path)?\(options)"
        return Data("\(resource)\n\(expires.map(String.init) ?? "")".utf8)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        guard text.count <= 64 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
