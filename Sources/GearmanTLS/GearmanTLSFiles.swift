import NIOSSL

/// TLS set up from PEM files, as gearmand and libgearman name them (`--ssl-ca-file`, `--ssl-certificate`,
/// `--ssl-key`), for both ends of a connection.
public struct GearmanTLSFiles: Sendable, Hashable {
    /// Certificates of the authorities a peer's certificate must chain to. A client with none trusts the
    /// system's roots.
    public var caFile: String?
    /// This end's certificate chain: the server's, or a client's when the server asks for one.
    public var certificate: String?
    /// The private key of `certificate`.
    public var key: String?

    public init(caFile: String? = nil, certificate: String? = nil, key: String? = nil) {
        self.caFile = caFile
        self.certificate = certificate
        self.key = key
    }

    /// How a server treats the certificates its clients present.
    public enum ClientCertificates: String, Sendable, Hashable, CaseIterable {
        /// None asked for (gearmand's behaviour).
        case ignored
        /// Checked against `caFile` when a client presents one; clients without one are served.
        case optional
        /// Every client must present one that chains to `caFile`.
        case required
    }

    /// For connecting to a job server: checks the server's certificate against `caFile` (or the system's
    /// roots) and its name or IP address, and presents `certificate` when given.
    public func makeClientContext() throws(GearmanTLSError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            configuration.trustRoots = .file(caFile)
        }
        switch (certificate, key) {
        case (nil, nil):
            break
        case (let certificate?, let key?):
            configuration.certificateChain = try Self.chain(certificate)
            configuration.privateKey = try Self.privateKey(key)
        default:
            throw GearmanTLSError("a client certificate needs its key, and a key its certificate")
        }
        return try Self.context(configuration)
    }

    /// For a job server: presents `certificate` with `key`, and treats clients' certificates as told.
    public func makeServerContext(clientCertificates: ClientCertificates) throws(GearmanTLSError) -> NIOSSLContext {
        guard let certificate, let key else {
            throw GearmanTLSError("a TLS listener needs --ssl-certificate and --ssl-key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try Self.chain(certificate), privateKey: try Self.privateKey(key))
        switch clientCertificates {
        case .ignored:
            configuration.certificateVerification = .none
        case .optional, .required:
            guard let caFile else {
                throw GearmanTLSError("checking client certificates needs --ssl-ca-file")
            }
            configuration.trustRoots = .file(caFile)
            configuration.certificateVerification =
                clientCertificates == .required ? .noHostnameVerification : .optionalVerification
        }
        return try Self.context(configuration)
    }

    private static func chain(_ path: String) throws(GearmanTLSError) -> [NIOSSLCertificateSource] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw GearmanTLSError("\(path) holds no PEM certificate") }
            return certificates.map { .certificate($0) }
        } catch let error as GearmanTLSError {
            throw error
        } catch {
            throw GearmanTLSError("cannot read the certificate \(path): \(error)")
        }
    }

    private static func privateKey(_ path: String) throws(GearmanTLSError) -> NIOSSLPrivateKeySource {
        do {
            return .privateKey(try NIOSSLPrivateKey(file: path, format: .pem))
        } catch {
            throw GearmanTLSError("cannot read the private key \(path): \(error)")
        }
    }

    private static func context(_ configuration: TLSConfiguration) throws(GearmanTLSError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw GearmanTLSError("cannot set up TLS: \(error)")
        }
    }
}
