/// A job handle as the server assigned it, with the server that holds the job.
public struct GearmanJobHandle: Sendable, Hashable, CustomStringConvertible {
    public var handle: String
    public var server: GearmanServerAddress

    public init(handle: String, server: GearmanServerAddress) {
        self.handle = handle
        self.server = server
    }

    public var description: String { handle }
}
