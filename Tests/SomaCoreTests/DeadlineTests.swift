import Foundation
import SomaCore
import Synchronization
import Testing

struct DeadlineTests {
    struct TimedOut: Error {}

    /// A wait that cancellation does not end (it suspends; it does not hold a thread).
    final class Gate: Sendable {
        private let state = Mutex((opened: false, waiting: [CheckedContinuation<Void, Never>]()))

        func wait() async {
            await withCheckedContinuation { continuation in
                let opened = state.withLock { state in
                    if !state.opened { state.waiting.append(continuation) }
                    return state.opened
                }
                if opened { continuation.resume() }
            }
        }

        var isOpen: Bool { state.withLock { $0.opened } }

        func open() {
            let waiting = state.withLock { state in
                state.opened = true
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            waiting.forEach { $0.resume() }
        }
    }

    @Test func aBodyThatIgnoresCancellationDoesNotHoldTheCaller() async throws {
        let gate = Gate()
        // Only a caller held by the body waits for this; it keeps a broken deadline from hanging the run.
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(60))
            gate.open()
        }
        defer { watchdog.cancel(); gate.open() }
        await #expect(throws: TimedOut.self) {
            try await withDeadline(.milliseconds(100), onTimeout: { TimedOut() }) {
                // Deaf to cancellation, like a driver call stuck on a dead socket.
                await gate.wait()
                return 1
            }
        }
        // No clock in the assertion: the caller got its answer while the body was still waiting.
        #expect(!gate.isOpen, "the caller waited for the body")
    }

    @Test func resultsAndErrorsPassThroughBeforeTheDeadline() async throws {
        #expect(try await withDeadline(.seconds(5), onTimeout: { TimedOut() }) { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await withDeadline(.seconds(5), onTimeout: { TimedOut() }) { () async throws -> Int in throw Refused() }
        }
    }

    @Test func cancellingTheCallerAnswersAtOnce() async throws {
        let call = Task {
            try await withDeadline(.seconds(30), onTimeout: { TimedOut() }) {
                try await Task.sleep(for: .seconds(30))
                return 0
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
    }
}
