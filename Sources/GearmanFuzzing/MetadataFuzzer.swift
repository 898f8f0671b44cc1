import PhotoMetadata

/// Drives `MetadataScrubber` with arbitrary bytes, keeping no EXIF field and then every one. Throwing a
/// `MetadataError` is fine; when a scrub succeeds its output must be the same container, at most a few
/// hundred bytes longer, with an orientation in 1...8, and must scrub again to the same bytes with nothing
/// removed. A JPEG's output must end at its EOI and hold no XMP segment. Anything else, or a trap, is a
/// defect.
public enum MetadataFuzzer {
    private static let xmpNamespace = Array("http://ns.adobe.com/xap".utf8)

    public static func run(_ bytes: [UInt8]) {
        let plain = check(bytes, keeping: [])
        let keptAll = check(bytes, keeping: Set(KeptMetadata.allCases))
        precondition((plain == nil) == (keptAll == nil), "what is kept decided whether the file could be read")
        if let plain, let keptAll {
            precondition(plain.orientation == keptAll.orientation, "what is kept changed the orientation")
            precondition(
                plain.removed.subtracting([.exif]) == keptAll.removed.subtracting([.exif]),
                "what is kept changed what was found")
        }
    }

    private static func check(_ bytes: [UInt8], keeping: Set<KeptMetadata>) -> ScrubbedPhoto? {
        let scrubbed: ScrubbedPhoto
        do {
            scrubbed = try MetadataScrubber.scrub(bytes, keeping: keeping)
        } catch {
            return nil
        }
        let output = scrubbed.bytes
        precondition(output.count <= bytes.count + 512, "\(bytes.count) bytes scrubbed to \(output.count)")
        precondition(MetadataScrubber.container(of: output) == scrubbed.container, "the output is another container")
        precondition(MetadataScrubber.container(of: bytes) == scrubbed.container, "the container was misread")
        precondition((1...8).contains(scrubbed.orientation), "orientation \(scrubbed.orientation)")
        let again: ScrubbedPhoto
        do {
            again = try MetadataScrubber.scrub(output, keeping: keeping)
        } catch {
            preconditionFailure("a scrubbed file does not scrub again: \(error)")
        }
        precondition(again.bytes == output, "scrubbing twice changed the bytes")
        precondition(again.removed.isEmpty, "scrubbing twice removed \(again.removed)")
        precondition(again.orientation == scrubbed.orientation, "scrubbing twice changed the orientation")
        precondition(again.isProgressiveJPEG == scrubbed.isProgressiveJPEG, "scrubbing twice changed progressiveness")
        if scrubbed.container == .jpeg {
            checkJPEG(output)
        }
        return scrubbed
    }

    /// Walks a scrubbed JPEG's segments and entropy-coded data: no APP1 holds XMP, and EOI is the last thing.
    private static func checkJPEG(_ jpeg: [UInt8]) {
        var position = 2
        while true {
            precondition(position + 1 < jpeg.count && jpeg[position] == 0xFF, "no marker at byte \(position)")
            let marker = jpeg[position + 1]
            position += 2
            if marker == 0xD9 {
                precondition(position == jpeg.count, "bytes after EOI")
                return
            }
            precondition(position + 2 <= jpeg.count, "segment header past the end")
            let length = Int(jpeg[position]) << 8 | Int(jpeg[position + 1])
            precondition(length >= 2 && position + length <= jpeg.count, "segment length \(length)")
            let payload = jpeg[(position + 2)..<(position + length)]
            precondition(!(marker == 0xE1 && payload.starts(with: xmpNamespace)), "an XMP segment was kept")
            position += length
            guard marker == 0xDA else { continue }
            while true {
                guard let byteFF = jpeg[position...].firstIndex(of: 0xFF) else {
                    preconditionFailure("entropy-coded data runs to the end")
                }
                var next = byteFF + 1
                while next < jpeg.count, jpeg[next] == 0xFF {
                    next += 1
                }
                precondition(next < jpeg.count, "entropy-coded data runs to the end")
                if jpeg[next] == 0x00 || (0xD0...0xD7).contains(jpeg[next]) {
                    position = next + 1
                } else {
                    precondition(next == byteFF + 1, "fill bytes kept before a marker")
                    position = byteFF
                    break
                }
            }
        }
    }
}
