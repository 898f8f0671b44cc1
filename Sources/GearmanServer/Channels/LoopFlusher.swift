import NIOCore

/// Flushes each connection of one event loop at most once per turn of the loop.
///
/// A client's WORK_COMPLETEs come from the reads of several workers; flushing after each worker's read batch
/// costs one write system call per worker. Connections written to are marked here instead, and one task at
/// the end of the loop's turn flushes each of them once. Messages for connections on other loops are
/// gathered the same way and sent in one hop per loop per turn. Touched on its event loop only.
/// Unchecked for the same reason as `ServerConnectionHandler`: shared across loops, used on its own.
final class LoopFlusher: @unchecked Sendable {
    let eventLoop: any EventLoop
    /// Position in `ServerCore`'s list of flushers, which indexes `remote`.
    let index: Int
    @exclusivity(unchecked) private var pending: [ServerConnectionHandler] = []
    @exclusivity(unchecked) private var spare: [ServerConnectionHandler] = []
    @exclusivity(unchecked) private var remote: [[ServerCore.Delivery]] = []
    @exclusivity(unchecked) private var remoteLoops: [LoopFlusher] = []
    @exclusivity(unchecked) private var isScheduled = false

    init(eventLoop: any EventLoop, index: Int) {
        self.eventLoop = eventLoop
        self.index = index
        pending.reserveCapacity(64)
        spare.reserveCapacity(64)
    }

    /// Flushes `handler` at the end of this turn.
    func markDirty(_ handler: ServerConnectionHandler) {
        guard !handler.isQueuedForFlush else { return }
        handler.isQueuedForFlush = true
        pending.append(handler)
        scheduleIfNeeded()
    }

    /// Hands `delivery` to its peer's loop at the end of this turn, with the others for that loop.
    func send(_ delivery: ServerCore.Delivery, via peerLoop: LoopFlusher) {
        let target = peerLoop.index
        if remote.count <= target {
            remote.append(contentsOf: repeatElement([], count: target + 1 - remote.count))
            remoteLoops.append(contentsOf: repeatElement(peerLoop, count: target + 1 - remoteLoops.count))
        }
        remoteLoops[target] = peerLoop
        remote[target].append(delivery)
        scheduleIfNeeded()
    }

    private func scheduleIfNeeded() {
        guard !isScheduled else { return }
        isScheduled = true
        eventLoop.execute { self.flush() }
    }

    private func flush() {
        isScheduled = false
        for target in remote.indices where !remote[target].isEmpty {
            let batch = remote[target]
            remote[target].removeAll(keepingCapacity: true)
            let peerLoop = remoteLoops[target]
            peerLoop.eventLoop.execute {
                for delivery in batch {
                    delivery.peer.enqueue(delivery.message)
                    peerLoop.markDirty(delivery.peer)
                }
            }
        }
        swap(&pending, &spare)
        for handler in spare {
            handler.isQueuedForFlush = false
            handler.flushIfNeeded()
        }
        spare.removeAll(keepingCapacity: true)
    }
}
