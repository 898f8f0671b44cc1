import ArgumentParser
import Imaging
import UploadFront

struct FrontSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print a photo URL signed as the front expects it (its path and query).",
        discussion: """
            Takes a URL or a path: /photos/ID/image?size=300x200&crop=attention for any size (its options are \
            checked and put in their normalized order), or /photos/ID/SIZE. With --url-lifetime, the URL \
            expires that many seconds from now. Give the front's own --signing-key-file (or --signing-key).
            """)

    @OptionGroup(title: "Signed URLs") var signing: FrontSigningOptions

    @Argument(
        help: ArgumentHelp("The URL to sign: http://HOST/photos/ID/image?OPTIONS, or its path.", valueName: "url"))
    var url: String

    func validate() throws {
        guard try signing.signer() != nil else {
            throw ValidationError("sign needs the front's key: --signing-key-file or --signing-key")
        }
        _ = try signed()
    }

    func run() throws {
        StandardIO.write(try signed() + "\n")
    }

    /// The signed path and query; throws `ValidationError` for a URL the front would not serve.
    func signed() throws -> String {
        guard let signer = try signing.signer() else { throw ValidationError("no signing key") }
        let (path, query) = Self.split(url)
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard components.count == 4, components[0].isEmpty, components[1] == "photos",
            PhotoStore.isSafeName(String(components[2])), !components[3].isEmpty
        else {
            throw ValidationError("'\(url)' is not a photo URL: /photos/ID/image?OPTIONS or /photos/ID/SIZE")
        }
        if components[3] == "image" {
            do {
                return signer.sign(path, options: try TransformRequest(query: query).normalizedQuery)
            } catch {
                throw ValidationError("'\(url)': \(error)")
            }
        }
        let options = QueryItems(parsing: query).items.filter { !TransformRequest.signatureNames.contains($0.name) }
        guard options.isEmpty else { throw ValidationError("'\(url)': only /photos/ID/image takes options") }
        return signer.sign(path)
    }

    /// `http://host:8080/photos/a/image?size=3#x` → (`/photos/a/image`, `size=3`); a path stays a path.
    static func split(_ url: String) -> (path: String, query: String) {
        var rest = Substring(url)
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        if let scheme = rest.range(of: "://") {
            let authority = rest[scheme.upperBound...]
            rest = authority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { authority[$0...] } ?? ""
        }
        guard let question = rest.firstIndex(of: "?") else { return (String(rest), "") }
        return (String(rest[..<question]), String(rest[rest.index(after: question)...]))
    }
}
