import PhotoMetadata
import Testing

/// `MetadataScrubber` on JPEG, PNG and WebP files assembled here byte by byte: what it removes and reports,
/// what it keeps byte for byte, the minimal EXIF block it writes, and the errors that broken files throw.
@Suite struct MetadataScrubberTests {
    // MARK: JPEG

    @Test func jpegLosesEveryKindOfRevealingMetadataAndSaysWhich() throws {
        let input = JPEG.file(
            [
                JPEG.jfif(thumbnail: (width: 2, height: 1)),
                JPEG.segment(0xE0, Array("JFXX\0".utf8) + [0x13, 1, 1, 0, 0, 0]),
                JPEG.exif(
                    TIFF.block(ifd0: Self.revealingIFD0, exifIFD: Self.revealingExifIFD, ifd1: [.short(0x0103, 6)])),
                JPEG.segment(0xE1, Array("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>".utf8)),
                JPEG.segment(0xE1, Array("http://ns.adobe.com/xmp/extension/\0ABCD".utf8)),
                JPEG.icc,
                JPEG.segment(0xE2, Array("MPF\0".utf8) + [0x49, 0x49, 0x2A, 0]),
                JPEG.segment(0xED, Array("Photoshop 3.0\08BIM".utf8) + [4, 4, 0, 0]),
                JPEG.segment(0xFE, Array("shot at home".utf8)),
            ] + JPEG.tables(frame: 0xC0),
            trailing: [0xFF, 0xD8, 0xFF, 0xE2] + Array("a second image".utf8))
        let scrubbed = try MetadataScrubber.scrub(input)

        #expect(scrubbed.container == .jpeg)
        #expect(scrubbed.orientation == 6)
        #expect(!scrubbed.isProgressiveJPEG)
        #expect(
            scrubbed.removed == [
                .exif, .gps, .cameraMake, .cameraSerial, .makerNote, .thumbnail, .xmp, .iptc, .comment, .other,
                .extraImages,
            ])
        let segments = JPEG.segments(scrubbed.bytes)
        #expect(segments.map(\.marker) == [0xE0, 0xE1, 0xE2, 0xDB, 0xC0, 0xC4, 0xDA, 0xD9])
        #expect(segments[0].bytes == JPEG.jfif(thumbnail: nil))
        #expect(segments[2].bytes == JPEG.icc)
        #expect(JPEG.fromFirstScan(scrubbed.bytes) == JPEG.fromFirstScan(Array(input.dropLast(18))))
        #expect(scrubbed.bytes.suffix(2) == [0xFF, 0xD9])
    }

    @Test func orientationIsKeptAsAMinimalLittleEndianExifBlock() throws {
        let block = TIFF.block(bigEndian: true, ifd0: Self.revealingIFD0)
        let input = JPEG.file([JPEG.exif(block)] + JPEG.tables(frame: 0xC0))
        let scrubbed = try MetadataScrubber.scrub(input)
        let expected: [UInt8] =
            Array("Exif\0\0".utf8) + [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00]
            + [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00] + [0, 0, 0, 0]
        let segments = JPEG.segments(scrubbed.bytes)
        #expect(segments.first?.marker == 0xE1)
        #expect(segments.first?.payload == expected)
        #expect(scrubbed.orientation == 6)

        let again = try MetadataScrubber.scrub(scrubbed.bytes)
        #expect(again.orientation == 6)
        #expect(again.removed.isEmpty)
        #expect(again.bytes == scrubbed.bytes)
    }

    @Test func noExifBlockIsWrittenWhenThereIsNothingToKeep() throws {
        let upright = TIFF.block(ifd0: [.ascii(0x010F, "TestPhone"), .short(0x0112, 1)])
        let scrubbed = try MetadataScrubber.scrub(JPEG.file([JPEG.exif(upright)] + JPEG.tables(frame: 0xC0)))
        #expect(!JPEG.segments(scrubbed.bytes).contains { $0.marker == 0xE1 })
        #expect(scrubbed.orientation == 1)
        #expect(scrubbed.removed == [.exif, .cameraMake])

        let outOfLine = TIFF.block(ifd0: [.raw(0x0112, type: 3, count: 3, value: [8, 0, 1, 0, 1, 0])])
        #expect(
            try MetadataScrubber.scrub(JPEG.file([JPEG.exif(outOfLine)] + JPEG.tables(frame: 0xC0))).orientation == 8)

        let outOfRange = TIFF.block(ifd0: [.short(0x0112, 9)])
        let odd = try MetadataScrubber.scrub(JPEG.file([JPEG.exif(outOfRange)] + JPEG.tables(frame: 0xC0)))
        #expect(odd.orientation == 1)
        #expect(!JPEG.segments(odd.bytes).contains { $0.marker == 0xE1 })
    }

    @Test func keptFieldsStayWhenAskedForAndGoOtherwise() throws {
        let block = TIFF.block(
            bigEndian: true,
            ifd0: [
                .ascii(0x8298, "Me"), .ascii(0x013B, "Ann"), .ascii(0x010E, "a long description  "),
                .ascii(0x0132, "2024:01:02 03:04:05"), .ascii(0x010F, "TestPhone"),
            ])
        let input = JPEG.file([JPEG.exif(block)] + JPEG.tables(frame: 0xC0))

        let kept = try MetadataScrubber.scrub(input, keeping: [.copyright, .artist])
        let expected: [UInt8] =
            Array("Exif\0\0".utf8) + [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x00]
            + [0x3B, 0x01, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00] + Array("Ann\0".utf8)
            + [0x98, 0x82, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00] + Array("Me\0\0".utf8) + [0, 0, 0, 0]
        #expect(JPEG.segments(kept.bytes).first?.payload == expected)
        #expect(kept.removed == [.exif, .cameraMake])

        let all = try MetadataScrubber.scrub(input, keeping: Set(KeptMetadata.allCases))
        #expect(all.bytes.contains(subsequence: Array("a long description\0".utf8)))
        #expect(all.bytes.contains(subsequence: Array("2024:01:02 03:04:05\0".utf8)))
        #expect(!all.bytes.contains(subsequence: Array("TestPhone".utf8)))
        #expect(try MetadataScrubber.scrub(all.bytes, keeping: Set(KeptMetadata.allCases)).bytes == all.bytes)

        let none = try MetadataScrubber.scrub(input)
        #expect(!JPEG.segments(none.bytes).contains { $0.marker == 0xE1 })
        #expect(!none.bytes.contains(subsequence: Array("Ann".utf8)))
    }

    @Test func keptTextIsCutAtItsNulAndGarbageIsDropped() throws {
        let block = TIFF.block(ifd0: [
            .ascii(0x013B, "Ann\0hidden"), .undefined(0x8298, Array("Me\0".utf8)),
            .raw(0x010E, type: 2, count: 5, value: [0xFF, 0xFE, 0x41, 0x42, 0x00]),
        ])
        let input = JPEG.file([JPEG.exif(block)] + JPEG.tables(frame: 0xC0))
        let scrubbed = try MetadataScrubber.scrub(input, keeping: Set(KeptMetadata.allCases))
        #expect(scrubbed.bytes.contains(subsequence: Array("Ann\0".utf8)))
        #expect(!scrubbed.bytes.contains(subsequence: Array("hidden".utf8)))
        #expect(!scrubbed.bytes.contains(subsequence: Array("Me".utf8)))
        #expect(!scrubbed.bytes.contains(subsequence: [0xFF, 0xFE, 0x41]))
    }

    @Test func keptTextIsCappedWithoutCuttingACharacterInTwo() throws {
        let long = String(repeating: "a", count: 4095) + "é"
        let input = JPEG.file([JPEG.exif(TIFF.block(ifd0: [.ascii(0x013B, long)]))] + JPEG.tables(frame: 0xC0))
        let scrubbed = try MetadataScrubber.scrub(input, keeping: [.artist])
        #expect(scrubbed.bytes.contains(subsequence: [UInt8](repeating: 0x61, count: 4095) + [0]))
        #expect(!scrubbed.bytes.contains(subsequence: [0xC3]))
    }

    @Test func keptFieldsSharingOneValueCannotMakeTheFileGrow() throws {
        // Four ASCII entries all pointing at the same 4000 bytes: keeping each would write 16000.
        var block: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00]
        for tag: [UInt8] in [[0x0E, 0x01], [0x32, 0x01], [0x3B, 0x01], [0x98, 0x82]] {
            block += tag + [0x02, 0x00, 0xA0, 0x0F, 0x00, 0x00, 0x3E, 0x00, 0x00, 0x00]
        }
        block += [0, 0, 0, 0] + [UInt8](repeating: 0x41, count: 3999) + [0]
        let input = JPEG.file([JPEG.exif(block)] + JPEG.tables(frame: 0xC0))
        let scrubbed = try MetadataScrubber.scrub(input, keeping: Set(KeptMetadata.allCases))
        #expect(scrubbed.bytes.count <= input.count)
        #expect(try MetadataScrubber.scrub(scrubbed.bytes, keeping: Set(KeptMetadata.allCases)).bytes == scrubbed.bytes)
    }

    @Test func keptMetadataIsNamedWithoutRegardToCase() {
        #expect(KeptMetadata(name: "Copyright") == .copyright)
        #expect(KeptMetadata(name: "ARTIST") == .artist)
        #expect(KeptMetadata(name: "description") == .description)
        #expect(KeptMetadata(name: "DateTime") == .dateTime)
        #expect(KeptMetadata(name: "gps") == nil)
    }

    @Test func progressiveFramesAreRecognisedAndEveryScanKept() throws {
        for frame: UInt8 in [0xC2, 0xC6, 0xCA, 0xCE] {
            #expect(try MetadataScrubber.scrub(JPEG.file(JPEG.tables(frame: frame))).isProgressiveJPEG)
        }
        #expect(try !MetadataScrubber.scrub(JPEG.file(JPEG.tables(frame: 0xC1))).isProgressiveJPEG)

        let secondScan =
            JPEG.segment(0xC4, [0x10, 1]) + JPEG.segment(0xFE, Array("between scans".utf8))
            + JPEG.segment(0xDA, [1, 1, 0, 1, 5, 2]) + [0x77, 0xFF, 0x00, 0xFF, 0xD1, 0x78]
        let input = JPEG.file(JPEG.tables(frame: 0xC2), afterScan: secondScan)
        let scrubbed = try MetadataScrubber.scrub(input)
        #expect(scrubbed.isProgressiveJPEG)
        #expect(scrubbed.removed == [.comment])
        #expect(JPEG.segments(scrubbed.bytes).map(\.marker) == [0xDB, 0xC2, 0xC4, 0xDA, 0xC4, 0xDA, 0xD9])
        #expect(scrubbed.bytes.suffix(8) == [0x77, 0xFF, 0x00, 0xFF, 0xD1, 0x78, 0xFF, 0xD9])
    }

    @Test func jfifLosesItsThumbnailAndAdobeSegmentStays() throws {
        let adobe = JPEG.segment(0xEE, Array("Adobe".utf8) + [0, 100, 0, 0, 0, 0, 2])
        let input = JPEG.file([JPEG.jfif(thumbnail: (width: 1, height: 1)), adobe] + JPEG.tables(frame: 0xC0))
        let scrubbed = try MetadataScrubber.scrub(input)
        #expect(scrubbed.removed == [.thumbnail])
        let segments = JPEG.segments(scrubbed.bytes)
        #expect(segments[0].bytes == JPEG.jfif(thumbnail: nil))
        #expect(segments[0].bytes.count == 18)
        #expect(segments[1].bytes == adobe)
    }

    @Test func brokenJPEGsThrowTheRightError() {
        let tables = JPEG.tables(frame: 0xC0)
        for length: UInt8 in [0, 1] {
            let zero = JPEG.file([[0xFF, 0xE1, 0x00, length]] + tables)
            #expect(throws: MetadataError.malformed(.jpeg, "segment FF E1 at byte 2 has length \(length)")) {
                try MetadataScrubber.scrub(zero)
            }
        }
        let pastTheEnd: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00] + Array("Exif\0\0".utf8)
        #expect(throws: MetadataError.truncated(.jpeg)) { try MetadataScrubber.scrub(pastTheEnd) }

        let withoutEOI = Array(JPEG.file(tables).dropLast(2))
        #expect(throws: MetadataError.truncated(.jpeg)) { try MetadataScrubber.scrub(withoutEOI) }
        #expect(throws: MetadataError.truncated(.jpeg)) { try MetadataScrubber.scrub([0xFF, 0xD8, 0xFF]) }

        let notAMarker = [0xFF, 0xD8] + JPEG.segment(0xDB, [0, 1]) + [0x12, 0x34]
        #expect(throws: MetadataError.self) { try MetadataScrubber.scrub(notAMarker) }
    }

    @Test func exifLoopsAndHugeEntryCountsThrowWithoutTrapping() {
        // IFD0's next-IFD offset points back to IFD0.
        var loop = TIFF.block(ifd0: [.short(0x0112, 6)])
        loop.replaceSubrange((loop.count - 4)..<loop.count, with: [8, 0, 0, 0])
        #expect(throws: MetadataError.malformed(.jpeg, "EXIF IFDs point back to each other")) {
            try MetadataScrubber.scrub(JPEG.file([JPEG.exif(loop)] + JPEG.tables(frame: 0xC0)))
        }
        // The Exif sub-IFD pointer points at IFD0.
        let selfPointing = TIFF.block(ifd0: [.long(0x8769, 8)])
        #expect(throws: MetadataError.malformed(.png, "EXIF IFDs point back to each other")) {
            try MetadataScrubber.scrub(PNG.file([PNG.chunk("eXIf", selfPointing), PNG.idat]))
        }
        let huge: [UInt8] =
            [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0xFF, 0xFF] + Array(repeating: 0, count: 9)
        #expect(throws: MetadataError.malformed(.jpeg, "an EXIF IFD claims 65535 entries")) {
            try MetadataScrubber.scrub(JPEG.file([JPEG.exif(huge)] + JPEG.tables(frame: 0xC0)))
        }
        let cutShort: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x10, 0x01, 0x12]
        #expect(throws: MetadataError.malformed(.webp, "an EXIF IFD runs past the end of the block")) {
            try MetadataScrubber.scrub(
                WebP.extended(flags: 0x08, [WebP.chunk("VP8 ", [1, 2, 3]), WebP.chunk("EXIF", cutShort)]))
        }
        let farAway: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0xFF, 0xFF, 0xFF, 0x7F]
        #expect(throws: MetadataError.malformed(.jpeg, "EXIF IFD0 lies outside the block")) {
            try MetadataScrubber.scrub(JPEG.file([JPEG.exif(farAway)] + JPEG.tables(frame: 0xC0)))
        }
    }

    // MARK: PNG

    @Test func pngKeepsImageAndColourChunksAndAFreshExif() throws {
        let iccp = PNG.chunk("iCCP", Array("icc\0\0".utf8) + [0x78, 0x9C, 1, 2, 3])
        let exif = TIFF.block(ifd0: [.short(0x0112, 6), .long(0x8825, 0), .ascii(0x0110, "X")])
        let input = PNG.file(
            [
                PNG.chunk("tEXt", Array("Comment\0hello".utf8)),
                PNG.chunk("zTXt", Array("Raw profile type exif\0\0".utf8) + [0x78, 0x9C]),
                PNG.chunk("iTXt", Array("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>".utf8)),
                iccp,
                PNG.chunk("eXIf", exif),
                PNG.chunk("tIME", [0x07, 0xE8, 1, 2, 3, 4, 5]),
                PNG.chunk("pHYs", [0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]),
                PNG.idat,
            ],
            trailing: Array("appended".utf8))
        let scrubbed = try MetadataScrubber.scrub(input)
        #expect(scrubbed.container == .png)
        #expect(scrubbed.orientation == 6)
        #expect(scrubbed.removed == [.text, .xmp, .exif, .gps, .cameraMake, .other, .extraImages])

        let chunks = PNG.chunks(scrubbed.bytes)
        #expect(chunks.map(\.type) == ["IHDR", "iCCP", "pHYs", "eXIf", "IDAT", "IEND"])
        #expect(chunks[1].bytes == iccp)
        #expect(chunks[4].bytes == PNG.idat)
        let newExif = chunks[3].bytes
        #expect(Array(newExif.suffix(4)) == PNG.bigEndian(CRC.checksum(Array(newExif.dropFirst(4).dropLast(4)))))
        #expect(Array(newExif.dropFirst(8).prefix(4)) == [0x49, 0x49, 0x2A, 0x00])

        let again = try MetadataScrubber.scrub(scrubbed.bytes)
        #expect(again.bytes == scrubbed.bytes)
        #expect(again.removed.isEmpty)
    }

    @Test func theTestsOwnCRCAgreesWithPNG() {
        #expect(CRC.checksum(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(PNG.chunk("IEND", []) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    @Test func pngWithoutExifGainsNone() throws {
        let input = PNG.file([PNG.chunk("tEXt", Array("Author\0Ann".utf8)), PNG.idat])
        let scrubbed = try MetadataScrubber.scrub(input)
        #expect(PNG.chunks(scrubbed.bytes).map(\.type) == ["IHDR", "IDAT", "IEND"])
        #expect(scrubbed.removed == [.text])
        #expect(scrubbed.orientation == 1)
    }

    @Test func brokenPNGsThrowTheRightError() {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        #expect(throws: MetadataError.malformed(.png, "the first chunk is not IHDR")) {
            try MetadataScrubber.scrub(signature + PNG.idat + PNG.chunk("IEND", []))
        }
        #expect(throws: MetadataError.malformed(.png, "a chunk at byte 8 claims 2147483648 bytes")) {
            try MetadataScrubber.scrub(
                signature + [0x80, 0, 0, 0] + Array("IHDR".utf8) + Array(repeating: 0, count: 9))
        }
        #expect(throws: MetadataError.truncated(.png)) {
            try MetadataScrubber.scrub(
                signature + [0, 0, 0x10, 0] + Array("IHDR".utf8) + Array(repeating: 0, count: 9))
        }
        let withoutIEND = Array(PNG.file([PNG.idat]).dropLast(12))
        #expect(throws: MetadataError.truncated(.png)) { try MetadataScrubber.scrub(withoutIEND) }
        #expect(throws: MetadataError.truncated(.png)) { try MetadataScrubber.scrub(signature) }
    }

    // MARK: WebP

    @Test func extendedWebPLosesExifAndXMPAndGetsItsFlagsAndSizeRewritten() throws {
        let icc = WebP.chunk("ICCP", [1, 2, 3, 4, 5])
        let image = WebP.chunk("VP8 ", [9, 8, 7])
        let exif = Array("Exif\0\0".utf8) + TIFF.block(ifd0: [.short(0x0112, 3), .ascii(0x010F, "TestPhone")])
        let input =
            WebP.extended(
                flags: 0x20 | 0x08 | 0x04,
                [
                    icc, image, WebP.chunk("EXIF", exif), WebP.chunk("XMP ", Array("<x:xmpmeta/>".utf8)),
                    WebP.chunk("ABCD", [0]),
                ])
            + Array("trailing".utf8)
        let scrubbed = try MetadataScrubber.scrub(input)
        #expect(scrubbed.container == .webp)
        #expect(scrubbed.orientation == 3)
        #expect(scrubbed.removed == [.exif, .cameraMake, .xmp, .other, .extraImages])

        let chunks = WebP.chunks(scrubbed.bytes)
        #expect(chunks.map(\.fourCC) == ["VP8X", "ICCP", "VP8 ", "EXIF"])
        #expect(chunks[0].payload.first == 0x28)
        #expect(chunks[1].bytes == icc)
        #expect(chunks[2].bytes == image)
        #expect(chunks[3].payload.starts(with: [0x49, 0x49, 0x2A, 0x00]))
        #expect(WebP.riffSize(scrubbed.bytes) == scrubbed.bytes.count - 8)

        let makeOnly = WebP.chunk("EXIF", TIFF.block(ifd0: [.ascii(0x010F, "X")]))
        let upright = WebP.extended(flags: 0x20 | 0x08, [icc, image, makeOnly])
        let withoutExif = try MetadataScrubber.scrub(upright)
        #expect(WebP.chunks(withoutExif.bytes).map(\.fourCC) == ["VP8X", "ICCP", "VP8 "])
        #expect(WebP.chunks(withoutExif.bytes).first?.payload.first == 0x20)
        #expect(WebP.riffSize(withoutExif.bytes) == withoutExif.bytes.count - 8)
    }

    @Test func simpleWebPStaysAsItWasUpToItsRIFFSize() throws {
        let simple = WebP.file([WebP.chunk("VP8L", [0x2F, 1, 2, 3, 4])])
        let scrubbed = try MetadataScrubber.scrub(simple)
        #expect(scrubbed.bytes == simple)
        #expect(scrubbed.removed.isEmpty)

        let appended = try MetadataScrubber.scrub(simple + [0xFF, 0xD8, 0xFF])
        #expect(appended.bytes == simple)
        #expect(appended.removed == [.extraImages])
    }

    @Test func brokenWebPsThrowTheRightError() {
        var cut = WebP.file([WebP.chunk("VP8 ", [1, 2, 3, 4])])
        cut.removeLast(3)
        #expect(throws: MetadataError.truncated(.webp)) { try MetadataScrubber.scrub(cut) }
        #expect(throws: MetadataError.malformed(.webp, "the first chunk is not VP8, VP8L or VP8X")) {
            try MetadataScrubber.scrub(WebP.file([WebP.chunk("EXIF", [0, 0])]))
        }
        #expect(throws: MetadataError.malformed(.webp, "the RIFF holds no chunks")) {
            try MetadataScrubber.scrub(WebP.file([]))
        }
        let oversized =
            Array("RIFF".utf8) + [16, 0, 0, 0] + Array("WEBP".utf8) + Array("VP8 ".utf8)
            + [0xFF, 0xFF, 0, 0] + [0, 0, 0, 0]
        #expect(throws: MetadataError.truncated(.webp)) { try MetadataScrubber.scrub(oversized) }
    }

    // MARK: Every container

    @Test func scrubbingTwiceChangesNothingMore() throws {
        let everything = TIFF.block(ifd0: Self.revealingIFD0 + [.ascii(0x8298, "Me")], exifIFD: Self.revealingExifIFD)
        let bigEndian = TIFF.block(bigEndian: true, ifd0: [.short(0x0112, 8), .ascii(0x013B, "Ann")])
        let inputs = [
            JPEG.file([JPEG.exif(everything), JPEG.icc] + JPEG.tables(frame: 0xC2)),
            JPEG.file([JPEG.segment(0xFE, [1]), JPEG.jfif(thumbnail: (1, 1))] + JPEG.tables(frame: 0xC0)),
            PNG.file([PNG.chunk("eXIf", bigEndian), PNG.idat]),
            WebP.extended(
                flags: 0x0C, [WebP.chunk("VP8L", [1]), WebP.chunk("EXIF", TIFF.block(ifd0: [.short(0x0112, 2)]))]),
        ]
        for input in inputs {
            for keeping in [[], Set(KeptMetadata.allCases)] {
                let once = try MetadataScrubber.scrub(input, keeping: keeping)
                let twice = try MetadataScrubber.scrub(once.bytes, keeping: keeping)
                #expect(twice.bytes == once.bytes)
                #expect(twice.removed.isEmpty)
                #expect(twice.orientation == once.orientation)
                #expect(once.bytes.count <= input.count + 512)
            }
        }
    }

    @Test func containersAreToldApartByTheirFirstBytes() {
        #expect(MetadataScrubber.container(of: [0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(MetadataScrubber.container(of: PNG.file([])) == .png)
        #expect(MetadataScrubber.container(of: WebP.file([])) == .webp)
        #expect(MetadataScrubber.container(of: Array("RIFF\0\0\0\0WAVE".utf8)) == nil)
        #expect(MetadataScrubber.container(of: [0xFF, 0xD8]) == nil)
        #expect(MetadataScrubber.container(of: []) == nil)
        #expect(throws: MetadataError.unsupportedContainer) { try MetadataScrubber.scrub(Array("GIF89a".utf8)) }
        #expect(throws: MetadataError.unsupportedContainer) { try MetadataScrubber.scrub([]) }
    }

    @Test func errorsDescribeThemselves() {
        #expect(MetadataError.unsupportedContainer.description == "not a JPEG, PNG or WebP file")
        #expect(MetadataError.truncated(.webp).description == "the WebP file is cut short")
        #expect(
            MetadataError.malformed(.png, "the first chunk is not IHDR").description
                == "malformed PNG file: the first chunk is not IHDR")
    }

    // MARK: Fixtures

    static let revealingIFD0: [TIFF.Entry] = [
        .ascii(0x010F, "TestPhone"), .ascii(0x0110, "X"), .short(0x0112, 6), .long(0x8825, 0), .ascii(0xC62F, "C1"),
    ]
    static let revealingExifIFD: [TIFF.Entry] = [
        .ascii(0xA431, "123"), .ascii(0xA435, "L9"), .undefined(0x927C, Array("maker secrets".utf8)),
    ]
}

