import Foundation
import SomaCore
import Testing

/// What every `Embedder` must do, whatever computes the vectors: the declared dimension, the same
/// vector for the same text however it is batched or asked for, and an answer for any text a
/// memory may hold (empty, very long, unusual characters).
public enum EmbedderConformance {
    public typealias Check = ConformanceCheck<any Embedder>

    static let texts = ["Falcon launch moved to Friday", "Priya brought coffee", "invoice INV-2291 paid on 2026-11-30", "東京の会議は金曜日です"]

    static func expectClose(_ a: [Float], _ b: [Float], _ label: String) {
        #expect(a.count == b.count, "\(label): dimension")
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "\(label): components differ by up to \(worst)")
    }

    static func expectUsable(_ vectors: [[Float]], count: Int, _ embedder: any Embedder, _ label: String) {
        #expect(vectors.count == count, "\(label): one vector per text")
        #expect(vectors.allSatisfy { $0.count == embedder.dimension }, "\(label): the declared dimension")
        #expect(vectors.allSatisfy { $0.allSatisfy(\.isFinite) }, "\(label): finite values")
    }

    public static let checks: [Check] = [
        Check("vectors have the declared dimension, finite values, and differ for different texts") { embedder in
            #expect(embedder.dimension > 0 && !embedder.modelID.isEmpty)
            let vectors = try await embedder.embed(texts)
            expectUsable(vectors, count: texts.count, embedder, "texts")
            #expect(Set(vectors.map { $0.map(\.bitPattern) }).count == texts.count, "different texts, different vectors")
        },
        Check("the same text gives the same vector, alone, in a batch, or as a query") { embedder in
            let batch = try await embedder.embed(texts)
            for (index, text) in texts.enumerated() {
                expectClose(try await embedder.embed([text])[0], batch[index], "alone vs batch: \(text)")
                expectClose(try await embedder.embedQuery(text), batch[index], "query vs batch: \(text)")
            }
            expectClose(try await embedder.embed([texts[0]])[0], try await embedder.embed([texts[0]])[0], "twice")
        },
        Check("no texts give no vectors; empty and blank texts give vectors") { embedder in
            #expect(try await embedder.embed([]).isEmpty)
            expectUsable(try await embedder.embed(["", "   ", "\n"]), count: 3, embedder, "empty and blank")
        },
        Check("a very long text and unusual characters embed without error") { embedder in
            let long = String(repeating: "a long memory about rockets, weather and launch windows. ", count: 1000)
            let unusual = [
                "nul\u{0}inside", "😀 👍🏽 🏳️‍🌈", "e\u{301}\u{302}\u{303} combining", "שלום עולם", "\u{FEFF}\u{200B}zero width",
                String(repeating: "x", count: 5000),
            ]
            expectUsable(try await embedder.embed([long] + unusual), count: unusual.count + 1, embedder, "long and unusual")
        },
    ]
}
