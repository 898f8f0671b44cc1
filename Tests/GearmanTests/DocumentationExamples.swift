import Gearman
import NIOCore

/// The README's client and worker examples, compiled so that the documentation cannot drift from the API.
/// Never run: they need a job server.
enum DocumentationExamples {
    static func client() async throws {
        let client = GearmanClient(servers: [GearmanServerAddress("127.0.0.1:4730")!])
        let reversed = try await client.submit("reverse", workload: Array("hello".utf8))
        print(String(buffer: reversed))
        async let a = client.submit("reverse", workload: Array("one".utf8))
        async let b = client.submit("reverse", workload: Array("two".utf8))
        print(String(buffer: try await a), String(buffer: try await b))
        let handle = try await client.submitBackground("reverse", workload: Array("later".utf8), priority: .low)
        print(try await client.status(of: handle).isKnown)
    }

    static func worker() async throws {
        let worker = GearmanWorker(servers: [GearmanServerAddress("127.0.0.1:4730")!], concurrency: 4, clientID: "demo")
        worker.register("reverse") { job in
            try await job.sendStatus(numerator: 1, denominator: 2)
            return ByteBuffer(bytes: job.workload.readableBytesView.reversed())
        }
        try await worker.run()
    }
}
