/// Waits until the admin `status` of the job server on `port` (Gearbox or gearmand) shows at least `count`
/// workers for `function`; throws when `timeout` passes first.
public func waitForWorkers(port: Int, function: String, count: Int, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let admin = try await RawConnection(port: port)
        try await admin.send(line: "status")
        let reply = try await admin.receiveAdminReply()
        for line in reply.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 4, fields[0] == function, Int(fields[3]) ?? 0 >= count {
                return
            }
        }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw TestFailure("no \(count) workers for \(function) within \(timeout)")
}
