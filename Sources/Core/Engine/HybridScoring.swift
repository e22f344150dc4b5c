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

    enum Side { case vector, keyword }

    /// What a side's score adds before weighting: cosine clipped to [0, 1]; the keyword score
    /// squared, so a partial match of common words adds little and a full match adds its whole
    /// weight (measured: it halves the loss on questions that share no word with their memory
    /// for the same gain on names and dates; BENCHMARKS.md).
    static func contribution(_ score: Double, side: Side) -> Double {
        let clipped = min(1, max(0, score))
        return side == .vector ? clipped : clipped * clipped
    }

    /// Each memory's fused score, from each side's hits best first (reciprocal rank fusion reads
    /// their order; weighted fusion only their scores).
    func fuse(vector: [ScoredID], keyword: [ScoredID]) -> [UUID: Double] {
        let (vectorWeight, keywordWeight) = weights
        var fused: [UUID: Double] = [:]
        func add(_ hits: [ScoredID], weight: Double, side: Side) {
            for (rank, hit) in hits.enumerated() {
                let part =
                    switch fusion {
                    case .weighted: weight * Self.contribution(hit.score, side: side)
                    case .rrf: weight * (rrfK + 1) / (rrfK + Double(rank + 1))
                    }
                fused[hit.id, default: 0] += part
            }
        }
        add(vector, weight: vectorWeight, side: .vector)
        add(keyword, weight: keywordWeight, side: .keyword)
        return fused
    }
}

/// A memory's score on one side of hybrid recall, before its record is needed.
struct ScoredID {
    var id: UUID
    var score: Double
}
