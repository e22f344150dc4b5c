import Dispatch
import Foundation
import SomaCore
import Synchronization

/// A fixed team of threads for one forward pass's parallel phases (fork, each member works on
/// its share, join). The calling thread is member 0; `size - 1` helpers wait on semaphores, so an
/// idle team costs nothing, unlike OpenBLAS's own threads, which spin between products. The join
/// spins on a counter instead: a pass has about thirty joins, and a semaphore's wake-up each time
/// was a tenth of a query's latency.
final class WorkerTeam: @unchecked Sendable {
    let size: Int
    private let wakeups: [DispatchSemaphore]
    private let unfinished = Atomic<Int>(0)
    /// Set only while `run` waits for the helpers; the semaphores order every access.
    private var job: ((Int) -> Void)?
    private var stopping = false
    /// Entered by each helper as it starts, left as it ends.
    private let helpers = DispatchGroup()

    init(size: Int, name: String) {
        self.size = max(1, size)
        wakeups = (1..<self.size).map { _ in DispatchSemaphore(value: 0) }
        for member in 1..<self.size {
            helpers.enter()
            NamedThread.start("\(name)-\(member)") { [self] in
                serve(member)
                helpers.leave()
            }
        }
    }

    /// Runs `body(member)` for every member at once and returns when all have finished.
    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            job = body
            unfinished.store(wakeups.count, ordering: .sequentiallyConsistent)
            for wakeup in wakeups { wakeup.signal() }
            body(0)
            var spins = 0
            while unfinished.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 1000 { sched_yield() }
            }
            job = nil
        }
    }

    /// Member `member`'s contiguous share of `count` items.
    func share(_ member: Int, of count: Int) -> Range<Int> {
        (count * member / size)..<(count * (member + 1) / size)
    }

    /// Ends the helpers; call once, when no `run` is under way.
    func stop() {
        stopping = true
        for wakeup in wakeups { wakeup.signal() }
    }

    /// Ends the helpers and waits until their threads have returned; from a thread that may block.
    func stopAndJoin() {
        stop()
        helpers.wait()
    }

    private func serve(_ member: Int) {
        while true {
            wakeups[member - 1].wait()
            if stopping { return }
            job?(member)
            unfinished.subtract(1, ordering: .releasing)
        }
    }
}
