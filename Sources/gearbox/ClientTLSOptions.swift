import ArgumentParser
import GearmanTLS
import NIOSSL

/// TLS to job servers, for every command that connects to them: libgearman's `-S`/`--ssl` with gearmand's
/// names for the files.
struct ClientTLSOptions: ParsableArguments {
    @Flag(name: [.customShort("S"), .customLong("ssl")], help: "Connect to the job servers over TLS.")
    var enabled = false

    @Option(
        name: .customLong("ssl-ca-file"),
        help: ArgumentHelp("Certificates the server's must chain to (default: the system's).", valueName: "path"))
    var caFile: String?

    @Option(
        name: .customLong("ssl-certificate"),
        help: ArgumentHelp("A client certificate, for servers that ask for one.", valueName: "path"))
    var certificate: String?

    @Option(
        name: .customLong("ssl-key"), help: ArgumentHelp("The client certificate's private key.", valueName: "path"))
    var key: String?

    func validate() throws {
        if !enabled, caFile != nil || certificate != nil || key != nil {
            throw ValidationError("--ssl-ca-file, --ssl-certificate and --ssl-key need --ssl")
        }
    }

    /// The TLS context every connection shares, or nil without `--ssl`.
    func context() throws -> NIOSSLContext? {
        guard enabled else { return nil }
        do {
            return try GearmanTLSFiles(caFile: caFile, certificate: certificate, key: key).makeClientContext()
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
