import Foundation
import Imaging
import TestSupport
import Testing

/// The README's examples, read from the README itself (each follows a `<!-- readme-example: KIND NAME -->`
/// marker), run with a real photograph: what a reader copies works. Python and PHP run against a server
/// and worker on a free port; shell and console examples run as written, on the default port 4730, each in
/// network and process namespaces of its own (`unshare`, as root), where that port is free and nothing
/// they start outlives them. A console example's output must be what the README shows.
@Suite(.serialized) struct ReadmeExampleTests {
    /// The shell and console examples, by name.
    static let shellExamples = [
        "tools-against-server", "image-functions", "options-line", "tools", "lines", "http", "metrics",
    ]

    struct Block {
        var kind: String
        var lines: [String]
    }

    /// The block after `<!-- readme-example: KIND NAME -->`, its indentation removed.
    static func block(named name: String) throws -> Block {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        guard
            let markerIndex = lines.firstIndex(where: {
                let words = $0.trimmingCharacters(in: .whitespaces).split(separator: " ")
                return words.count == 5 && words[1] == "readme-example:" && words[3] == name
            })
        else { throw TestFailure("README.md has no example named \(name)") }
        let kind = String(lines[markerIndex].trimmingCharacters(in: .whitespaces).split(separator: " ")[2])
        let fence = lines[markerIndex + 1]
        let indent = fence.prefix { $0 == " " }.count
        var body: [String] = []
        for line in lines[(markerIndex + 2)...] {
            if line.trimmingCharacters(in: .whitespaces) == "```" { return Block(kind: kind, lines: body) }
            body.append(String(line.dropFirst(min(indent, line.prefix { $0 == " " }.count))))
        }
        throw TestFailure("the example \(name) is not closed")
    }

    /// One command and, for a console example, the output the README shows for it.
    struct Step {
        var command: String
        var expected: [String]?
    }

