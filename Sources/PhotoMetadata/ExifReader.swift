/// Reads the little that a scrubbed photo keeps from a TIFF/EXIF block (the orientation and the kept ASCII
/// fields of IFD0) and notes which revealing kinds of metadata the block held.
///
/// Only IFD0, the Exif sub-IFD it points to and the presence of IFD1 are looked at; each is visited at most
/// once, and an IFD with more than `maximumEntryCount` entries, one that runs past the block, or a pointer
/// back to an IFD already visited makes the block malformed.
struct ExifReader {
    /// What a block holds.
    struct Contents: Sendable, Equatable {
        /// The orientation, 1...8; 1 when absent, not a SHORT, or out of range.
        var orientation = 1
        /// The kept fields present, as written back: cut at the first NUL, without the terminator.
        var kept: [KeptMetadata: [UInt8]] = [:]
        /// The revealing kinds of metadata the block held (not including `.exif` itself).
        var found: Set<RemovedMetadata> = []
    }

    static let maximumEntryCount = 1000
    static let maximumKeptValueLength = 4096

    private struct Entry {
        var tag: UInt16
        var type: UInt16
        var count: Int
        /// Where the entry's 4-byte value-or-offset field starts.
        var field: Int
    }

    private enum Tag {
        static let orientation: UInt16 = 0x0112
        static let make: UInt16 = 0x010F
        static let model: UInt16 = 0x0110
        static let exifIFD: UInt16 = 0x8769
        static let gpsIFD: UInt16 = 0x8825
        static let bodySerialNumber: UInt16 = 0xA431
        static let lensSerialNumber: UInt16 = 0xA435
        static let cameraSerialNumber: UInt16 = 0xC62F
        static let makerNote: UInt16 = 0x927C
    }

    private enum FieldType {
        static let ascii: UInt16 = 2
        static let short: UInt16 = 3
        static let long: UInt16 = 4
        static let ifd: UInt16 = 13

        /// The size in bytes of one value of `type`, or nil for a type TIFF does not define.
        static func size(_ type: UInt16) -> Int? {
            switch type {
            case 1, 2, 6, 7: 1
            case 3, 8: 2
            case 4, 9, 11, 13: 4
            case 5, 10, 12: 8
            default: nil
            }
        }
    }

    private let tiff: [UInt8]
    private let isLittleEndian: Bool
    private let container: PhotoContainer
    private var visitedIFDs: Set<Int> = []

