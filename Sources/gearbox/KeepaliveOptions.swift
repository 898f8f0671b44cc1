import ArgumentParser
import GearmanProtocol

/// gearmand's `--keepalive*` flags. Gearbox turns keepalive on by default (a silent peer is found in about
/// 25 seconds); the flags change its timing.
struct KeepaliveOptions: ParsableArguments {
    @Flag(name: .customLong("keepalive"), help: "Accepted for gearmand's sake: keepalive is always on.")
    var enabled = false

    @Option(
        name: .customLong("keepalive-idle"),
        help: ArgumentHelp("Idle seconds before the first probe.", valueName: "seconds"))
    var idle: Int?

    @Option(
        name: .customLong("keepalive-interval"), help: ArgumentHelp("Seconds between probes.", valueName: "seconds"))
    var interval: Int?

    @Option(
        name: .customLong("keepalive-count"),
        help: ArgumentHelp("Unanswered probes after which the peer is gone.", valueName: "count"))
    var count: Int?

    func validate() throws {
        for (name, value, limit) in [("idle", idle, 32767), ("interval", interval, 32767), ("count", count, 127)] {
            if let value, !(1...limit).contains(value) {
                throw ValidationError("--keepalive-\(name) must be between 1 and \(limit)")
            }
        }
    }

    var detection: DeadPeerDetection {
        var detection = DeadPeerDetection.default
        if let idle { detection.idle = .seconds(idle) }
        if let interval { detection.interval = .seconds(interval) }
        if let count { detection.probes = count }
        return detection
    }
}
