import NIOCore
import NIOSSL
import NIOTLS

/// Sent up a TLS connection's pipeline once its verified client certificate turned out to be one that
/// `AdminAccess.certificateNames` allows to change the server's state.
struct AdministrationGranted {}

/// Behind the TLS handler: when the handshake completes, looks at the client's certificate (verified against
/// `--ssl-ca-file` by then) and grants administration when its common name is allowed. Removes itself.
final class AdminCertificateCheck: ChannelInboundHandler, RemovableChannelHandler {
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
        if names.contains(where: allowedNames.contains) {
            context.fireUserInboundEventTriggered(AdministrationGranted())
        }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
