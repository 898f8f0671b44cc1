import GearmanProtocol
import NIOCore

/// How a `GearmanJobServer` listens and behaves; the `gearbox server` flags map onto it one to one.
public struct GearmanServerConfiguration: Sendable {
    /// Address to listen on; `0.0.0.0` or `::` for every interface.
    public var host: String
    /// 0 picks a free port; `GearmanJobServer.localAddress` tells which.
    public var port: Int
    /// Event loops serving connections.
    public var threads: Int
    /// Attempts after which a job whose workers keep failing it is given up; 0 retries forever.
    public var jobRetries: Int
    /// The `<prefix>` in job handles `H:<prefix>:<n>`.
    public var jobHandlePrefix: String
    /// Largest packet body accepted; larger ones get an ERROR and the connection is closed.
    public var maximumPacketSize: Int
    /// What the admin `verbose` command reports.
    public var verbosity: String
    /// How long a graceful shutdown waits for running jobs to finish.
    public var shutdownGracePeriod: TimeAmount
    /// Where background jobs are kept: in memory, or durably, so that they outlive the process.
    public var store: StoreLocation
    /// The server's name and lease among the servers that share its store; used with a shared store only.
    public var storeGroup: StoreGroupConfiguration
    /// TLS for clients and workers, on `port` or on a port of its own; nil serves plaintext only.
    public var tls: GearmanServerTLS?
    /// Who may send the admin commands that change state.
    public var adminAccess: AdminAccess
    /// TCP keepalive and unacknowledged-data limits on every accepted connection.
    public var deadPeerDetection: DeadPeerDetection
    /// gearmand's HTTP protocol on a port of its own (0 picks one); nil serves none.
    public var httpPort: Int?
    /// The largest request body the HTTP protocol accepts; larger ones are answered 413.
    public var httpMaximumBodySize: Int
    /// Where the server's metrics go (`GearmanJobServer.publishMetrics()`); nil records none.
    public var metrics: ServerMetrics?
    /// The functions whose results are kept and answered again without a worker, and the background jobs'
    /// results kept by handle; nil keeps none.
    public var resultCache: ResultCacheConfiguration?
    /// How failed background jobs are tried again.
    public var retryPolicy: RetryPolicy
    /// How long background jobs whose last attempt failed are kept.
    public var deadLetterPolicy: DeadLetterPolicy
    /// Where background jobs' events go (`--webhook`); called on the server's threads, so it must only
    /// hand the event over, never block. With a durable store each event is first written to the store's
    /// outbox, in the transaction of the change it reports, and deleted once `PendingJobEvent.finished` is
    /// called; events not finished are handed over again after a restart. Nil reports none.
    public var jobEvents: (@Sendable (PendingJobEvent) -> Void)?
    /// Connected to the server when it binds, for the operator's dashboard and API.
    public var operatorView: OperatorView?

    public init(
        host: String = "127.0.0.1",
        port: Int = 4730,
        threads: Int = System.coreCount,
        jobRetries: Int = 0,
        jobHandlePrefix: String = GearmanServerConfiguration.defaultHandlePrefix,
        maximumPacketSize: Int = GearmanFrameDecoder.defaultMaximumPacketSize,
        verbosity: String = "ERROR",
        shutdownGracePeriod: TimeAmount = .seconds(10),
        store: StoreLocation = .memory,
        storeGroup: StoreGroupConfiguration = StoreGroupConfiguration(),
        tls: GearmanServerTLS? = nil,
        adminAccess: AdminAccess = .loopback,
        deadPeerDetection: DeadPeerDetection = .default,
        httpPort: Int? = nil,
        httpMaximumBodySize: Int = 16 * 1024 * 1024,
        metrics: ServerMetrics? = nil,
        resultCache: ResultCacheConfiguration? = nil,
        retryPolicy: RetryPolicy = RetryPolicy(),
        deadLetterPolicy: DeadLetterPolicy = DeadLetterPolicy(),
        jobEvents: (@Sendable (PendingJobEvent) -> Void)? = nil,
        operatorView: OperatorView? = nil
    ) {
        self.retryPolicy = retryPolicy
        self.deadLetterPolicy = deadLetterPolicy
        self.jobEvents = jobEvents
        self.operatorView = operatorView
        self.metrics = metrics
        self.resultCache = resultCache
        self.httpPort = httpPort
        self.httpMaximumBodySize = httpMaximumBodySize
        self.host = host
        self.port = port
        self.threads = max(1, threads)
        self.jobRetries = jobRetries
        self.jobHandlePrefix = jobHandlePrefix
        self.maximumPacketSize = maximumPacketSize
        self.verbosity = verbosity
        self.shutdownGracePeriod = shutdownGracePeriod
        self.store = store
        self.storeGroup = storeGroup
        self.tls = tls
        self.adminAccess = adminAccess
        self.deadPeerDetection = deadPeerDetection
    }

    /// The name under which this server's jobs are recorded in a shared store.
    public var storeServerName: String {
        storeGroup.serverName ?? "\(jobHandlePrefix):\(port)"
    }

    /// The host name, as gearmand uses it, cut to what fits a 64-byte handle.
    public static var defaultHandlePrefix: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "gearbox" }
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.isEmpty ? "gearbox" : String(host.prefix(JobHandleFormat.maximumPrefixLength))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
