/// Gearbox's version, and the one it reports to Gearman peers: gearmand's protocol version with Gearbox's
/// own as build metadata, so that scripts that parse the leading `1.1.20` keep working.
public enum GearboxVersion {
    public static let gearbox = "0.1.0"
    public static let protocolVersion = "1.1.20+gearbox.\(gearbox)"
}
