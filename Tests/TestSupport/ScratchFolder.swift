import Foundation

/// A scratch folder for one test, removed afterwards.
public final class ScratchFolder {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("gearbox-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A job store's file in the folder; SQLite's -wal and -shm files go with the folder.
    public var store: String { path + "/jobs.db" }

    public func file(_ relative: String, _ bytes: [UInt8] = [0xFF, 0xD8, 0xFF]) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// Every file below `relative`, as sorted relative paths.
    public func files(under relative: String) -> [String] {
        let root = URL(fileURLWithPath: path).appendingPathComponent(relative).path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.filter { name in
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isFolder)
            return !isFolder.boolValue
        }.sorted()
    }

    public func setModified(_ relative: String, _ date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path + "/" + relative)
    }
}
