import NIOCore

extension GearmanSubmitJob {
    /// Decodes SUBMIT_JOB, SUBMIT_JOB_BG and their HIGH and LOW variants: the submissions of every job's
    /// path, decoded without the `GearmanRequest` around them (which `GearmanRequest(packet:)` adds).
    /// The caller has checked the magic and that the type is one of the six.
    public init(plainSubmission packet: GearmanPacket) throws {
        var args = GearmanArgumentReader(packet.body, type: packet.type, expected: 3)
        let function = try args.next()
        let unique = try args.next()
        let priority: GearmanPriority
        let background: Bool
        switch packet.type {
        case .submitJobHigh: (priority, background) = (.high, false)
        case .submitJobHighBackground: (priority, background) = (.high, true)
        case .submitJobLow: (priority, background) = (.low, false)
        case .submitJobLowBackground: (priority, background) = (.low, true)
        case .submitJobBackground: (priority, background) = (.normal, true)
        default: (priority, background) = (.normal, false)
        }
        self.init(function: function, unique: unique, workload: args.rest(), priority: priority, isBackground: background)
    }
}
