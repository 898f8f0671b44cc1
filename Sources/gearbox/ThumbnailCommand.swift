import ArgumentParser

struct ThumbnailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "thumbnail", abstract: "Make thumbnails of image files.")
    func run() async throws {}
}
