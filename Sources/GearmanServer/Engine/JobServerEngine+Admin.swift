import GearmanProtocol
import NIOCore

extension JobServerEngine {
    /// Answers one admin text command, with gearmand 1.1.20's bytes.
    public func handle(
        _ command: GearmanAdminCommand, from id: ConnectionID, now: Int64, into actions: inout [ServerAction]
    ) {
        guard let connection = connections[id] else { return }
        if command.changesState, !connection.mayChangeState {
            let name = command.name.split(separator: " ").joined(separator: "+")
            let reason = "\(name)+is+only+accepted+from+allowed+addresses+or+certificates"
            actions.append(.send(id, .admin(.error("PERMISSION_DENIED", reason))))
            return
        }
        let reply: GearmanAdminReply
        switch command {
        case .status:
            groupCountsRequested = true
            reply = .table(statusLines())
        case .priorityStatus:
            reply = .table(
                sortedFunctions.map {
                    let counts = $0.queuedCounts
                    return "\($0.nameString)\t\(counts[0])\t\(counts[1])\t\(counts[2])\t\($0.workerCount)"
                })
        case .workers:
            reply = .table(
                connections.values.sorted { $0.id < $1.id }.map { worker in
                    var line = "\(worker.id) \(worker.host) \(worker.clientID) :"
                    // gearmand lists a worker's functions newest first.
                    for ability in worker.abilities.reversed() {
                        line += " \(ability.function.nameString)"
                    }
                    return line
                })
        case .showJobs:
            reply = .table(
                jobs.values.sorted { $0.handle < $1.handle }.map {
                    "\(handleFormat.string(for: $0.handle))\t\($0.retries)\t0\t1"
                })
        case .showUniqueJobs:
            reply = .table(
                uniques.values.sorted { $0.handle < $1.handle }.map { String(buffer: $0.unique) })
        case .cache:
            reply = .table(
                (resultCache?.cachedFunctions ?? []).map {
                    let counts = $0.counts
                    return
                        "\($0.name)\t\(counts.entries)\t\(counts.bytes)\t\(counts.hits)\t\(counts.misses)\t\(counts.evictions)\t\($0.timeToLive)"
                })
        case .showStore:
            actions.append(.send(id, .storeStatus))
            return
        case .showServers:
            groupCountsRequested = true
            actions.append(.send(id, .storeGroupStatus))
            return
        case .deadLetters(let function):
            pruneDeadLetters(now: now, into: &actions)
            reply = .table(
                deadLetters.letters(of: function.map { ByteBuffer(string: $0) }).map {
                    let unique = String(buffer: $0.unique).filter { !$0.isNewline && $0 != "\t" }
                    return
                        "\(handleFormat.string(for: $0.handle))\t\($0.function.nameString)\t\($0.attempts)\t\(unique)\t\($0.lastError)"
                })
        case .retryDead(let function, let handle):
            reply = .ok(String(retryDeadLetters(of: function, handle: handle, now: now, into: &actions)))
        case .purgeDead(let function, let handle):
            reply = .ok(String(purgeDeadLetters(of: function, handle: handle, into: &actions)))
        case .cancelJob(let handleText):
            guard let job = handleFormat.parse(handleText).flatMap({ jobs[$0] }) else {
                reply = .unknownJob
                break
            }
            for waiter in job.waiters {
                actions.append(.send(waiter, .workFail(job.handle)))
            }
            discard(job, into: &actions)
            reply = .ok
        case .maxQueue(let name, let limits):
            let function = functionQueue(named: ByteBuffer(string: name))
            for (priority, limit) in limits {
                function.maximumQueueSizes[priority.rawValue] = limit
            }
            reply = .ok
        case .createFunction(let name):
            _ = functionQueue(named: ByteBuffer(string: name))
            reply = .ok
        case .dropFunction(let name):
            reply = dropFunction(named: name)
        case .getPID:
            reply = .ok(String(configuration.processID))
        case .version:
            reply = .ok(configuration.version)
        case .verbose:
            reply = .ok(configuration.verbosity)
        case .shutdown(let graceful):
            actions.append(.send(id, .admin(.ok)))
            actions.append(.shutdown(graceful: graceful))
            return
        case .invalid(let error):
            reply = error
        }
        actions.append(.send(id, .admin(reply)))
    }

    /// `FUNCTION TOTAL RUNNING WORKERS` per function. In a group of servers sharing a store, TOTAL also
    /// counts the jobs the other servers hold stored, as last counted, and functions known only to them
    /// are listed too.
    private func statusLines() -> [String] {
        var lines: [(name: String, line: String)] = []
        for function in functions.values {
            let elsewhere = queuedElsewhere[function.name] ?? 0
            lines.append(
                (
                    function.nameString,
                    "\(function.nameString)\t\(function.totalCount + elsewhere)\t\(function.runningCount)\t\(function.workerCount)"
                ))
        }
        for (name, count) in queuedElsewhere where functions[name] == nil {
            let nameString = String(buffer: name)
            lines.append((nameString, "\(nameString)\t\(count)\t0\t0"))
        }
        return lines.sorted { $0.name < $1.name }.map(\.line)
    }

    private var sortedFunctions: [FunctionQueue] {
        functions.values.sorted { $0.nameString < $1.nameString }
    }

    /// Unlike gearmand, a function that still holds queued jobs is not dropped: that would lose them.
    private func dropFunction(named name: String) -> GearmanAdminReply {
        guard let function = functions.values.first(where: { $0.nameString.lowercased() == name.lowercased() }) else {
            return GearmanAdminReply(text: "ERR function not found\r\n")
        }
        guard function.workerCount == 0, function.totalCount == 0, function.storingCount == 0 else {
            return GearmanAdminReply(text: "ERR there are still connected workers or executing clients\r\n")
        }
        functions.removeValue(forKey: function.name)
        function.isDropped = true
        // Cancelled jobs may still sit in its queues, and they refer back to it.
        function.removeAllJobs()
        return .ok
    }
}
