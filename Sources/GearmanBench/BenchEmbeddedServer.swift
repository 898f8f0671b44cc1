/// Starts the job server that a run measures when its configuration names none. The load generator knows no
/// server of its own: the `gearbox` command passes Gearbox's (`gearbox bench` without `--server`).
public struct BenchEmbeddedServer: Sendable {
    /// A started server: its port on 127.0.0.1, and how to stop it.
    public struct Running: Sendable {
        public var port: Int
        public var stop: @Sendable () async -> Void

        public init(port: Int, stop: @escaping @Sendable () async -> Void) {
            self.port = port
            self.stop = stop
        }
    }

    /// Starts a server with this many event loops, listening on a free port of 127.0.0.1.
    public var start: @Sendable (_ threads: Int) async throws -> Running

    public init(start: @escaping @Sendable (_ threads: Int) async throws -> Running) {
        self.start = start
    }
}
