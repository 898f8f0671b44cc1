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

    /// The commands that work on images load libvips on another thread at once, so that its tens of
    /// milliseconds of loading overlap with parsing the arguments instead of following it.
    static func main() async {
        if let command = CommandLine.arguments.dropFirst().first, imageCommands.contains(command) {
            NIOThreadPool.singleton.submit { _ in try? VipsRuntime.load() }
        }
        await main(nil)
    }

    private static let imageCommands: Set<String> = ["thumbnail", "batch", "worker", "front"]
}
