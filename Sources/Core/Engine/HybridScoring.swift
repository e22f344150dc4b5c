import Foundation

/// Fuses vector hits (cosine scores) and word hits (normalised BM25 in [0, 1]) into one score in [0, 1].
/// A memory one side did not return gets 0 from that side.
struct HybridScoring {
    var fusion: HybridFusion
    /// The keyword side's share; `boost` scales it against the vector side's (1 - keywordWeight).
    var keywordWeight: Double
    var boost: Double
    var rrfK: Double

    /// The two sides' weights, summing to 1 (both 0.5 when both are 0).
    var weights: (vector: Double, keyword: Double) {
        let keyword = keywordWeight * boost, vector = 1 - keywordWeight
        guard keyword + vector > 0 else { return (0.5, 0.5) }
        return (vector / (keyword + vector), keyword / (keyword + vector))
    }

    func fuse(vector: [ScoredMemory], keyword: [ScoredMemory]) -> [ScoredMemory] {
        let (vectorWeight, keywordWeight) = weights
        var fused: [UUID: ScoredMemory] = [:]
        func add(_ hits: [ScoredMemory], weight: Double) {
            for (rank, hit) in hits.enumerated() {
                let part = switch fusion {
                case .weighted: weight * min(1, max(0, hit.score))
                case .rrf: weight * (rrfK + 1) / (rrfK + Double(rank + 1))
                }
                fused[hit.memory.id, default: ScoredMemory(memory: hit.memory, score: 0)].score += part
            }
        }
        add(vector, weight: vectorWeight)
        add(keyword, weight: keywordWeight)
        return Array(fused.values)
    }
}
