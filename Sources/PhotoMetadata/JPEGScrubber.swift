/// Rewrites a JPEG file marker by marker from SOI to EOI, keeping what decoding needs (tables, frame and
/// scan headers, entropy-coded data, the JFIF header without its thumbnail, ICC profile chunks and the Adobe
/// segment) and leaving out every other APPn and COM segment, and everything after EOI. The minimal EXIF
/// block, when there is one, goes right after SOI and a leading JFIF segment.
struct JPEGScrubber {
    private enum Marker {
        static let startOfImage: UInt8 = 0xD8
        static let endOfImage: UInt8 = 0xD9
        static let startOfScan: UInt8 = 0xDA
        static let app0: UInt8 = 0xE0
        static let app1: UInt8 = 0xE1
        static let app2: UInt8 = 0xE2
        static let app13: UInt8 = 0xED
        static let app14: UInt8 = 0xEE
        static let comment: UInt8 = 0xFE
        static let progressiveFrames: Set<UInt8> = [0xC2, 0xC6, 0xCA, 0xCE]

        /// Restart markers, and TEM: markers without a length.
        static func isStandalone(_ marker: UInt8) -> Bool {
            marker == 0x01 || (0xD0...0xD7).contains(marker)
        }

        /// Frame headers (SOFn), DHT, DAC, DQT, DNL, DRI, DHP and EXP: what decoding the pixels needs.
        static func isNeededForDecoding(_ marker: UInt8) -> Bool {
            ((0xC0...0xCF).contains(marker) && marker != 0xC8) || (0xDB...0xDF).contains(marker)
        }
    }

    private enum Signature {
        static let jfif = Array("JFIF\0".utf8)
        static let jfxx = Array("JFXX\0".utf8)
        static let exif = Array("Exif\0\0".utf8)
        static let adobeNamespace = Array("http://ns.adobe.com/".utf8)
        static let iccProfile = Array("ICC_PROFILE\0".utf8)
        static let photoshop = Array("Photoshop 3.0\0".utf8)
        static let adobe = Array("Adobe".utf8)
    }

    /// JFIF's fixed header up to its thumbnail size: identifier, version, units, densities.
    private static let jfifHeaderLength = 12

    private let bytes: [UInt8]
    private let keeping: Set<KeptMetadata>
    /// A JFIF segment met before any segment was kept: it stays first.
    private var leadingJFIF: [UInt8] = []
    /// Everything else kept, in order, from after SOI to EOI.
    private var body: [UInt8] = []
    private var sawExif = false
    private var exif: [UInt8]?
    private var orientation = 1
    private var removed: Set<RemovedMetadata> = []
    private var isProgressive = false

    /// `bytes`, a file starting FF D8 FF, rewritten without its revealing metadata.
    static func scrub(_ bytes: [UInt8], keeping: Set<KeptMetadata>) throws(MetadataError) -> ScrubbedPhoto {
        var scrubber = JPEGScrubber(bytes: bytes, keeping: keeping)
        try scrubber.rewriteSegments()
        var output: [UInt8] = [0xFF, Marker.startOfImage]
        output.reserveCapacity(scrubber.leadingJFIF.count + scrubber.body.count + 16 + (scrubber.exif?.count ?? 0))
        output += scrubber.leadingJFIF
        if let tiff = scrubber.exif {
            output += try segment(Marker.app1, payload: Signature.exif + tiff)
        }
        output += scrubber.body
        return ScrubbedPhoto(
            bytes: output, container: .jpeg, orientation: scrubber.orientation, removed: scrubber.removed,
            isProgressiveJPEG: scrubber.isProgressive)
    }

    private init(bytes: [UInt8], keeping: Set<KeptMetadata>) {
        self.bytes = bytes
        self.keeping = keeping
        body.reserveCapacity(bytes.count)
    }

    private mutating func rewriteSegments() throws(MetadataError) {
        var position = 2
        while true {
            guard position < bytes.count else { throw .truncated(.jpeg) }
            guard bytes[position] == 0xFF else {
                throw .malformed(.jpeg, "no marker where one belongs, at byte \(position)")
            }
            // Any number of 0xFF fill bytes may come before a marker.
            while position < bytes.count, bytes[position] == 0xFF {
                position += 1
            }
            guard position < bytes.count else { throw .truncated(.jpeg) }
            let marker = bytes[position]
            position += 1
            switch marker {
            case Marker.endOfImage:
                body += [0xFF, Marker.endOfImage]
                if position < bytes.count {
                    removed.insert(.extraImages)
                }
                return
            case Marker.startOfImage:
                throw .malformed(.jpeg, "a second SOI marker at byte \(position - 2)")
            case 0x00:
                throw .malformed(.jpeg, "a stuffed FF 00 outside entropy-coded data, at byte \(position - 2)")
            case let standalone where Marker.isStandalone(standalone):
                removed.insert(.other)
                continue
            default:
                break
            }
            guard bytes.count - position >= 2 else { throw .truncated(.jpeg) }
            let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
            guard length >= 2 else {
                throw .malformed(.jpeg, "segment FF \(hex(marker)) at byte \(position - 2) has length \(length)")
            }
            guard bytes.count - position >= length else { throw .truncated(.jpeg) }
            let segment = bytes[(position - 2)..<(position + length)]
            position += length
            try rewrite(marker, segment: segment)
            if marker == Marker.startOfScan {
                position = try copyEntropyCodedData(from: position)
            }
        }
    }

