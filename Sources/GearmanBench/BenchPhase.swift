import NIOCore

/// One stretch of load for a client connection: until its quota is submitted or its deadline passes, then
/// until every job it has outstanding is answered.
struct BenchPhase: Sendable {
    /// Jobs this connection submits; nil: as many as fit before the deadline.
    var quota: Int?
    var deadline: NIODeadline?
    var background: Bool
    /// Submits per second for this connection; nil: as fast as answers come back.
    var rate: Double?
}

/// What one connection saw during a phase.
struct ConnectionTally: Sendable {
    /// Foreground: WORK_COMPLETE received. Background: JOB_CREATED received.
    var completed = 0
    var submitted = 0
    var errors = 0
    var latency = LatencyRecorder()

    mutating func add(_ other: ConnectionTally) {
        completed += other.completed
        submitted += other.submitted
        errors += other.errors
        latency.add(other.latency)
    }
}
