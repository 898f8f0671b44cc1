/// A job handle as the server assigned it, with the server that holds the job.
public struct GearmanJobHandle: Sendable, Hashable, CustomStringConvertible {
    /// The handle as the server wrote it: `H:host:42`.
    public var text: String
    public var server: GearmanServerAddress

    public init(_ text: String, server: GearmanServerAddress) {
        self.text = text
        self.server = server
    }

    @available(*, deprecated, renamed: "init(_:server:)")
    public init(handle: String, server: GearmanServerAddress) {
        self.init(handle, server: server)
    }

    @available(*, deprecated, renamed: "text")
    public var handle: String { text }

    public var description: String { text }
}
