import ArgumentParser
import GearmanServer
import GearmanTLS

/// TLS for `gearbox server`, with gearmand's flag names: `--ssl` puts TLS on `--port`, as gearmand does;
/// `--ssl-port` adds a TLS listener beside the plaintext one instead.
struct ServerTLSOptions: ParsableArguments {
    @Flag(name: .customLong("ssl"), help: "Serve TLS on --port (gearmand's --ssl).")
    var onMainPort = false

    @Option(
        name: .customLong("ssl-port"),
        help: ArgumentHelp("Serve TLS on this port too, and plaintext on --port.", valueName: "port"))
    var port: Int?

    @Option(
        name: .customLong("ssl-certificate"),
        help: ArgumentHelp("The server's certificate chain (PEM).", valueName: "path"))
    var certificate: String?

    @Option(name: .customLong("ssl-key"), help: ArgumentHelp("The certificate's private key (PEM).", valueName: "path"))
    var key: String?

    @Option(
        name: .customLong("ssl-ca-file"),
        help: ArgumentHelp("Authorities that client certificates must chain to.", valueName: "path"))
    var caFile: String?

    @Flag(
        name: .customLong("ssl-verify-client"),
        help: "Refuse TLS clients without a certificate that chains to --ssl-ca-file.")
    var verifyClient = false

    var enabled: Bool { onMainPort || port != nil }

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--ssl-port must be between 0 and 65535") }
        if onMainPort, port != nil {
            throw ValidationError("give --ssl (TLS on --port) or --ssl-port (TLS beside plaintext), not both")
        }
        if !enabled, certificate != nil || key != nil || caFile != nil || verifyClient {
            throw ValidationError("the --ssl-* options need --ssl or --ssl-port")
        }
        if enabled, certificate == nil || key == nil {
            throw ValidationError("TLS needs --ssl-certificate and --ssl-key")
        }
        if verifyClient, caFile == nil { throw ValidationError("--ssl-verify-client needs --ssl-ca-file") }
    }

    /// The server's TLS, or nil without `--ssl`/`--ssl-port`. Client certificates are asked for when
    /// `--ssl-verify-client` requires them or when some may grant administration.
    func configuration(certificateNamesAllowed: Bool) throws -> GearmanServerTLS? {
        guard enabled else { return nil }
        let files = GearmanTLSFiles(caFile: caFile, certificate: certificate, key: key)
        let clientCertificates: GearmanTLSFiles.ClientCertificates =
            verifyClient ? .required : certificateNamesAllowed ? .optional : .ignored
        do {
            return GearmanServerTLS(
                context: try files.makeServerContext(clientCertificates: clientCertificates), port: port)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
