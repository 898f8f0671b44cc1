import NIOCore

extension GearmanSubmitJob {
    /// Decodes SUBMIT_JOB, SUBMIT_JOB_BG or one of their HIGH and LOW variants; the caller has checked the
    /// magic and that `packet.type.plainSubmission` is not nil.
    public init(plainSubmission packet: GearmanPacket) throws {
        let (priority, isBackground) = packet.type.plainSubmission ?? (.normal, false)
        let (function, unique, workload) = try packet.plainSubmissionArguments()
        self.init(
            function: function, unique: unique, workload: workload, priority: priority, isBackground: isBackground)
    }
}

extension GearmanPacket {
    /// The function, unique key and workload of a plain submission (a type whose `plainSubmission` is not
    /// nil), for a server that takes them without building a `GearmanSubmitJob`.
    public func plainSubmissionArguments() throws -> (function: ByteBuffer, unique: ByteBuffer, workload: ByteBuffer) {
        var args = GearmanArgumentReader(body, type: type, expected: 3)
        let function = try args.next()
        let unique = try args.next()
        return (function, unique, args.rest())
    }
}
