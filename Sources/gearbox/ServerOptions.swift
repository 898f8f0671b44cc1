import ArgumentParser
import Gearman

/// How every command that talks to job servers names them, and whether it speaks TLS to them.
struct ServerOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "A job server as host[:port] (default port 4730); repeat for several.", valueName: "host:port"))
    var servers: [GearmanServerAddress] = [GearmanServerAddress(host: "127.0.0.1")]

    @OptionGroup(title: "TLS") var tls: ClientTLSOptions
}

extension GearmanServerAddress: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(argument)
    }
}
