import Foundation
import Testing
import SomaCore

@Suite struct BestHitsTests {
    /// Whatever order hits arrive in, the kept ones are what sorting them all and taking the first
    /// `limit` gives, ties broken by id.
    @Test(arguments: [0, 1, 3, 10, 500])
    func keepsWhatAFullSortWouldKeep(limit: Int) {
        var generator = SystemRandomNumberGenerator()
        // Few distinct scores, so ties are common.
        let hits = (0..<300).map { _ in VectorHit(id: UUID(), score: Double(Int.random(in: 0..<20, using: &generator)) / 20) }
        for order in [hits, hits.reversed(), hits.shuffled(using: &generator)] {
            var best = BestHits(limit: limit)
            for hit in order where best.admits(score: hit.score) { best.offer(hit) }
            #expect(best.hits == Array(hits.sorted(by: VectorHit.bestFirst).prefix(limit)))
        }
    }
}
