import Foundation
import SomaCore
import Synchronization
import Testing

struct DeadlineTests {
    struct TimedOut: Error {}

    @Test func aBodyThatIgnoresCancellationDoesNotHoldTheCaller() async throws {
        let release = Atomic<Bool>(false)
        let started = ContinuousClock.now
        await #expect(throws: TimedOut.self) {
            try await withDeadline(.milliseconds(100), onTimeout: { TimedOut() }) {
                // Deaf to cancellation, like a driver call stuck on a dead socket.
                while !release.load(ordering: .relaxed) { usleep(5_000) }
                return 1
            }
        }
        #expect(started.duration(to: .now) < .seconds(2))
        release.store(true, ordering: .relaxed)
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
