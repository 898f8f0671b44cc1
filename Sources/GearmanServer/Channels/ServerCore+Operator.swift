import GearmanProtocol
import NIOCore

/// The operator's view of the server (`OperatorView`): the engine's snapshot with the store's state, one
/// job by handle, and the dead-letter commands, applied as any event is.
extension ServerCore {
    func operatorSource(configuration: GearmanServerConfiguration) -> OperatorView.Source {
        let adminAccess = configuration.adminAccess
        return OperatorView.Source(
            overview: { [self] limit, filter, mayChangeState in
                overview(limit: limit, filter: filter, mayChangeState: mayChangeState, configuration: configuration)
            },
            job: { [self] handle in
                let now = Self.now()
                return inspect { $0.operatorReport(handle: handle, now: now) }
            },
            retryDead: { [self] function, handle in
                let now = Self.now()
                var count = 0
                applyDetached { engine, actions in
                    count = engine.retryDeadLetters(of: function, handle: handle, now: now, into: &actions)
                }
                return count
            },
            purgeDead: { [self] function, handle in
                var count = 0
                applyDetached { engine, actions in
                    count = engine.purgeDeadLetters(of: function, handle: handle, into: &actions)
                }
                return count
            },
            mayChangeState: { address in
                guard let socketAddress = try? SocketAddress(ipAddress: address, port: 0) else { return false }
                return adminAccess.allowsChanges(from: socketAddress)
            })
    }

    private func overview(
        limit: Int, filter: String?, mayChangeState: Bool, configuration: GearmanServerConfiguration
    ) -> OperatorOverview {
        let now = Self.now()
        let snapshot = inspect { $0.operatorSnapshot(limit: limit, filter: filter, now: now) }
        let store = storeWriter?.state
        let group = storeWriter?.location.isShared == true ? storeWriter?.lastGroupStatus : nil
        return OperatorOverview(
            server: OperatorOverview.Server(
                version: GearboxVersion.protocolVersion, handlePrefix: configuration.jobHandlePrefix, started: started,
                now: now, store: "\(configuration.store)", storeUnwritten: store?.inFlight ?? 0,
                storeTransactions: store?.transactions ?? 0, storeFailure: store?.lastFailure,
                connections: snapshot.connections, mayChangeState: mayChangeState),
            functions: snapshot.functions, functionsTotal: snapshot.functionsTotal, workers: snapshot.workers,
            workersTotal: snapshot.workersTotal, scheduled: snapshot.scheduled, scheduledTotal: snapshot.scheduledTotal,
            dead: snapshot.dead, deadTotal: snapshot.deadTotal,
            group: group.map { status in
                status.members.map {
                    OperatorOverview.GroupServer(
                        name: $0.name, leaseLeftMilliseconds: $0.leaseMilliseconds, isThisServer: $0.isSelf)
                }
            } ?? (storeWriter?.location.isShared == true ? [] : nil))
    }
}
