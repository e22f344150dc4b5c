import Logging
import Synchronization
import Testing
@testable import SomaService

@Suite struct PeriodicServiceTests {
    struct Failure: Error {}

    /// Plays a script of pass results (a count, or nil for a failure) and counts the passes run.
    final class Script: Sendable {
        let outcomes: Mutex<[Int?]>
        let passes = Mutex(0)
        init(_ outcomes: [Int?]) { self.outcomes = Mutex(outcomes) }

        func pass() throws -> Int {
            passes.withLock { $0 += 1 }
            guard let next = outcomes.withLock({ $0.isEmpty ? 0 : $0.removeFirst() }) else { throw Failure() }
            return next
        }
    }

    func run(_ script: Script, drains: Bool, until passes: Int) async throws -> Int {
        // An hour between passes: any pass beyond the first ones must come from draining.
        let service = PeriodicService(
            description: "test", interval: .seconds(3600), drains: drains, handled: "handled", logger: Logger(label: "test")
        ) {
            try script.pass()
        }
        let running = Task { try await service.run() }
        for _ in 0..<500 where script.passes.withLock({ $0 }) < passes { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(200))
        running.cancel()
        try await running.value  // the wait is cancelled: the service ends
        return script.passes.withLock { $0 }
    }

    @Test func aDrainingServiceRunsAgainAtOnceUntilAPassFindsNothing() async throws {
        #expect(try await run(Script([3, 2, 0, 7]), drains: true, until: 3) == 3, "3 and 2 drain on; 0 waits the interval")
    }

    @Test func aServiceThatDoesNotDrainWaitsAfterEveryPass() async throws {
        #expect(try await run(Script([3, 2]), drains: false, until: 1) == 1)
    }

    @Test func aFailingPassWaitsTheIntervalRatherThanSpinning() async throws {
        #expect(try await run(Script([nil, 5]), drains: true, until: 1) == 1)
    }
}
