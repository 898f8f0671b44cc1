extension Duration {
    /// The whole milliseconds in the duration (sub-millisecond parts dropped), for wire and socket fields.
    package var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
