import NIOCore

/// What coalesces two submissions into one job: the same function and the same unique key, or, for the
/// unique `-`, the same workload bytes. An empty unique never coalesces.
struct UniqueKey: Hashable {
    let function: ObjectIdentifier
    let bytes: ByteBuffer
    let isWorkload: Bool

    init?(function: FunctionQueue, unique: ByteBuffer, workload: ByteBuffer) {
        guard unique.readableBytes > 0 else { return nil }
        self.function = ObjectIdentifier(function)
        if unique.readableBytes == 1, unique.getInteger(at: unique.readerIndex, as: UInt8.self) == UInt8(ascii: "-") {
            bytes = workload
            isWorkload = true
        } else {
            bytes = unique
            isWorkload = false
        }
    }

    init(function: FunctionQueue, unique: ByteBuffer) {
        self.function = ObjectIdentifier(function)
        bytes = unique
        isWorkload = false
    }
}
