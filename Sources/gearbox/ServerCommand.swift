import ArgumentParser
import GearboxDashboard
import GearboxHooks
import GearboxMetrics
import GearmanBench
import GearmanProtocol
import GearmanServer
import Logging
import NIOCore
import ServiceLifecycle

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a Gearman job server, wire-compatible with gearmand 1.1.",
        discussion: """
            Any Gearman client or worker (PHP, Python, Perl, libgearman's `gearman` tool, Gearbox's own) can \
            use it. Flags mean what gearmand's flags of the same name mean. It listens on 127.0.0.1 unless \
            told otherwise: `--listen 0.0.0.0` (or `::`) serves every interface. SIGTERM or SIGINT stop it \
            after running jobs finish.

            Background jobs live in memory unless `--store` names a durable store: `--store sqlite:PATH` (or \
            a bare PATH) keeps each one in a SQLite file from before its JOB_CREATED until a worker ends it, \
            and a restart, even after a crash, queues them again. gearmand's `-q libsqlite3 --libsqlite3-db \
            PATH` means the same.

            `--store postgres://USER:PASSWORD@HOST:PORT/DATABASE` (gearmand's `-q Postgres --libpq-conninfo \
            'host=... dbname=...'` too) keeps them in PostgreSQL, which several servers may share: each \
            renews a lease there, and when one dies, another adopts its queued jobs once its lease expires. \
            Give each server of such a group its own `--server-name` (by default HOST:PORT).

            `--result-cache FUNCTION[=TTL]` keeps FUNCTION's results: a foreground job with a unique key whose \
            result is kept and younger than TTL (30s, 10m, 1h, 2d; one hour by default) is answered at once, \
            without a worker. One budget, `--result-cache-size`, holds every cached function's results, the \
            least recently used evicted first. The admin `cache` command shows what each holds.

            A background job that fails (WORK_FAIL, WORK_EXCEPTION, workers lost past --job-retries) is tried \
            again `--retries FUNCTION=N` times, after a backoff that doubles from the minimum of \
            `--retry-backoff MIN..MAX`, and then kept as a dead letter: the admin commands `dead [FUNCTION]`, \
            `retry dead FUNCTION [HANDLE]` and `purge dead FUNCTION [HANDLE]` list, queue again and remove \
            them. `--keep-results FUNCTION=TTL` keeps background jobs' results, readable by handle at \
            /api/jobs/HANDLE on the operator's port. With `--metrics-port` that port serves the dashboard at /, \
            its data as JSON under /api/, and Prometheus metrics at /metrics.
            """
    )

    @Option(name: [.short, .long], help: "Port to listen on.")
    var port = 4730

    @Option(name: [.customShort("L"), .long], help: "Address to listen on; 0.0.0.0 or :: for every interface.")
    var listen = "127.0.0.1"

    @Option(name: [.short, .long], help: "Event loop threads.")
    var threads = System.coreCount

    @Option(
        name: [.customShort("j"), .long],
        help:
            "Attempts before a job whose workers keep failing is given up, and its clients get WORK_FAIL (0: no limit)."
    )
    var jobRetries = 0

    @Option(help: "Host part of job handles, H:<prefix>:<n>.")
    var jobHandlePrefix = GearmanServerConfiguration.defaultHandlePrefix

    @Option(help: "Largest packet accepted, in bytes; larger ones get an ERROR and are disconnected.")
    var maxPacketSize = 64 * 1024 * 1024

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    @Option(help: "gearmand's spelling of --log-level: FATAL, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO or DEBUG.")
    var verbose: VerbosityLevel?

    /// The level, in gearmand's words too (what the admin `verbose` command answers); ERROR by default.
    var verbosity: VerbosityLevel {
        verbose ?? logging.logLevel.map(VerbosityLevel.init(level:)) ?? .error
    }

    @Option(
        help: ArgumentHelp(
            "Where background jobs are kept: memory (the default), sqlite:PATH (a bare PATH too), or postgres://USER:PASSWORD@HOST:PORT/DATABASE.",
            valueName: "store"))
    var store: StoreLocation?

    @Option(
        name: [.customShort("q"), .customLong("queue-type")],
        help: ArgumentHelp(
            "gearmand's spelling: builtin (memory), libsqlite3 (with --libsqlite3-db) or Postgres (with --libpq-conninfo).",
            valueName: "type"))
    var queueType: String?

    @Option(
        name: .customLong("libsqlite3-db"),
        help: ArgumentHelp("gearmand's spelling of --store sqlite:PATH.", valueName: "path"))
    var libsqlite3Database: String?

    @Option(
        name: .customLong("libpq-conninfo"),
        help: ArgumentHelp(
            "gearmand's spelling of --store postgres://...: 'host=H port=P dbname=D user=U password=W'.",
            valueName: "conninfo"))
    var libpqConnectionString: String?

    @Option(
        help: ArgumentHelp(
            "This server's name among the servers sharing a PostgreSQL store (default: HOST:PORT).", valueName: "name"))
    var serverName: String?

    @Option(
        help: ArgumentHelp("Seconds between renewals of this server's lease in a shared store.", valueName: "seconds"))
    var leaseRenewal: Double = 2

    @Option(
        help: ArgumentHelp(
            "Seconds after its last renewal when a server's lease expires and another adopts its jobs.",
            valueName: "seconds"))
    var leaseExpiry: Double = 10

    @OptionGroup(title: "TLS") var tls: ServerTLSOptions

    @Option(
        name: .customLong("admin-allow"),
        help: ArgumentHelp(
            "Addresses (CIDR, or one address) whose admin commands may change state: shutdown, cancel job, drop function, create function, maxqueue. Repeat for several; replaces the default, loopback only.",
            valueName: "cidr"))
    var adminAllow: [String] = []

    @Option(
        name: .customLong("admin-allow-certificate"),
        help: ArgumentHelp(
            "With TLS: clients whose verified certificate has this common name may change state too. Repeat for several.",
            valueName: "name"))
    var adminAllowCertificate: [String] = []

    @OptionGroup(title: "TCP keepalive (on by default)") var keepalive: KeepaliveOptions

    @Option(
        name: [.customShort("r"), .customLong("protocol")],
        help: ArgumentHelp("gearmand's -r: 'http' serves its HTTP protocol on --http-port too.", valueName: "name"))
    var protocols: [String] = []

    @Option(
        help: ArgumentHelp("Serve gearmand's HTTP protocol on this port: POST /FUNCTION runs a job.", valueName: "port")
    )
    var httpPort: Int?

    @Option(help: ArgumentHelp("Largest HTTP request body, in bytes.", valueName: "bytes"))
    var httpMaxBody = 16 * 1024 * 1024

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://LISTEN:PORT/metrics.", valueName: "port"))
    var metricsPort: Int?

    @Option(
        help: ArgumentHelp(
            "Keep this function's results for TTL (30s, 10m, 1h, 2d; 1h by default) and answer foreground jobs with the same unique key from them. Repeat for several.",
            valueName: "function[=ttl]"))
    var resultCache: [String] = []

    @Option(
        help: ArgumentHelp(
            "Bytes every cached result together may take (unique keys and data), least recently used evicted first: 64M, 1G (default 64M).",
            valueName: "bytes"))
    var resultCacheSize: String?

    @Option(
        help: ArgumentHelp(
            "Retry a failed background job of FUNCTION N times (*=N: every function; default 0). Repeat for several.",
            valueName: "function=n"))
    var retries: [String] = []

    @Option(
        help: ArgumentHelp(
            "The wait before a retry: MIN for the first, doubling for each later one up to MAX, plus jitter (default 1s..1h).",
            valueName: "min..max"))
    var retryBackoff: String?

    @Option(
        help: ArgumentHelp(
            "How long a dead letter (a background job whose last attempt failed) is kept: 12h, 30d (default 30d).",
            valueName: "duration"))
    var deadRetention: String?

    @Option(help: ArgumentHelp("Most dead letters kept, the oldest dropped first; 0 keeps none.", valueName: "count"))
    var deadMax = DeadLetterPolicy.defaultMaximumCount

    @Option(
        help: ArgumentHelp(
            "Keep FUNCTION's background results for TTL (1h by default), readable at /api/jobs/HANDLE on --metrics-port, within --result-cache-size. Repeat for several.",
            valueName: "function[=ttl]"))
    var keepResults: [String] = []

    @Option(
        help: ArgumentHelp(
            "POST background jobs' events (completed, failed, retrying, dead) as JSON to URL, or only FUNCTION's with FUNCTION=URL. Repeat for several.",
            valueName: "[function=]url"))
    var webhook: [String] = []

    @Option(
        help: ArgumentHelp(
            "Sign each webhook request with HMAC-SHA256 under the key in this file (X-Gearbox-Signature).",
            valueName: "path"))
    var webhookSecretFile: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard jobRetries >= 0 else { throw ValidationError("--job-retries must not be negative") }
        guard maxPacketSize >= 1024 else { throw ValidationError("--max-packet-size must be at least 1024") }
        if verbose != nil, logging.logLevel != nil {
            throw ValidationError("--verbose is gearmand's spelling of --log-level: give one of them")
        }
        guard jobHandlePrefix.utf8.count <= JobHandleFormat.maximumPrefixLength else {
            throw ValidationError("--job-handle-prefix may be at most \(JobHandleFormat.maximumPrefixLength) bytes")
        }
        _ = try storeLocation()
        guard leaseRenewal.isFinite, leaseExpiry.isFinite, leaseRenewal <= 3600, leaseExpiry <= 86400 else {
            throw ValidationError("--lease-renewal and --lease-expiry must be seconds (at most an hour and a day)")
        }
        if let problem = storeGroup.problem { throw ValidationError(problem) }
        _ = try adminAccess()
        for name in protocols where name.lowercased() != "http" {
            throw ValidationError("-r \(name) is not a protocol Gearbox serves: http is")
        }
        if let httpPort, !(0...65535).contains(httpPort) {
            throw ValidationError("--http-port must be between 0 and 65535")
        }
        guard httpMaxBody >= 1 else { throw ValidationError("--http-max-body must be at least 1") }
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535")
        }
        if !adminAllowCertificate.isEmpty, !tls.enabled {
            throw ValidationError("--admin-allow-certificate needs --ssl (or --ssl-port)")
        }
        _ = try resultCacheConfiguration()
        _ = try retryPolicy()
        _ = try deadLetterPolicy()
        _ = try webhookConfiguration()
    }

    /// `--webhook` and `--webhook-secret-file`; nil when no hook is given.
    func webhookConfiguration() throws -> WebhookConfiguration? {
        do {
            let hooks = try webhook.map(Webhook.parse)
            guard !hooks.isEmpty else {
                if webhookSecretFile != nil { throw ValidationError("--webhook-secret-file needs --webhook") }
                return nil
            }
            return WebhookConfiguration(
                hooks: hooks, secret: try webhookSecretFile.map { try WebhookConfiguration.readSecret(atPath: $0) })
        } catch let error as WebhookConfigurationError {
            throw ValidationError(error.reason)
        }
    }

    func retryPolicy() throws -> RetryPolicy {
        var policy = RetryPolicy()
        for text in retries {
            do {
                let (function, count) = try RetryPolicy.parseRetries(text)
                if let function { policy.retries[function] = count } else { policy.defaultRetries = count }
            } catch {
                throw ValidationError("--retries \(error.reason)")
            }
        }
        if let retryBackoff {
            do {
                (policy.minimumBackoff, policy.maximumBackoff) = try RetryPolicy.parseBackoff(retryBackoff)
            } catch {
                throw ValidationError("--retry-backoff \(error.reason)")
            }
        }
        return policy
    }

    func deadLetterPolicy() throws -> DeadLetterPolicy {
        guard deadMax >= 0 else { throw ValidationError("--dead-max must not be negative") }
        var policy = DeadLetterPolicy(maximumCount: deadMax)
        if let deadRetention {
            guard let retention = ResultCacheConfiguration.parseTimeToLive(Substring(deadRetention)) else {
                throw ValidationError("--dead-retention \(deadRetention) is not a duration (12h, 30d)")
            }
            policy.retention = retention
        }
        return policy
    }

    /// `--result-cache` and `--result-cache-size`; nil when no function is cached.
    func resultCacheConfiguration() throws -> ResultCacheConfiguration? {
        var functions: [String: Duration] = [:]
        for text in resultCache {
            do {
                let (name, timeToLive) = try ResultCacheConfiguration.parseFunction(text)
                functions[name] = timeToLive
            } catch {
                throw ValidationError("--result-cache \(error.reason)")
            }
        }
        var kept: [String: Duration] = [:]
        for text in keepResults {
            do {
                let (name, timeToLive) = try ResultCacheConfiguration.parseFunction(text)
                kept[name] = timeToLive
            } catch {
                throw ValidationError("--keep-results \(error.reason)")
            }
        }
        var maximumBytes = ResultCacheConfiguration.defaultMaximumBytes
        if let resultCacheSize {
            guard let bytes = PayloadSize.byteCount(parsing: Substring(resultCacheSize)) else {
                throw ValidationError(
                    "--result-cache-size \(resultCacheSize) is not a size in bytes (65536, 64k, 64M, 1G)")
            }
            guard !functions.isEmpty || !kept.isEmpty else {
                throw ValidationError("--result-cache-size needs --result-cache or --keep-results")
            }
            maximumBytes = bytes
        }
        return functions.isEmpty && kept.isEmpty
            ? nil : ResultCacheConfiguration(functions: functions, keptResults: kept, maximumBytes: maximumBytes)
    }

    func adminAccess() throws -> AdminAccess {
        let networks = try adminAllow.map { text in
            guard let network = IPNetwork(text) else {
                throw ValidationError("--admin-allow \(text) is not an address or CIDR range (10.0.0.0/8, fd00::/8)")
            }
            return network
        }
        return AdminAccess(
            networks: adminAllow.isEmpty ? IPNetwork.loopback : networks, certificateNames: Set(adminAllowCertificate))
    }

    var storeGroup: StoreGroupConfiguration {
        StoreGroupConfiguration(
            serverName: serverName, leaseRenewal: .nanoseconds(Int64(max(0, leaseRenewal) * 1e9)),
            leaseExpiry: .nanoseconds(Int64(max(0, leaseExpiry) * 1e9)))
    }

    /// `--store`, or gearmand's `-q`/`--libsqlite3-db`, which mean the same.
    func storeLocation() throws -> StoreLocation {
        let gearmandSpelling: StoreLocation?
        switch queueType?.lowercased() {
        case nil:
            guard libsqlite3Database == nil else {
                throw ValidationError("--libsqlite3-db needs -q libsqlite3 (or use --store sqlite:PATH)")
            }
            guard libpqConnectionString == nil else {
                throw ValidationError("--libpq-conninfo needs -q Postgres (or use --store postgres://...)")
            }
            gearmandSpelling = nil
        case "postgres":
            guard let text = libpqConnectionString,
                let address = PostgresStoreAddress(url: text) ?? PostgresStoreAddress(connectionString: text)
            else {
                throw ValidationError(
                    "-q Postgres needs --libpq-conninfo 'host=H port=P dbname=D user=U password=W' (user is required)")
            }
            gearmandSpelling = .postgres(address)
        case "builtin":
            gearmandSpelling = .memory
        case "libsqlite3":
            guard let path = libsqlite3Database, !path.isEmpty else {
                throw ValidationError("-q libsqlite3 needs --libsqlite3-db PATH")
            }
            gearmandSpelling = .sqlite(path: path)
        case let other?:
            throw ValidationError("-q \(other) is not supported: use builtin, libsqlite3 or Postgres")
        }
        if let store, let gearmandSpelling, store != gearmandSpelling {
            throw ValidationError("--store \(store) and -q \(queueType ?? "") name different stores")
        }
        return store ?? gearmandSpelling ?? .memory
    }

    func run() async throws {
        let logger = try logging.makeLogger(label: "gearbox.server", level: verbosity.logLevel)
        let exposition = PrometheusExposition()
        let metrics = metricsPort.map { _ in ServerMetrics(factory: exposition.factory) }
        let operatorView = metricsPort.map { _ in OperatorView() }
        let hooks = try webhookConfiguration().map {
            WebhookDelivery(configuration: $0, metrics: metricsPort.map { _ in exposition.factory }, logger: logger)
        }
        var jobEvents: (@Sendable (PendingJobEvent) -> Void)?
        if let hooks {
            jobEvents = { event in hooks.post(event) }
        }
        let configuration = GearmanServerConfiguration(
            host: listen,
            port: port,
            threads: threads,
            jobRetries: jobRetries,
            jobHandlePrefix: jobHandlePrefix,
            maximumPacketSize: maxPacketSize,
            verbosity: verbosity.rawValue,
            store: try storeLocation(),
            storeGroup: storeGroup,
            tls: try tls.configuration(certificateNamesAllowed: !adminAllowCertificate.isEmpty),
            adminAccess: try adminAccess(),
            deadPeerDetection: keepalive.detection,
            httpPort: httpPort ?? (protocols.isEmpty ? nil : 8080),
            httpMaximumBodySize: httpMaxBody,
            metrics: metrics,
            resultCache: try resultCacheConfiguration(),
            retryPolicy: try retryPolicy(),
            deadLetterPolicy: try deadLetterPolicy(),
            jobEvents: jobEvents,
            operatorView: operatorView
        )
        // Binds inside the group, once SIGTERM and SIGINT are handled. The admin `shutdown` command ends the
        // server's run: that is a normal stop, not a failure.
        let service = ServiceGroupConfiguration.ServiceConfiguration(
            service: GearmanJobServerService(configuration: configuration, logger: logger),
            successTerminationBehavior: .gracefullyShutdownGroup)
        var services = [service]
        if let hooks {
            services.append(.init(service: hooks))
        }
        if let metricsPort, let metrics, let operatorView {
            services.append(
                .init(
                    service: OperatorEndpoint(
                        host: listen, port: metricsPort, view: operatorView, exposition: exposition,
                        beforeScrape: { metrics.update() }, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

enum VerbosityLevel: String, ExpressibleByArgument, CaseIterable {
    case fatal = "FATAL"
    case alert = "ALERT"
    case critical = "CRITICAL"
    case error = "ERROR"
    case warning = "WARNING"
    case notice = "NOTICE"
    case info = "INFO"
    case debug = "DEBUG"

    init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }

    init(level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }

    var logLevel: Logger.Level {
        switch self {
        case .fatal, .alert, .critical: .critical
        case .error: .error
        case .warning: .warning
        case .notice: .notice
        case .info: .info
        case .debug: .debug
        }
    }
}

extension StoreLocation: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(argument)
    }
}
