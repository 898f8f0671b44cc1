// The job server and the load generator in one small executable without libvips, so that the scaling curve
// can be measured on machines where the `gearbox` command's image libraries are not installed (the binary is
// built with the Swift runtime linked in: see bench/scaling.sh).
//
//   scaling-probe server PORT THREADS
//   scaling-probe bench PORT SERVER_PID CLIENTS WORKERS LOOPS SECONDS
import GearmanBench
import GearmanProtocol
import GearmanServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments

func fail(_ message: String) -> Never {
    var bytes = Array((message + "\n").utf8)
    _ = write(STDERR_FILENO, &bytes, bytes.count)
    exit(2)
}

func number(_ index: Int) -> Int {
    guard index < arguments.count, let value = Int(arguments[index]), value >= 0 else {
        fail("scaling-probe: argument \(index) must be a whole number")
    }
    return value
}

switch arguments.count > 1 ? arguments[1] : "" {
case "server":
    var logger = Logger(label: "scaling-probe.server")
    logger.logLevel = .error
    let server = try await GearmanJobServer.bind(
        configuration: GearmanServerConfiguration(host: "127.0.0.1", port: number(2), threads: max(1, number(3))),
        logger: logger)
    // No ServiceGroup here: SIGTERM keeps its default action and ends the probe.
    try await server.run()
case "bench":
    let configuration = BenchConfiguration(
        server: GearmanServerAddress(host: "127.0.0.1", port: number(2)), serverPID: Int32(number(3)),
        clients: max(1, number(4)), workers: max(1, number(5)), inFlight: 64, grabs: 16,
        length: .seconds(Double(max(1, number(7)))), loops: max(1, number(6)))
    let result = try await BenchRunner(configuration: configuration).run()
    print(try result.json())
default:
    fail("usage: scaling-probe server PORT THREADS | bench PORT SERVER_PID CLIENTS WORKERS LOOPS SECONDS")
}
