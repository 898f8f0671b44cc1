import NIOCore

extension GearmanSubmitJob {
    /// Decodes SUBMIT_JOB, SUBMIT_JOB_BG or one of their HIGH and LOW variants; the caller has checked the
    /// magic and that `packet.type.plainSubmission` is not nil.
    public init(plainSubmission packet: GearmanPacket) throws {
        let (priority, isBackground) = packet.type.plainSubmission ?? (.normal, false)
        var args = GearmanArgumentReader(packet.body, type: packet.type, expected: 3)
        let function = try args.next()
        let unique = try args.next()
        self.init(function: function, unique: unique, workload: args.rest(), priority: priority, isBackground: isBackground)
    }
}
