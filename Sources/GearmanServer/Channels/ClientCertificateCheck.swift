import NIOCore
import NIOSSL
import NIOTLS

/// Sent up a TLS connection's pipeline once its client presented a verified certificate: its common name,
/// which the dashboard shows, and whether `AdminAccess.certificateNames` allows it to change the server's state.
struct ClientCertificateIdentified {
    let commonName: String
    let grantsAdministration: Bool
}

/// Behind the TLS handler: when the handshake completes, looks at the client's certificate (verified against
/// `--ssl-ca-file` by then) and reports its common name. Removes itself.
final class ClientCertificateCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let allowedNames: Set<String>

    init(allowedNames: Set<String>) {
        self.allowedNames = allowedNames
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        context.fireUserInboundEventTriggered(event)
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        let names = certificate?.subjectName.filter { $0.type == .commonName }.map(\.value) ?? []
        if let first = names.first {
            context.fireUserInboundEventTriggered(
                ClientCertificateIdentified(
                    commonName: first, grantsAdministration: names.contains(where: allowedNames.contains)))
        }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