    /// The contents of `tiff`, a block starting with its "II*\0" or "MM\0*" header, asking only for the
    /// fields in `keeping`. Errors are reported as belonging to `container`.
    static func read(
        _ tiff: [UInt8], keeping: Set<KeptMetadata>, in container: PhotoContainer
    ) throws(MetadataError) -> Contents {
        guard tiff.count >= 8 else {
            throw .malformed(container, "the EXIF block is shorter than its header")
        }
        let isLittleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): isLittleEndian = true
        case (0x4D, 0x4D): isLittleEndian = false
        default: throw .malformed(container, "the EXIF block names no byte order")
        }
        var reader = ExifReader(tiff: tiff, isLittleEndian: isLittleEndian, container: container)
        return try reader.contents(keeping: keeping)
    }

    private init(tiff: [UInt8], isLittleEndian: Bool, container: PhotoContainer) {
        self.tiff = tiff
        self.isLittleEndian = isLittleEndian
        self.container = container
    }

    private mutating func contents(keeping: Set<KeptMetadata>) throws(MetadataError) -> Contents {
        guard uint16(at: 2) == 42, let firstIFD = uint32(at: 4) else {
            throw .malformed(container, "the EXIF block's header is not TIFF's")
        }
        guard let (entries, nextIFD) = try ifd(at: firstIFD) else {
            throw .malformed(container, "EXIF IFD0 lies outside the block")
        }
        var contents = Contents()
        var exifIFD: Int?
        var valueBudget = max(0, tiff.count - (8 + 2 + 12 * entries.count + 4))
        for entry in entries {
            switch entry.tag {
            case Tag.orientation where entry.type == FieldType.short && entry.count >= 1:
                if let values = valueRange(of: entry), let value = uint16(at: values.lowerBound), 1...8 ~= value {
                    contents.orientation = value
                }
            case Tag.make, Tag.model:
                contents.found.insert(.cameraMake)
            case Tag.gpsIFD:
                contents.found.insert(.gps)
            case Tag.cameraSerialNumber:
                contents.found.insert(.cameraSerial)
            case Tag.exifIFD where (entry.type == FieldType.long || entry.type == FieldType.ifd) && entry.count == 1:
                exifIFD = uint32(at: entry.field)
            default:
                guard let field = KeptMetadata(tag: entry.tag), keeping.contains(field), contents.kept[field] == nil,
                    let value = keptValue(entry)
                else { break }
                // What the written block needs beyond its entries is paid for by what the read one had, so
                // that the copy is never longer than the original.
                let written = value.count + 1
                let cost = written <= 4 ? 0 : written + written % 2
                guard cost <= valueBudget else { break }
                valueBudget -= cost
                contents.kept[field] = value
            }
        }
        if let exifIFD, let (exifEntries, _) = try ifd(at: exifIFD) {
            for entry in exifEntries {
                switch entry.tag {
                case Tag.bodySerialNumber, Tag.lensSerialNumber, Tag.cameraSerialNumber:
                    contents.found.insert(.cameraSerial)
                case Tag.makerNote:
                    contents.found.insert(.makerNote)
                default:
                    break
                }
            }
        }
        if nextIFD != 0, try ifd(at: nextIFD) != nil {
            contents.found.insert(.thumbnail)
        }
        return contents
    }

    /// The entries of the IFD at `offset` and the offset of the next one (0 when none), or nil when `offset`
    /// does not leave room for its entry count.
    private mutating func ifd(at offset: Int) throws(MetadataError) -> (entries: [Entry], next: Int)? {
        guard let count = uint16(at: offset) else { return nil }
        guard visitedIFDs.insert(offset).inserted else {
            throw .malformed(container, "EXIF IFDs point back to each other")
        }
        guard count <= Self.maximumEntryCount else {
            throw .malformed(container, "an EXIF IFD claims \(count) entries")
        }
        let first = offset + 2
        guard first + 12 * count <= tiff.count else {
            throw .malformed(container, "an EXIF IFD runs past the end of the block")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let start = first + 12 * index
            guard let tag = uint16(at: start), let type = uint16(at: start + 2), let valueCount = uint32(at: start + 4)
            else { break }
            entries.append(Entry(tag: UInt16(tag), type: UInt16(type), count: valueCount, field: start + 8))
        }
        return (entries, uint32(at: first + 12 * count) ?? 0)
    }

    /// Where `entry`'s values lie, or nil when they do not lie inside the block.
    private func valueRange(of entry: Entry) -> Range<Int>? {
        guard let size = FieldType.size(entry.type) else { return nil }
        let (length, overflow) = size.multipliedReportingOverflow(by: entry.count)
        guard !overflow else { return nil }
        if length <= 4 {
            return entry.field..<(entry.field + length)
        }
        guard let offset = uint32(at: entry.field), length <= tiff.count, offset <= tiff.count - length else {
            return nil
        }
        return offset..<(offset + length)
    }

    /// An ASCII field's text as it will be kept: up to its first NUL, at most `maximumKeptValueLength`
    /// bytes, without trailing white space; nil when it is not ASCII, empty, or not printable UTF-8.
    private func keptValue(_ entry: Entry) -> [UInt8]? {
        guard entry.type == FieldType.ascii, let range = valueRange(of: entry) else { return nil }
        var value = Array(tiff[range].prefix { $0 != 0 }.prefix(Self.maximumKeptValueLength))
        if value.count == Self.maximumKeptValueLength {
            // The cap may have cut a UTF-8 sequence in two: leave out its first bytes too.
            for _ in 0..<3 where String(validating: value, as: UTF8.self) == nil {
                value.removeLast()
            }
        }
        while let last = value.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D {
            value.removeLast()
        }
        let isControl: (UInt8) -> Bool = { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F }
        guard !value.isEmpty, !value.contains(where: isControl), String(validating: value, as: UTF8.self) != nil else {
            return nil
        }
        return value
    }

    private func uint16(at offset: Int) -> Int? {
        guard offset >= 0, offset <= tiff.count - 2 else { return nil }
        let (first, second) = (Int(tiff[offset]), Int(tiff[offset + 1]))
        return isLittleEndian ? second << 8 | first : first << 8 | second
    }

    private func uint32(at offset: Int) -> Int? {
        guard let first = uint16(at: offset), let second = uint16(at: offset + 2) else { return nil }
        return isLittleEndian ? second << 16 | first : first << 16 | second
    }
}
