import GearmanProtocol
import NIOCore

/// What the engine knows of one connection: a client, a worker, an admin session, or several at once.
final class ConnectionState {
    struct Ability {
        let function: FunctionQueue
        /// CAN_DO_TIMEOUT, in milliseconds.
        var timeout: UInt32?
    }

    let id: ConnectionID
    let host: String
    /// Whether the admin commands that change state are accepted from it (`AdminAccess`).
    var mayChangeState: Bool
    var clientID = "-"
    /// The common name of its verified TLS client certificate, when it presented one.
    var tlsName: String?
    var wantsExceptions = false
    /// In registration order, as `workers` lists them.
    @exclusivity(unchecked) var abilities: [Ability] = []
    @exclusivity(unchecked) var isSleeping = false
    /// Counts PRE_SLEEPs, so that a function's list of sleepers can tell a current entry from a stale one.
    @exclusivity(unchecked) var sleep: UInt64 = 0
    /// The function this client submitted to last.
    var lastFunction: FunctionQueue?
    /// Jobs this connection holds as a worker.
    @exclusivity(unchecked) var runningJobs: [JobHandle: Job] = [:]
    /// Jobs this connection waits on as a client.
    @exclusivity(unchecked) var awaitedJobs: Set<JobHandle> = []

    init(id: ConnectionID, host: String, mayChangeState: Bool) {
        self.id = id
        self.host = host
        self.mayChangeState = mayChangeState
    }

    func ability(for function: FunctionQueue) -> Int? {
        abilities.firstIndex { $0.function === function }
    }
}
