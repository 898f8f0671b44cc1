/// Asks the job server on `port` (Gearbox or gearmand) the admin command `line`, on a connection of its own
/// each time, until `done` holds for the answer or `timeout` has passed; returns the last answer. Meant for a
/// state that stays once reached (a queue drained, a worker registered, the store caught up), which asking
/// again cannot miss; the caller checks the answer and says what it waited for.
public func adminReply(
    port: Int, _ line: String, timeout: Duration = .seconds(10), until done: (String) -> Bool
) async throws -> String {
    let deadline = ContinuousClock.now + timeout
    while true {
        let admin = try await RawConnection(port: port)
        try await admin.send(line: line)
        let reply = try await admin.receiveAdminReply()
        if done(reply) || ContinuousClock.now >= deadline { return reply }
        try await Task.sleep(for: .milliseconds(20))
    }
}
