import Foundation
import SomaCore
import Synchronization

/// The background merge's thread: started when work is requested, ended when a pass finds none,
/// and stopped and waited for at shutdown. A thread of its own, because a merge step blocks for
/// as long as graph insertion takes and must not hold one of the few threads that serve requests.
final class MergeLoop: Sendable {
    private struct State {
        var running = false
        /// Work was requested since the thread last looked: it looks again before ending.
        var requested = false
        var stopped = false
        /// When the thread started or last finished a step: a running loop whose heartbeat is old is stuck.
        var heartbeat = ContinuousClock.now
        var waitingForEnd: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// One batch of work, false when there was none; given by the index once it exists.
    private let work = Mutex<(@Sendable () -> Bool)?>(nil)

    func attach(_ step: @escaping @Sendable () -> Bool) {
        work.withLock { $0 = step }
    }

    private func step() -> Bool {
        work.withLock { $0 }?() ?? false
    }

    /// Asks for a pass; starts the thread unless it runs (it then passes again) or the loop was stopped.
    func request() {
        let start = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.requested = true
            guard !state.running else { return false }
            state.running = true
            state.heartbeat = .now
            return true
        }
        guard start else { return }
        NamedThread.start("soma-ann-merge") { [self] in run() }
    }

    var isRunning: Bool { state.withLock(\.running) }

    /// False while the loop runs and has finished no step for `limit`.
    func isProgressing(limit: Duration) -> Bool {
        state.withLock { !$0.running || ContinuousClock.now - $0.heartbeat < limit }
    }

    /// Marks progress inside a long step (a graph rebuild).
    func beat() {
        state.withLock { $0.heartbeat = .now }
    }

    /// No pass starts after this; one under way ends after its step. Returns once the thread has ended.
    func stop() async {
        await withCheckedContinuation { (ended: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                state.stopped = true
                if state.running { state.waitingForEnd.append(ended) }
                return !state.running
            }
            if idle { ended.resume() }
        }
    }

    private func run() {
        while true {
            let go = state.withLock { state -> Bool in
                state.requested = false
                return !state.stopped
            }
            while go, step() {
                let stopped = state.withLock { state -> Bool in
                    state.heartbeat = .now
                    return state.stopped
                }
                if stopped { break }
            }
            let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                if state.requested, !state.stopped { return nil }
                state.running = false
                defer { state.waitingForEnd = [] }
                return state.waitingForEnd
            }
            guard let waiting else { continue }
            waiting.forEach { $0.resume() }
            return
        }
    }
}
