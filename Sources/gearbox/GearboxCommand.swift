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

    /// The long-running commands that decode images on several threads: their malloc arenas are capped
    /// before any thread starts (``ProcessMemory``).
    static let imageServices: [any ParsableCommand.Type] = [WorkerCommand.self, FrontCommand.self, BatchCommand.self]

    /// `gearbox thumbnail`, whose whole run is often shorter than a second, loads libvips on another thread at
    /// once, so that its tens of milliseconds of loading overlap with parsing the arguments and reading the
    /// first input instead of following them. The long-running commands load it when they first need it.
    static func main() async {
        let subcommand = CommandLine.arguments.dropFirst().first
        if subcommand == ThumbnailCommand.configuration.commandName {
            NIOThreadPool.singleton.submit { _ in try? VipsRuntime.load() }
        }
        if imageServices.contains(where: { $0.configuration.commandName == subcommand }) {
            ProcessMemory.limitArenas()
        }
        await main(nil)
    }
}