    /// Keeps, rewrites or leaves out one segment: `segment` is its marker, length and payload.
    private mutating func rewrite(_ marker: UInt8, segment: ArraySlice<UInt8>) throws(MetadataError) {
        let payload = segment.dropFirst(4)
        switch marker {
        case Marker.app0:
            rewriteApp0(payload)
        case Marker.app1:
            try rewriteApp1(payload)
        case Marker.app2 where payload.starts(with: Signature.iccProfile),
            Marker.app14 where payload.starts(with: Signature.adobe):
            body += segment
        case Marker.app13:
            removed.insert(payload.starts(with: Signature.photoshop) ? .iptc : .other)
        case Marker.comment:
            removed.insert(.comment)
        case let needed where Marker.isNeededForDecoding(needed) || needed == Marker.startOfScan:
            if Marker.progressiveFrames.contains(marker) {
                isProgressive = true
            }
            body += segment
        default:
            removed.insert(.other)
        }
    }

    /// Keeps a JFIF header without its thumbnail; leaves out JFXX extensions and anything else in APP0.
    private mutating func rewriteApp0(_ payload: ArraySlice<UInt8>) {
        guard payload.starts(with: Signature.jfif), payload.count >= Self.jfifHeaderLength + 2 else {
            removed.insert(payload.starts(with: Signature.jfxx) ? .thumbnail : .other)
            return
        }
        let header = payload.prefix(Self.jfifHeaderLength)
        let thumbnailSize = payload.dropFirst(Self.jfifHeaderLength).prefix(2)
        if thumbnailSize.contains(where: { $0 != 0 }) {
            removed.insert(.thumbnail)
        } else if payload.count > Self.jfifHeaderLength + 2 {
            removed.insert(.other)
        }
        let rewritten = [0xFF, Marker.app0, 0x00, UInt8(Self.jfifHeaderLength + 4)] + header + [0, 0]
        if leadingJFIF.isEmpty, body.isEmpty {
            leadingJFIF = rewritten
        } else {
            body += rewritten
        }
    }

    /// Reads the first EXIF block for what is kept; leaves out every APP1 (EXIF, XMP, extended XMP).
    private mutating func rewriteApp1(_ payload: ArraySlice<UInt8>) throws(MetadataError) {
        guard payload.starts(with: Signature.exif) else {
            removed.insert(payload.starts(with: Signature.adobeNamespace) ? .xmp : .other)
            return
        }
        guard !sawExif else {
            removed.insert(.exif)
            return
        }
        sawExif = true
        let tiff = Array(payload.dropFirst(Signature.exif.count))
        let contents = try ExifReader.read(tiff, keeping: keeping, in: .jpeg)
        orientation = contents.orientation
        removed.formUnion(contents.found)
        exif = ExifWriter.tiff(for: contents)
        if exif != tiff {
            removed.insert(.exif)
        }
    }

    /// Copies the entropy-coded data that starts at `start` (stuffed FF 00 pairs and RSTn markers included)
    /// and returns where the next marker's 0xFF bytes start.
    private mutating func copyEntropyCodedData(from start: Int) throws(MetadataError) -> Int {
        var searchFrom = start
        while true {
            guard let byteFF = bytes[searchFrom...].firstIndex(of: 0xFF) else { throw .truncated(.jpeg) }
            var next = byteFF + 1
            while next < bytes.count, bytes[next] == 0xFF {
                next += 1
            }
            guard next < bytes.count else { throw .truncated(.jpeg) }
            if bytes[next] == 0x00 || (0xD0...0xD7).contains(bytes[next]) {
                searchFrom = next + 1
                continue
            }
            body += bytes[start..<byteFF]
            return byteFF
        }
    }

    private static func segment(_ marker: UInt8, payload: [UInt8]) throws(MetadataError) -> [UInt8] {
        let length = payload.count + 2
        guard length <= 0xFFFF else { throw .malformed(.jpeg, "its EXIF block does not fit in a segment") }
        return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
