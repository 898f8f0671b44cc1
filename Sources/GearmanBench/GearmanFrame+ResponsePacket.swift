import GearmanProtocol

extension GearmanFrame {
    /// The packet of a frame from a server, which never sends admin text unasked.
    var responsePacket: GearmanPacket {
        get throws {
            guard case .packet(let packet) = self else { throw GearmanProtocolError.invalidMagic(0) }
            return packet
        }
    }
}
