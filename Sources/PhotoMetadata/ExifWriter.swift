/// Writes the minimal EXIF block a scrubbed photo carries: a little-endian TIFF header and IFD0 alone, with
/// the orientation (when it is not 1) and the kept fields, entries in tag order, no next IFD.
enum ExifWriter {
    /// The block for `contents`, or nil when there is nothing to write.
    static func tiff(for contents: ExifReader.Contents) -> [UInt8]? {
        var entries: [(tag: UInt16, type: UInt16, count: Int, value: [UInt8])] = []
        if contents.orientation != 1, (1...8).contains(contents.orientation) {
            entries.append((0x0112, 3, 1, [UInt8(contents.orientation), 0]))
        }
        for (field, text) in contents.kept {
            entries.append((field.tag, 2, text.count + 1, text + [0]))
        }
        guard !entries.isEmpty else { return nil }
        entries.sort { $0.tag < $1.tag }

        var block: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00]
        append(UInt16(entries.count), to: &block)
        let valuesStart = block.count + 12 * entries.count + 4
        var values: [UInt8] = []
        for entry in entries {
            append(entry.tag, to: &block)
            append(entry.type, to: &block)
            append(UInt32(entry.count), to: &block)
            if entry.value.count <= 4 {
                block += entry.value + [UInt8](repeating: 0, count: 4 - entry.value.count)
            } else {
                append(UInt32(valuesStart + values.count), to: &block)
                values += entry.value
                if values.count % 2 == 1 {
                    values.append(0)
                }
            }
        }
        append(UInt32(0), to: &block)
        return block + values
    }

    private static func append(_ value: some FixedWidthInteger, to block: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { block += $0 }
    }
}
