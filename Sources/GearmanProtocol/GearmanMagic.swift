/// The four bytes that open every binary packet: `\0REQ` towards a server, `\0RES` from it.
public enum GearmanMagic: UInt32, Sendable {
    case request = 0x0052_4551  // "\0REQ"
    case response = 0x0052_4553  // "\0RES"
}
