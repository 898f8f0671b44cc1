import ArgumentParser
import GearmanServer
import Imaging
import NIOPosix

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

    /// `gearbox thumbnail`, whose whole run is often shorter than a second, loads libvips on another thread at
    /// once, so that its tens of milliseconds of loading overlap with parsing the arguments and reading the
    /// first input instead of following them. The long-running commands load it when they first need it.
    static func main() async {
        if CommandLine.arguments.dropFirst().first == ThumbnailCommand.configuration.commandName {
            NIOThreadPool.singleton.submit { _ in try? VipsRuntime.load() }
        }
        await main(nil)
    }
}
