/// Path arithmetic on plain strings, as `vipsthumbnail` does it for its `-o` patterns.
enum PathText {
    /// `a/b/photo.jpg` -> `photo.jpg`.
    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    /// `a/b/photo.jpg` -> `a/b`; `photo.jpg` -> ``; `/photo.jpg` -> `/`.
    static func folder(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `thumbs/%s.webp` -> `webp`; `tn_%s` or `.hidden` -> ``.
    static func fileExtension(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// `photo.jpg` -> `photo`.
    static func removingExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    static func joining(_ folder: String, _ name: String) -> String {
        if folder.isEmpty { return name }
        return folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// Every `placeholder` in `pattern` replaced by `value`.
    static func substituting(_ value: String, for placeholder: String, in pattern: String) -> String {
        pattern.replacing(placeholder, with: value)
    }
}