    static func steps(_ block: Block) -> [Step] {
        var steps: [Step] = []
        for line in block.lines {
            if block.kind == "console" {
                if line.hasPrefix("$ ") {
                    steps.append(Step(command: String(line.dropFirst(2)), expected: []))
                } else if !steps.isEmpty {
                    steps[steps.count - 1].expected?.append(line)
                }
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty, !line.hasPrefix("#") {
                steps.append(Step(command: line, expected: nil))
            }
        }
        return steps
    }

    /// What a background command must be ready for before the next one runs: its ports, its functions.
    static func readiness(of command: String) -> (ports: [Int], functions: [String]) {
        let words = command.split(separator: "#")[0].split(separator: " ").map(String.init)
        func value(after flag: String) -> String? {
            words.firstIndex(of: flag).flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
        }
        if command.hasPrefix("gearbox server") {
            return ([4730] + ["--http-port", "--metrics-port"].compactMap { value(after: $0).flatMap(Int.init) }, [])
        }
        if command.hasPrefix("gearbox worker") {
            return ([], (value(after: "-f") ?? "thumbnail,resize,info").split(separator: ",").map(String.init))
        }
        if command.hasPrefix("gearman -w") {
            return ([], value(after: "-f").map { [$0] } ?? [])
        }
        return ([], [])
    }

    /// A bash script that runs the steps, marking each one's output and exit status on standard output.
    static func script(_ steps: [Step], folder: String) throws -> String {
        var text = """
            set -u
            ip link set lo up
            export PATH="\(URL(fileURLWithPath: try gearboxBinary()).deletingLastPathComponent().path):$PATH"
            cd '\(folder)'
            settle() {  # the ports listen and the functions have workers, within 30 s
                for _ in $(seq 600); do
                    ready=1
                    for port in $1; do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || ready=0; done
                    for function in $2; do
                        gearadmin --status 2>/dev/null | awk -v f="$function" '$1 == f && $4 > 0 { found = 1 } END { exit !found }' || ready=0
                    done
                    [ "$ready" = 1 ] && return 0
                    sleep 0.05
                done
                echo "settle: not ready: ports $1, functions $2" >&2
                exit 97
            }

            """
        for (index, step) in steps.enumerated() {
            text += "printf '\\n@@@ step \(index)\\n'\n\(step.command)\n"
            if step.command.split(separator: "#")[0].trimmingCharacters(in: .whitespaces).hasSuffix("&") {
                let (ports, functions) = readiness(of: step.command)
                text +=
                    "settle '\(ports.map(String.init).joined(separator: " "))' '\(functions.joined(separator: " "))'\n"
            } else {
                text += "printf '\\n@@@ status %s\\n' $?\n"
            }
        }
        // libgearman's `gearman -w` does not stop on SIGTERM; nothing here needs a graceful stop.
        text += "printf '\\n@@@ end\\n'\nkill -KILL $(jobs -p) 2>/dev/null\nwait\n"
        return text
    }

    /// Job handles name the host: compared as `H:host:N`.
    static func normalized(_ line: String) -> String {
        guard let start = line.range(of: "H:"), let colon = line[start.upperBound...].firstIndex(of: ":") else {
            return line
        }
        return line.replacingCharacters(in: start.upperBound..<colon, with: "host")
    }

    @Test(arguments: shellExamples)
    func theShellExample(_ name: String) async throws {
        guard getuid() == 0 else { throw TestFailure("the shell examples run in namespaces of their own: run as root") }
        let block = try Self.block(named: name)
        let steps = Self.steps(block)
        let folder = try ScratchFolder()
        for file in ["photo.jpg", "large.jpg", "in.jpg"] {
            try folder.file(file, try Fixtures.nature(Fixtures.naturePhotos[1]))
        }
        let script = folder.path + "/example.sh"
        try Self.script(steps, folder: folder.path).write(toFile: script, atomically: true, encoding: .utf8)
        let shell = try ChildProcess(
            "unshare", ["--net", "--pid", "--fork", "--kill-child", "--mount-proc", "bash", script])
        let status = try await shell.wait(timeout: .seconds(120))
        #expect(status == 0, "\(name): \(shell.standardErrorText)")
        var outputs: [[String]] = []
        var statuses: [Int32] = []
        for line in shell.standardOutputText.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(
            String.init)
        {
            if line.hasPrefix("@@@ step ") {
                outputs.append([])
            } else if line.hasPrefix("@@@ status ") {
                statuses.append(Int32(line.dropFirst(11)) ?? -1)
            } else if line == "@@@ end" {
                break
            } else if !outputs.isEmpty, !(line.isEmpty && outputs[outputs.count - 1].isEmpty) {
                outputs[outputs.count - 1].append(line)
            }
        }
        #expect(outputs.count == steps.count, "\(name): \(shell.standardOutputText) \(shell.standardErrorText)")
        #expect(statuses.allSatisfy { $0 == 0 }, "\(name): exit statuses \(statuses); \(shell.standardErrorText)")
        for (step, output) in zip(steps, outputs) {
            guard let expected = step.expected else { continue }
            let trimmedExpected = expected.reversed().drop { $0.isEmpty }.reversed().map(Self.normalized)
            let trimmedOutput = output.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
                .reversed().drop { $0.isEmpty }.reversed().map(Self.normalized)
            #expect(Array(trimmedOutput) == Array(trimmedExpected), "\(name): `\(step.command)`")
        }
        _ = folder
    }

    /// A Python or PHP example's code, with the default port swapped for the test server's.
    static func example(_ name: String, port: Int) throws -> String {
        try block(named: name).lines.joined(separator: "\n").replacingOccurrences(of: "4730", with: "\(port)")
    }

    /// Runs `body` in a folder holding photo.jpg, with a job server and an image worker up.
    func withFarm(_ body: (_ folder: String, _ port: Int) async throws -> Void) async throws {
        let folder = try ScratchFolder()
        try Data(try Fixtures.nature(Fixtures.naturePhotos[0])).write(
            to: URL(fileURLWithPath: folder.path + "/photo.jpg"))
        let (server, port) = try await startJobServer(try gearboxBinary()) { ["server", "--port", "\($0)"] }
        defer { server.stop() }
        let worker = try ChildProcess(try gearboxBinary(), ["worker", "--server", "127.0.0.1:\(port)", "-c", "2"])
        defer { worker.stop() }
        try await waitForWorkers(port: port, function: "thumbnail", count: 1, timeout: .seconds(30))
        try await body(folder.path, port)
    }

    /// The thumbnail the example wrote: a WebP within 320x240.
    func expectThumbnail(in folder: String) async throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/thumb.webp"))
        let info = try await FarmProcessTests.describer.info([UInt8](bytes))
        #expect(info.format == .webp)
        #expect(info.width <= 320 && info.height <= 240 && max(info.width, info.height) >= 200)
    }

    @Test func thePythonExampleWithGear() async throws {
        try await withFarm { folder, port in
            let script = folder + "/example.py"
            try Self.example("gear", port: port).write(toFile: script, atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONPATH"] = testPythonPath
            let python = try ChildProcess(
                "/bin/sh", ["-c", "cd '\(folder)' && exec python3 example.py"], environment: environment)
            #expect(try await python.wait(timeout: .seconds(90)) == 0, "\(python.standardErrorText)")
            #expect(!python.standardOutputText.contains("failed"), "\(python.standardOutputText)")
            try await expectThumbnail(in: folder)
        }
    }

    @Test func thePHPExample() async throws {
        try await withFarm { folder, port in
            try ("<?php\n" + Self.example("pecl", port: port)).write(
                toFile: folder + "/example.php", atomically: true, encoding: .utf8)
            let php = try ChildProcess("/bin/sh", ["-c", "cd '\(folder)' && exec php example.php"])
            #expect(try await php.wait(timeout: .seconds(90)) == 0, "\(php.standardErrorText)")
            #expect(!php.standardOutputText.contains("failed"), "\(php.standardOutputText)")
            try await expectThumbnail(in: folder)
        }
    }
}
