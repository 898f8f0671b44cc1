/// Rewrites a WebP file's RIFF chunks. A simple file (VP8 or VP8L first) is its image chunk alone; an
/// extended one (VP8X first) keeps VP8X, ICCP, ANIM, ANMF, ALPH, VP8 and VP8L, leaves out EXIF, XMP and
/// every other chunk, gets the minimal EXIF block as a last EXIF chunk when there is one, and VP8X flags
/// that say so. Bytes after the RIFF size are left out.
enum WebPScrubber {
    private enum FourCC {
        static let riff = Array("RIFF".utf8)
        static let webp = Array("WEBP".utf8)
        static let extended = Array("VP8X".utf8)
        static let lossy = Array("VP8 ".utf8)
        static let lossless = Array("VP8L".utf8)
        static let exif = Array("EXIF".utf8)
        static let xmp = Array("XMP ".utf8)
        static let kept: Set<[UInt8]> = [
            extended, Array("ICCP".utf8), Array("ANIM".utf8), Array("ANMF".utf8), Array("ALPH".utf8), lossy, lossless,
        ]
    }

    private enum ExtendedFlag {
        static let exif: UInt8 = 0x08
        static let xmp: UInt8 = 0x04
    }

    private static let extendedHeaderLength = 10
    private static let exifPrefix = Array("Exif\0\0".utf8)

    private struct Chunk {
        var fourCC: ArraySlice<UInt8>
        /// The chunk's header and payload, without its pad byte.
        var unpadded: Range<Int>
        var payload: Range<Int>
    }

    /// `bytes`, a file starting RIFF....WEBP, rewritten without its revealing metadata.
    static func scrub(_ bytes: [UInt8], keeping: Set<KeptMetadata>) throws(MetadataError) -> ScrubbedPhoto {
        guard bytes.count >= 12 else { throw .truncated(.webp) }
        var removed: Set<RemovedMetadata> = []
        let riffSize = littleEndian32(bytes, at: 4)
        guard riffSize >= FourCC.webp.count else { throw .malformed(.webp, "the RIFF size \(riffSize) is too small") }
        guard bytes.count - 8 >= riffSize else { throw .truncated(.webp) }
        let riffEnd = 8 + riffSize
        if riffEnd < bytes.count {
            removed.insert(.extraImages)
        }
        let chunks = try chunks(of: bytes, upTo: riffEnd)
        guard let first = chunks.first else { throw .malformed(.webp, "the RIFF holds no chunks") }

        var image: [UInt8] = []
        var contents = ExifReader.Contents()
        if first.fourCC.elementsEqual(FourCC.lossy) || first.fourCC.elementsEqual(FourCC.lossless) {
            append(first, of: bytes, to: &image)
            for chunk in chunks.dropFirst() {
                removed.insert(kind(of: chunk))
            }
        } else if first.fourCC.elementsEqual(FourCC.extended) {
            guard first.payload.count >= extendedHeaderLength else {
                throw .malformed(.webp, "the VP8X chunk is \(first.payload.count) bytes long")
            }
            var exif: [UInt8]?
            var sawExif = false
            for chunk in chunks.dropFirst() {
                if FourCC.kept.contains(Array(chunk.fourCC)), !chunk.fourCC.elementsEqual(FourCC.extended) {
                    append(chunk, of: bytes, to: &image)
                } else if chunk.fourCC.elementsEqual(FourCC.exif), !sawExif {
                    sawExif = true
                    let payload = Array(bytes[chunk.payload])
                    let tiff = payload.starts(with: exifPrefix) ? Array(payload.dropFirst(exifPrefix.count)) : payload
                    contents = try ExifReader.read(tiff, keeping: keeping, in: .webp)
                    removed.formUnion(contents.found)
                    exif = ExifWriter.tiff(for: contents)
                    if exif != payload {
                        removed.insert(.exif)
                    }
                } else {
                    removed.insert(kind(of: chunk))
                }
            }
            if let tiff = exif {
                image += try chunk(FourCC.exif, payload: tiff)
            }
            var header = Array(bytes[first.payload])
            header[0] = header[0] & ~(ExtendedFlag.exif | ExtendedFlag.xmp) | (exif == nil ? 0 : ExtendedFlag.exif)
            image = try chunk(FourCC.extended, payload: header) + image
        } else {
            throw .malformed(.webp, "the first chunk is not VP8, VP8L or VP8X")
        }

        guard image.count + FourCC.webp.count <= UInt32.max else { throw .malformed(.webp, "too large for RIFF") }
        var output = FourCC.riff
        output.reserveCapacity(12 + image.count)
        output += littleEndian(UInt32(image.count + FourCC.webp.count)) + FourCC.webp + image
        return ScrubbedPhoto(
            bytes: output, container: .webp, orientation: contents.orientation, removed: removed,
            isProgressiveJPEG: false)
    }

    /// The chunks between the "WEBP" form type and `riffEnd`.
    private static func chunks(of bytes: [UInt8], upTo riffEnd: Int) throws(MetadataError) -> [Chunk] {
        var chunks: [Chunk] = []
        var position = 12
        while position < riffEnd {
            guard riffEnd - position >= 8 else { throw .truncated(.webp) }
            let size = littleEndian32(bytes, at: position + 4)
            guard riffEnd - position - 8 >= size else { throw .truncated(.webp) }
            let payload = (position + 8)..<(position + 8 + size)
            let fourCC = bytes[position..<(position + 4)]
            chunks.append(Chunk(fourCC: fourCC, unpadded: position..<payload.upperBound, payload: payload))
            // The pad byte after an odd-sized payload; a last one missing is forgiven.
            position = min(payload.upperBound + size % 2, riffEnd)
        }
        return chunks
    }

    /// What leaving out `chunk` removes.
    private static func kind(of chunk: Chunk) -> RemovedMetadata {
        if chunk.fourCC.elementsEqual(FourCC.exif) {
            return .exif
        }
        return chunk.fourCC.elementsEqual(FourCC.xmp) ? .xmp : .other
    }

    /// Appends `chunk` as it was, with a zero pad byte after an odd-sized payload.
    private static func append(_ chunk: Chunk, of bytes: [UInt8], to output: inout [UInt8]) {
        output += bytes[chunk.unpadded]
        if chunk.payload.count % 2 == 1 {
            output.append(0)
        }
    }

    private static func chunk(_ fourCC: [UInt8], payload: [UInt8]) throws(MetadataError) -> [UInt8] {
        guard payload.count <= UInt32.max - 1 else { throw .malformed(.webp, "a chunk does not fit in RIFF") }
        return fourCC + littleEndian(UInt32(payload.count)) + payload + (payload.count % 2 == 1 ? [0] : [])
    }

    private static func littleEndian32(_ bytes: [UInt8], at offset: Int) -> Int {
        bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }
}
