/// Rewrites a PNG file chunk by chunk from IHDR to IEND, keeping the chunks that decoding and colour need
/// (with their original CRCs) and leaving out text, time, EXIF and every other chunk, and everything after
/// IEND. The minimal EXIF block, when there is one, goes in a new eXIf chunk right before the first IDAT.
enum PNGScrubber {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let maximumChunkLength = 0x7FFF_FFFF

    private static let kept: Set<[UInt8]> = Set(
        [
            "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "cHRM", "gAMA", "iCCP", "sBIT", "sRGB", "cICP", "mDCV", "cLLi",
            "bKGD", "hIST", "pHYs", "sPLT", "acTL", "fcTL", "fdAT",
        ].map { Array($0.utf8) })
    private static let header = Array("IHDR".utf8)
    private static let imageData = Array("IDAT".utf8)
    private static let end = Array("IEND".utf8)
    private static let exif = Array("eXIf".utf8)
    private static let text: Set<[UInt8]> = [Array("tEXt".utf8), Array("zTXt".utf8), Array("iTXt".utf8)]

    /// What a text chunk's keyword says it holds, besides text.
    private static let keywords: [[UInt8]: RemovedMetadata] = [
        Array("XML:com.adobe.xmp".utf8): .xmp,
        Array("Raw profile type xmp".utf8): .xmp,
        Array("Raw profile type exif".utf8): .exif,
        Array("Raw profile type APP1".utf8): .exif,
        Array("Raw profile type iptc".utf8): .iptc,
    ]

    private struct Chunk {
        var type: ArraySlice<UInt8>
        var data: Range<Int>
        /// The whole chunk: length, type, data and CRC.
        var whole: Range<Int>
    }

    /// `bytes`, a file starting with the PNG signature, rewritten without its revealing metadata.
    static func scrub(_ bytes: [UInt8], keeping: Set<KeptMetadata>) throws(MetadataError) -> ScrubbedPhoto {
        var removed: Set<RemovedMetadata> = []
        let chunks = try chunks(of: bytes, removed: &removed)

        var contents = ExifReader.Contents()
        var exif: [UInt8]?
        var sawExif = false
        for chunk in chunks where chunk.type.elementsEqual(Self.exif) {
            guard !sawExif else {
                removed.insert(.exif)
                continue
            }
            sawExif = true
            let tiff = Array(bytes[chunk.data])
            contents = try ExifReader.read(tiff, keeping: keeping, in: .png)
            removed.formUnion(contents.found)
            exif = ExifWriter.tiff(for: contents)
            if exif != tiff {
                removed.insert(.exif)
            }
        }

        var output = signature
        output.reserveCapacity(bytes.count + 12 + (exif?.count ?? 0))
        for chunk in chunks {
            if let tiff = exif, chunk.type.elementsEqual(imageData) || chunk.type.elementsEqual(end) {
                output += try exifChunk(tiff)
                exif = nil
            }
            if kept.contains(Array(chunk.type)) {
                output += bytes[chunk.whole]
            } else if text.contains(Array(chunk.type)) {
                removed.insert(.text)
                let keyword = Array(bytes[chunk.data].prefix { $0 != 0 }.prefix(80))
                if let kind = keywords[keyword] {
                    removed.insert(kind)
                }
            } else if !chunk.type.elementsEqual(Self.exif) {
                removed.insert(.other)
            }
        }
        return ScrubbedPhoto(
            bytes: output, container: .png, orientation: contents.orientation, removed: removed,
            isProgressiveJPEG: false)
    }

    /// The chunks from IHDR to IEND; notes `.extraImages` when bytes follow IEND.
    private static func chunks(
        of bytes: [UInt8], removed: inout Set<RemovedMetadata>
    ) throws(MetadataError) -> [Chunk] {
        var chunks: [Chunk] = []
        var position = signature.count
        while true {
            guard bytes.count - position >= 8 else { throw .truncated(.png) }
            let length = bytes[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= maximumChunkLength else {
                throw .malformed(.png, "a chunk at byte \(position) claims \(length) bytes")
            }
            guard bytes.count - position - 12 >= length else { throw .truncated(.png) }
            let type = bytes[(position + 4)..<(position + 8)]
            guard type.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                throw .malformed(.png, "a chunk at byte \(position) has a type that is not four letters")
            }
            guard !chunks.isEmpty || type.elementsEqual(header) else {
                throw .malformed(.png, "the first chunk is not IHDR")
            }
            let whole = position..<(position + 12 + length)
            chunks.append(Chunk(type: type, data: (position + 8)..<(position + 8 + length), whole: whole))
            position = whole.upperBound
            if type.elementsEqual(end) {
                if position < bytes.count {
                    removed.insert(.extraImages)
                }
                return chunks
            }
        }
    }

    private static func exifChunk(_ tiff: [UInt8]) throws(MetadataError) -> [UInt8] {
        guard tiff.count <= maximumChunkLength else { throw .malformed(.png, "its EXIF block does not fit in a chunk") }
        var chunk = bigEndian(UInt32(tiff.count)) + Self.exif + tiff
        chunk += bigEndian(CRC32.checksum(chunk[4...]))
        return chunk
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