/// Assembles and takes apart JPEG files.
enum JPEG {
    static let icc = segment(0xE2, Array("ICC_PROFILE\0".utf8) + [1, 1] + Array("not really a profile".utf8))

    static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
    }

    static func exif(_ tiff: [UInt8]) -> [UInt8] {
        segment(0xE1, Array("Exif\0\0".utf8) + tiff)
    }

    static func jfif(thumbnail: (width: UInt8, height: UInt8)?) -> [UInt8] {
        let size: [UInt8] = thumbnail.map { [$0.width, $0.height] } ?? [0, 0]
        let pixels = [UInt8](repeating: 0x80, count: 3 * Int(size[0]) * Int(size[1]))
        return segment(0xE0, Array("JFIF\0".utf8) + [1, 2, 1, 0, 72, 0, 72] + size + pixels)
    }

    /// A quantisation table, a frame header of type `frame`, a Huffman table and a scan header.
    static func tables(frame: UInt8) -> [[UInt8]] {
        [
            segment(0xDB, [0] + [UInt8](repeating: 1, count: 64)),
            segment(frame, [8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
            segment(0xC4, [0] + [UInt8](repeating: 0, count: 15) + [1, 0]),
            segment(0xDA, [1, 1, 0, 0, 63, 0]),
        ]
    }

    /// SOI, `segments` (ending in a scan header), entropy-coded data with stuffed bytes and restart markers,
    /// `afterScan`, EOI, then `trailing`.
    static func file(_ segments: [[UInt8]], afterScan: [UInt8] = [], trailing: [UInt8] = []) -> [UInt8] {
        [0xFF, 0xD8] + segments.joined() + [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD7, 0x01] + afterScan
            + [0xFF, 0xD9] + trailing
    }

    /// The segments of a well-formed file after SOI, each with its marker and length, EOI last.
    static func segments(_ bytes: [UInt8]) -> [(marker: UInt8, bytes: [UInt8], payload: [UInt8])] {
        var found: [(marker: UInt8, bytes: [UInt8], payload: [UInt8])] = []
        var position = 2
        while position + 1 < bytes.count {
            let marker = bytes[position + 1]
            if marker == 0xD9 {
                found.append((marker, [0xFF, 0xD9], []))
                break
            }
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let end = position + 2 + length
            found.append((marker, Array(bytes[position..<end]), Array(bytes[(position + 4)..<end])))
            position += 2 + length
            if marker == 0xDA {
                while bytes[position] != 0xFF || bytes[position + 1] == 0 || 0xD0...0xD7 ~= bytes[position + 1] {
                    position += 1
                }
            }
        }
        return found
    }

    /// Everything from the first scan header to EOI.
    static func fromFirstScan(_ bytes: [UInt8]) -> [UInt8] {
        let start = bytes.indices.first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA } ?? bytes.count
        return Array(bytes[start...])
    }
}

