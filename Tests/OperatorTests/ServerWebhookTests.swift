import Foundation
import GearboxHooks
import Gearman
import GearmanServer
import NIOCore
import TestSupport
import Testing

/// `gearbox server --webhook` as a process, with a real receiver: a job that completes and one that fails
/// until it is dead are reported in order, signed with the secret file's key, to every hook that names their
/// function or none.
@Suite struct ServerWebhookTests {
    struct Refusal: Error, CustomStringConvertible {
        var description: String { "no paper left" }
    }

    @Test func backgroundJobsEventsReachTheHooksSignedAndInOrder() async throws {
        let receiver = try WebhookReceiver()
        let listener = try await receiver.listen()
        let folder = try ScratchFolder()
        let secretPath = folder.path + "/hook.key"
        try Data("the hook's key\n".utf8).write(to: URL(fileURLWithPath: secretPath))
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "--retries", "print=1", "--retry-backoff", "1s..1s",
                "--webhook", receiver.url("all"), "--webhook", "print=" + receiver.url("print"),
                "--webhook-secret-file", secretPath,
            ]
        }
        defer { server.stop() }
        let worker = GearmanWorker(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        worker.register("print") { _ in throw Refusal() }
        worker.register("mail") { _ in ByteBuffer(string: "sent") }
        let working = Task { try await worker.run() }
        let client = GearmanClient(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        let mailed = try await client.submitBackground("mail", workload: Array("hello".utf8), unique: "m-1")
        let printed = try await client.submitBackground("print", workload: Array("page".utf8), unique: "p-1")

        try await waitUntil("five events at the hook for every function", timeout: .seconds(30)) {
            receiver.requests(to: "all").count >= 5
        }
        try await waitUntil("four events at the print hook", timeout: .seconds(10)) {
            receiver.requests(to: "print").count >= 4
        }
        let all = try receiver.requests(to: "all").map { try $0.event() }
        let mail = all.filter { $0.function == "mail" }
        #expect(mail.map(\.event) == [.completed])
        #expect(mail.first?.handle == mailed.text)
        #expect(mail.first?.unique == "m-1")
        let print = try receiver.requests(to: "print").map { try $0.event() }
        #expect(print.map(\.event) == [.failed, .retrying, .failed, .dead])
        #expect(print.map(\.attempt) == [1, 1, 2, 2])
        #expect(print.allSatisfy { $0.handle == printed.text && $0.unique == "p-1" })
        #expect(print.first?.error == "no paper left")
        #expect(print[1].retryAt.map { $0 >= print[1].time + 1 } == true, "the retry is due after its backoff")
        #expect(all.filter { $0.function == "print" } == print, "both hooks got the same events, in order")

        for request in receiver.requests {
            let signature = WebhookDelivery.signature(of: request.body, secret: Array("the hook's key".utf8))
            #expect(request.headers["x-gearbox-signature"] == signature, "signed with the file's key, newline cut")
            #expect(request.headers["content-type"] == "application/json")
        }
        let dead = try await adminReply(port: port, "dead print") { _ in true }
        #expect(dead.hasPrefix("\(printed.text)\tprint\t2\tp-1\tno paper left\n"))

        await client.shutdown()
        worker.shutdown()
        _ = try? await working.value
        try await listener.stop()
    }

    /// With a store, an event waits in the store's outbox from the transaction of its change until the hook
    /// has it: one whose receiver was down survives SIGKILL, arrives after the restart, and not again later.
    @Test func anEventThatWaitsForADownReceiverSurvivesSIGKILLWithAStore() async throws {
        let receiver = try WebhookReceiver()
        let folder = try ScratchFolder()
        let arguments = ["--store", "sqlite:\(folder.store)", "--webhook", receiver.url("all")]
        func start() async throws -> (process: ChildProcess, port: Int) {
            try await startJobServer(try gearboxBinary()) { ["server", "--port", "\($0)"] + arguments }
        }
        var (server, port) = try await start()
        let worker = GearmanWorker(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        worker.register("mail") { _ in ByteBuffer(string: "sent") }
        let working = Task { try await worker.run() }
        let client = GearmanClient(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        _ = try await client.submitBackground("mail", workload: Array("one".utf8), unique: "first")
        let status = try await adminReply(port: port, "status", timeout: .seconds(20)) { $0.contains("mail\t0\t0\t1") }
        #expect(status.contains("mail\t0\t0\t1"), "the job completed: \(status)")
        let store = try await adminReply(port: port, "show store", timeout: .seconds(20)) {
            $0.contains("unwritten\t0\n")
        }
        #expect(store.contains("unwritten\t0\n"), "the store committed the job's end and its event: \(store)")
        await client.shutdown()
        worker.shutdown()
        _ = try? await working.value
        server.signal(SIGKILL)
        _ = try await server.wait(timeout: .seconds(10))

        let listener = try await receiver.listen()
        (server, port) = try await start()
        try await waitUntil("the event kept across SIGKILL", timeout: .seconds(30)) {
            receiver.requests.contains { (try? $0.event())?.unique == "first" }
        }
        server.signal(SIGTERM)
        _ = try await server.wait(timeout: .seconds(20))

        // Started again, the server has nothing left to send: the next event arrives first, and alone.
        (server, port) = try await start()
        defer { server.stop() }
        let secondWorker = GearmanWorker(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        secondWorker.register("mail") { _ in ByteBuffer(string: "sent") }
        let secondWorking = Task { try await secondWorker.run() }
        let secondClient = GearmanClient(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        _ = try await secondClient.submitBackground("mail", workload: Array("two".utf8), unique: "second")
        try await waitUntil("the second job's event", timeout: .seconds(30)) {
            receiver.requests.contains { (try? $0.event())?.unique == "second" }
        }
        let uniques = receiver.requests.compactMap { try? $0.event().unique }
        #expect(uniques == ["first", "second"], "the first event was delivered once, before the second")
        await secondClient.shutdown()
        secondWorker.shutdown()
        _ = try? await secondWorking.value
        try await listener.stop()
    }
}
