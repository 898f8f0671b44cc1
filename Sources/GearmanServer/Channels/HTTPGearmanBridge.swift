import GearmanProtocol
import NIOCore
import NIOHTTP1

/// gearmand's HTTP protocol (`-r http`): each request is a job on the function its path names, and the
/// answer is its result. It sits between NIO's HTTP server codec and an ordinary `ServerConnectionHandler`,
/// so that to the engine an HTTP connection is one more Gearman client: requests become SUBMIT_JOB packets
/// read in, and the packets the engine writes back become HTTP responses.
///
/// As gearmand: `POST /reverse` (or GET, PUT, HEAD) with the workload as body; `X-Gearman-Unique`,
/// `X-Gearman-Priority: high|low` and `X-Gearman-Background: true`; the answer carries
/// `X-Gearman-Job-Handle` and `X-Gearman-Command`. Beyond gearmand: HTTP/1.1 keep-alive, WORK_DATA streamed
/// as a chunked body, WORK_FAIL and WORK_EXCEPTION answered 500 with the reason, an ERROR (a full queue)
/// 503, and a body larger than `maximumBodySize` refused with 413.
final class HTTPGearmanBridge: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Reading a request's body.
        case reading(Request)
        /// The body was too large: the rest of it is dropped and the connection closed.
        case refusing
        /// The job was submitted; waiting for its answer.
        case waiting(Request, handle: ByteBuffer?)
        /// WORK_DATA has started a chunked body.
        case streaming(Request, handle: ByteBuffer)
    }

    private struct Request {
        var head: HTTPRequestHead
        var function: String
        var unique: String
        var priority: GearmanPriority
        var isBackground: Bool
        var body: ByteBuffer
        var keepAlive: Bool { head.isKeepAlive }
    }

    private let maximumBodySize: Int
    private var state = State.idle
    private var reader: GearmanFrameReader

    init(maximumBodySize: Int, maximumPacketSize: Int) {
        self.maximumBodySize = maximumBodySize
        reader = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: maximumPacketSize))
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        // WORK_EXCEPTION carries the reason a job failed; the engine sends it only to clients that ask.
        var option = context.channel.allocator.buffer(capacity: 32)
        GearmanRequest.option(ByteBuffer(string: "exceptions")).encode(into: &option)
        context.fireChannelRead(wrapInboundOut(option))
        context.fireChannelReadComplete()
    }

    // MARK: Requests in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            startRequest(head, context: context)
        case (.body(var chunk), .reading(var request)):
            guard request.body.readableBytes + chunk.readableBytes <= maximumBodySize else {
                refuseTooLarge(request.head, context: context)
                return
            }
            state = .idle  // the body is then this handler's only reference, and grows without being copied
            request.body.writeBuffer(&chunk)
            state = .reading(request)
        case (.end, .reading(let request)):
            submit(request, context: context)
        case (.end, .refusing):
            context.close(promise: nil)
        case (.body, .refusing):
            break
        default:
            // NIO's pipelining handler holds a second request back until the first is answered.
            context.close(promise: nil)
        }
    }

    private func startRequest(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        while path.hasPrefix("/") { path.removeFirst() }
        guard [.GET, .POST, .PUT, .HEAD].contains(head.method) else {
            respond(
                head, status: .methodNotAllowed, reason: "use POST /FUNCTION with the workload as body",
                context: context)
            state = .refusing
            return
        }
        guard !path.isEmpty, path.utf8.count <= 512 else {
            respond(head, status: .notFound, reason: "name the function in the path: POST /FUNCTION", context: context)
            state = .refusing
            return
        }
        let announced = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        if announced > maximumBodySize {
            refuseTooLarge(head, context: context)
            return
        }
        let priority: GearmanPriority
        switch head.headers.first(name: "x-gearman-priority")?.lowercased() {
        case "high": priority = .high
        case "low": priority = .low
        default: priority = .normal
        }
        // A body's buffer is reserved for what Content-Length announces, at most as much ahead of the bytes as
        // a frame's (a header alone must not make the server reserve much), so a photo grows in one piece.
        let reservation = min(max(0, announced), GearmanFrameReader.largestReservation)
        state = .reading(
            Request(
                head: head, function: path.removingPercentEncoding,
                unique: head.headers.first(name: "x-gearman-unique") ?? "",
                priority: priority,
                isBackground: head.headers.first(name: "x-gearman-background")?.lowercased() == "true",
                body: context.channel.allocator.buffer(capacity: reservation)))
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var closing = head
        closing.headers.replaceOrAdd(name: "connection", value: "close")
        respond(
            closing, status: .payloadTooLarge, reason: "the body is larger than \(maximumBodySize) bytes",
            context: context)
        state = .refusing
    }

    private func submit(_ request: Request, context: ChannelHandlerContext) {
        let job = GearmanSubmitJob(
            function: ByteBuffer(string: request.function), unique: ByteBuffer(string: request.unique),
            workload: request.body, priority: request.priority, isBackground: request.isBackground)
        var packet = context.channel.allocator.buffer(
            capacity: request.body.readableBytes + request.function.utf8.count + 32)
        GearmanRequest.submitJob(job).encode(into: &packet)
        state = .waiting(request, handle: nil)
        context.fireChannelRead(wrapInboundOut(packet))
    }

    // MARK: Answers out

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            try reader.read(unwrapOutboundIn(data), allocator: context.channel.allocator) { frame in
                guard case .packet(let packet) = frame, let response = try? GearmanResponse(packet: packet) else {
                    return
                }
                answer(response, context: context)
            }
        } catch {
            context.close(promise: nil)
        }
        promise?.succeed()
    }

    private func answer(_ response: GearmanResponse, context: ChannelHandlerContext) {
        switch (response, state) {
        case (.jobCreated(let handle), .waiting(let request, _)):
            if request.isBackground {
                finish(request, handle: handle, command: "JOB_CREATED", body: nil, context: context)
            } else {
                state = .waiting(request, handle: handle)
            }
        case (.workData(let handle, let data), .waiting(let request, _)):
            var head = responseHead(for: request, status: .ok, handle: handle, command: "WORK_DATA")
            head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if request.head.method != .HEAD, data.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(data))), promise: nil)
            }
            state = .streaming(request, handle: handle)
        case (.workData(_, let data), .streaming(let request, _)):
            if request.head.method != .HEAD, data.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(data))), promise: nil)
            }
        case (.workComplete(let handle, let data), .waiting(let request, _)):
            finish(request, handle: handle, command: "WORK_COMPLETE", body: data, context: context)
        case (.workComplete(_, let data), .streaming(let request, _)):
            if request.head.method != .HEAD, data.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(data))), promise: nil)
            }
            end(request, context: context)
        case (.workFail(let handle), .waiting(let request, _)):
            fail(request, handle: handle, command: "WORK_FAIL", reason: "the job failed", context: context)
        case (.workException(let handle, let data), .waiting(let request, _)):
            fail(request, handle: handle, command: "WORK_EXCEPTION", reason: String(buffer: data), context: context)
        case (.error(let code, let message), .waiting(let request, _)):
            var head = responseHead(for: request, status: .serviceUnavailable, handle: nil, command: "ERROR")
            head.headers.add(name: "x-gearman-error", value: code)
            send(head, body: ByteBuffer(string: "\(code): \(message)\n"), request: request, context: context)
        case (.workFail, .streaming), (.workException, .streaming), (.error, .streaming):
            // The status line went out with the first WORK_DATA: a body cut short is how the failure shows.
            context.close(promise: nil)
        default:
            break  // OPTION_RES, WORK_STATUS, WORK_WARNING: nothing to tell.
        }
    }

    private func finish(
        _ request: Request, handle: ByteBuffer, command: String, body: ByteBuffer?, context: ChannelHandlerContext
    ) {
        let head = responseHead(for: request, status: .ok, handle: handle, command: command)
        send(head, body: body, request: request, context: context)
    }

    private func fail(
        _ request: Request, handle: ByteBuffer, command: String, reason: String, context: ChannelHandlerContext
    ) {
        let head = responseHead(for: request, status: .internalServerError, handle: handle, command: command)
        send(head, body: ByteBuffer(string: reason + "\n"), request: request, context: context)
    }

    private func send(_ head: HTTPResponseHead, body: ByteBuffer?, request: Request, context: ChannelHandlerContext) {
        var head = head
        head.headers.replaceOrAdd(name: "content-length", value: "\(body?.readableBytes ?? 0)")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0, request.head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        end(request, context: context)
    }

    private func end(_ request: Request, context: ChannelHandlerContext) {
        state = .idle
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !request.keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func responseHead(for request: Request, status: HTTPResponseStatus, handle: ByteBuffer?, command: String)
        -> HTTPResponseHead
    {
        var headers = HTTPHeaders()
        if let handle {
            headers.add(name: "X-Gearman-Job-Handle", value: String(buffer: handle))
        }
        headers.add(name: "X-Gearman-Command", value: command)
        headers.add(name: "Server", value: "Gearbox/\(GearboxVersion.gearbox)")
        if !request.keepAlive {
            headers.add(name: "Connection", value: "close")
        }
        return HTTPResponseHead(version: request.head.version, status: status, headers: headers)
    }

    /// A refusal before any job: a short text body saying why.
    private func respond(
        _ head: HTTPRequestHead, status: HTTPResponseStatus, reason: String, context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(reason.utf8.count + 1)")
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reason + "\n")))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension HTTPGearmanBridge: Sendable {}

extension String {
    /// `%2F` and the like decoded; the text unchanged when it is not valid percent-encoding.
    fileprivate var removingPercentEncoding: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return self }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