/// Assembles and takes apart PNG files.
enum PNG {
    static let idat = chunk("IDAT", [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01])

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(CRC.checksum(typed))
    }

    /// The signature, IHDR, `chunks`, IEND, then `trailing`.
    static func file(_ chunks: [[UInt8]], trailing: [UInt8] = []) -> [UInt8] {
        let header = chunk("IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        return signature + header + chunks.joined() + chunk("IEND", []) + trailing
    }

    static func chunks(_ bytes: [UInt8]) -> [(type: String, bytes: [UInt8])] {
        var found: [(type: String, bytes: [UInt8])] = []
        var position = 8
        while position + 12 <= bytes.count {
            let length = bytes[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            found.append((type, Array(bytes[position..<(position + 12 + length)])))
            position += 12 + length
        }
        return found
    }
}

/// Assembles and takes apart WebP files.
enum WebP {
    static func littleEndian(_ value: Int) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24 & 0xFF)]
    }

    static func chunk(_ fourCC: String, _ payload: [UInt8]) -> [UInt8] {
        Array(fourCC.utf8) + littleEndian(payload.count) + payload + (payload.count % 2 == 1 ? [0] : [])
    }

    static func file(_ chunks: [[UInt8]]) -> [UInt8] {
        let body = Array("WEBP".utf8) + chunks.joined()
        return Array("RIFF".utf8) + littleEndian(body.count) + body
    }

    /// A VP8X file with `flags`, a 16 by 16 canvas, and `chunks`.
    static func extended(flags: UInt8, _ chunks: [[UInt8]]) -> [UInt8] {
        file([chunk("VP8X", [flags, 0, 0, 0, 15, 0, 0, 15, 0, 0])] + chunks)
    }

    static func riffSize(_ bytes: [UInt8]) -> Int {
        bytes[4..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    static func chunks(_ bytes: [UInt8]) -> [(fourCC: String, bytes: [UInt8], payload: [UInt8])] {
        var found: [(fourCC: String, bytes: [UInt8], payload: [UInt8])] = []
        var position = 12
        while position + 8 <= bytes.count {
            let size = bytes[(position + 4)..<(position + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
            let end = position + 8 + size + size % 2
            let fourCC = String(decoding: bytes[position..<(position + 4)], as: UTF8.self)
            found.append((fourCC, Array(bytes[position..<end]), Array(bytes[(position + 8)..<(position + 8 + size)])))
            position = end
        }
        return found
    }
}

/// Assembles TIFF blocks: IFD0, an optional Exif sub-IFD (pointed to from IFD0) and an optional IFD1.
enum TIFF {
    struct Entry: Sendable {
        var tag: UInt16
        var type: UInt16
        var count: Int
        var value: @Sendable (_ bigEndian: Bool) -> [UInt8]

        static func ascii(_ tag: UInt16, _ text: String) -> Entry {
            let bytes = Array(text.utf8) + [0]
            return Entry(tag: tag, type: 2, count: bytes.count) { _ in bytes }
        }

        static func short(_ tag: UInt16, _ value: UInt16) -> Entry {
            Entry(tag: tag, type: 3, count: 1) { TIFF.ordered(value, bigEndian: $0) }
        }

        static func long(_ tag: UInt16, _ value: UInt32) -> Entry {
            Entry(tag: tag, type: 4, count: 1) { TIFF.ordered(value, bigEndian: $0) }
        }

        static func undefined(_ tag: UInt16, _ bytes: [UInt8]) -> Entry {
            Entry(tag: tag, type: 7, count: bytes.count) { _ in bytes }
        }

        static func raw(_ tag: UInt16, type: UInt16, count: Int, value: [UInt8]) -> Entry {
            Entry(tag: tag, type: type, count: count) { _ in value }
        }
    }

    static func ordered<T: FixedWidthInteger>(_ value: T, bigEndian: Bool) -> [UInt8] {
        withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { Array($0) }
    }

    static func block(
        bigEndian: Bool = false, ifd0: [Entry], exifIFD: [Entry]? = nil, ifd1: [Entry]? = nil
    ) -> [UInt8] {
        func size(_ entries: [Entry]) -> Int { 2 + 12 * entries.count + 4 }
        var first = ifd0
        if exifIFD != nil {
            first.append(.long(0x8769, 0))
        }
        let exifAt = 8 + size(first)
        let ifd1At = exifAt + (exifIFD.map(size) ?? 0)
        let dataAt = ifd1At + (ifd1.map(size) ?? 0)
        if exifIFD != nil {
            first[first.count - 1] = .long(0x8769, UInt32(exifAt))
        }
        var data: [UInt8] = []
        func ifd(_ entries: [Entry], next: Int) -> [UInt8] {
            var bytes = ordered(UInt16(entries.count), bigEndian: bigEndian)
            for entry in entries.sorted(by: { $0.tag < $1.tag }) {
                bytes += ordered(entry.tag, bigEndian: bigEndian) + ordered(entry.type, bigEndian: bigEndian)
                bytes += ordered(UInt32(entry.count), bigEndian: bigEndian)
                let value = entry.value(bigEndian)
                if value.count <= 4 {
                    bytes += value + [UInt8](repeating: 0, count: 4 - value.count)
                } else {
                    bytes += ordered(UInt32(dataAt + data.count), bigEndian: bigEndian)
                    data += value
                }
            }
            return bytes + ordered(UInt32(next), bigEndian: bigEndian)
        }
        let header: [UInt8] = bigEndian ? [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8] : [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]
        var block = header + ifd(first, next: ifd1 == nil ? 0 : ifd1At)
        if let exifIFD {
            block += ifd(exifIFD, next: 0)
        }
        if let ifd1 {
            block += ifd(ifd1, next: 0)
        }
        return block + data
    }
}

/// PNG's CRC-32, computed bit by bit, to check the scrubber's table-driven one.
enum CRC {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
        }
        return ~crc
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= count else { return subsequence.isEmpty }
        return (0...(count - subsequence.count)).contains {
            self[$0..<($0 + subsequence.count)].elementsEqual(subsequence)
        }
    }
}
