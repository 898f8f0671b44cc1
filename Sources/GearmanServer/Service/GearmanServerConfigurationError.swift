/// A `GearmanServerConfiguration` the server cannot run with: `GearmanJobServer.bind` throws it before it
/// opens anything.
public struct GearmanServerConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration's property at fault, as named in Swift (`jobHandlePrefix`).
    public let property: String
    public let reason: String

    public var description: String { "\(property): \(reason)" }
}
