import NIOCore

/// Flushes each connection of one event loop at most once per turn of the loop.
///
/// A client's WORK_COMPLETEs come from the reads of several workers; flushing after each worker's read batch
/// costs one write system call per worker. Connections written to are marked here instead, and one task at
/// the end of the loop's turn flushes each of them once. Messages for connections on other loops are
/// gathered the same way and sent in one hop per loop per turn. Shared across loops through its constants;
/// its lists are its event loop's alone.
final class LoopFlusher: Sendable {
    let eventLoop: any EventLoop
    /// Position in `ServerCore`'s list of flushers, which indexes `remote`.
    let index: Int
    private let state: NIOLoopBound<State>

    private final class State {
        @exclusivity(unchecked) var pending: [ServerConnectionHandler] = []
        @exclusivity(unchecked) var spare: [ServerConnectionHandler] = []
        @exclusivity(unchecked) var remote: [[ServerCore.Delivery]] = []
        @exclusivity(unchecked) var remoteLoops: [LoopFlusher] = []
        @exclusivity(unchecked) var isScheduled = false

        init() {
            pending.reserveCapacity(64)
            spare.reserveCapacity(64)
        }
    }

    /// Made on `eventLoop`.
    init(eventLoop: any EventLoop, index: Int) {
        self.eventLoop = eventLoop
        self.index = index
        state = NIOLoopBound(State(), eventLoop: eventLoop)
    }

    /// Flushes `handler`, a connection of this loop, at the end of this turn.
    func markDirty(_ handler: ServerConnectionHandler) {
        guard !handler.isQueuedForFlush else { return }
        handler.isQueuedForFlush = true
        let state = state.value
        state.pending.append(handler)
        scheduleIfNeeded(state)
    }

    /// Hands `delivery` to its peer's loop at the end of this turn, with the others for that loop.
    func send(_ delivery: ServerCore.Delivery, via peerLoop: LoopFlusher) {
        let state = state.value
        let target = peerLoop.index
        if state.remote.count <= target {
            state.remote.append(contentsOf: repeatElement([], count: target + 1 - state.remote.count))
            state.remoteLoops.append(contentsOf: repeatElement(peerLoop, count: target + 1 - state.remoteLoops.count))
        }
        state.remoteLoops[target] = peerLoop
        state.remote[target].append(delivery)
        scheduleIfNeeded(state)
    }

    private func scheduleIfNeeded(_ state: State) {
        guard !state.isScheduled else { return }
        state.isScheduled = true
        eventLoop.execute { self.flush() }
    }

    private func flush() {
        let state = state.value
        state.isScheduled = false
        for target in state.remote.indices where !state.remote[target].isEmpty {
            let batch = state.remote[target]
            state.remote[target].removeAll(keepingCapacity: true)
            let peerLoop = state.remoteLoops[target]
            peerLoop.eventLoop.execute {
                for delivery in batch {
                    let peer = delivery.peer.handler.value
                    peer.enqueue(delivery.message)
                    peerLoop.markDirty(peer)
                }
            }
        }
        swap(&state.pending, &state.spare)
        for handler in state.spare {
            handler.isQueuedForFlush = false
            handler.flushIfNeeded()
        }
        state.spare.removeAll(keepingCapacity: true)
    }
}
