import ArgumentParser
import GearmanServer
import Imaging

@main
struct GearboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gearbox",
        abstract: "A Gearman job server, client, worker farm and image toolkit.",
        version:
            "gearbox \(GearboxVersion.gearbox) (Gearman \(GearboxVersion.protocolVersion), libvips \(VipsRuntime.version))",
        subcommands: [
            ServerCommand.self,
            BenchCommand.self,
            ThumbnailCommand.self,
            SubmitCommand.self,
            WorkerCommand.self,
            BatchCommand.self,
            AdminCommand.self,
            FrontCommand.self,
        ]
    )
}
