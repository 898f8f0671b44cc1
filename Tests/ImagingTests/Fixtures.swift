import Foundation
import TestSupport
import Testing

@testable import Imaging

/// One processor for every imaging test: libvips starts once per process.
enum Shared {
    static let processor = ImageProcessor()
}

/// Decodes an encoded image and reads one pixel.
func pixel(_ bytes: [UInt8], x: Int, y: Int) throws -> [Double] {
    try bytes.withUnsafeBytes { buffer in
        let opened = try ImagePipeline.open(buffer, limits: .default)
        return try opened.image.pixel(x: x, y: y)
    }
}

/// The description an error gives, or nil when `body` does not throw.
func errorText(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch {
        return String(describing: error)
    }
}
