/// Waits until the admin `status` of the job server on `port` (Gearbox or gearmand) shows at least `count`
/// workers for `function`; throws when `timeout` passes first.
public func waitForWorkers(port: Int, function: String, count: Int, timeout: Duration = .seconds(10)) async throws {
    func enough(_ reply: String) -> Bool {
        reply.split(separator: "\n").contains { line in
            let fields = line.split(separator: "\t")
            return fields.count == 4 && fields[0] == function && Int(fields[3]) ?? 0 >= count
        }
    }
    guard enough(try await adminReply(port: port, "status", timeout: timeout, until: enough)) else {
        throw TestFailure("no \(count) workers for \(function) within \(timeout)")
    }
}
