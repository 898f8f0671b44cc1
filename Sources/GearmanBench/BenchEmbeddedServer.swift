/// Runs the job server that a run measures when its configuration names none. The load generator knows no
/// server of its own: the `gearbox` command passes Gearbox's (`gearbox bench` without `--server`).
public struct BenchEmbeddedServer: Sendable {
    /// Runs `body` with a server of this many event loops listening on a free port of 127.0.0.1 (the port is
    /// `body`'s argument), and stops the server once `body` returns or throws.
    public var serve:
        @Sendable (_ threads: Int, _ body: (_ port: Int) async throws -> BenchResult) async throws -> BenchResult

    public init(
        serve:
            @escaping @Sendable (_ threads: Int, _ body: (_ port: Int) async throws -> BenchResult) async throws ->
            BenchResult
    ) {
        self.serve = serve
    }
}
