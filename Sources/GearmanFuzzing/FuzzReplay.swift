import Foundation

/// Runs inputs through a fuzz target without libFuzzer: every file named on the command line, or every file
/// in a folder named there. Used to replay a corpus and the inputs of crashes already fixed.
public enum FuzzReplay {
    @discardableResult
    public static func run(
        _ target: ([UInt8]) -> Void, arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) -> Int {
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    exit(2)
                }
                target(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
        return count
    }

    static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { "\(path)/\($0)" }
    }
}
