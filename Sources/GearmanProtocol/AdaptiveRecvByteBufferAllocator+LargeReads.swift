import NIOCore

extension AdaptiveRecvByteBufferAllocator {
    /// For connections that carry photographs: reads grow up to 1 MiB (NIO's default stops at 64 KiB) while
    /// they keep filling the buffer, and shrink back when they do not. A 1.4 MB photo then arrives in a few
    /// reads instead of 23: on the HTTP port that took the job server's CPU per photo from 2.6 ms to 1.5 ms
    /// (bench/service.sh's workload, the server measured alone).
    public static let largeReads = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20)
}
