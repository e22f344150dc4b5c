import Foundation
import Testing

@testable import SomaMiniLM

@Suite struct TokenizerTests {
    let tokenizer: WordPieceTokenizer

    init() throws {
        let directory = try ModelDirectory(Reference.modelDirectory)
        tokenizer = try WordPieceTokenizer(contentsOf: directory.tokenizer, maxLength: directory.maxSequenceLength)
    }

    /// Generated strings (ASCII, accents, CJK, emoji, control and zero-width characters, random code
    /// points of every plane, over-long words, empty strings, texts over 256 tokens, special tokens
    /// written in the text): every id as Hugging Face's `tokenizers` gives it for the same file.
    @Test func idsMatchHuggingFaceTokenizers() async throws {
        let cases = try await Reference.tokenCases(count: 2500, seed: 20261201)
        #expect(cases.count == 2500)
        var mismatches: [String] = []
        for item in cases {
            let ids = tokenizer.encode(item.text)
            if ids != item.ids {
                mismatches.append(
                    "\(item.text.unicodeScalars.prefix(40).map { String($0.value, radix: 16) }): \(ids.prefix(40)) != \(item.ids.prefix(40))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ; first: \(mismatches.prefix(3).joined(separator: "\n"))")
        // The generator must reach the limits it claims to test.
        #expect(cases.contains { $0.ids.count == 256 })
        #expect(cases.contains { $0.ids.contains(tokenizer.unknown) })
        #expect(cases.contains { $0.ids == [tokenizer.classifier, tokenizer.separator] })
    }

    @Test func knownPieces() {
        #expect(tokenizer.encode("") == [101, 102])
        // Lower case, accents stripped, punctuation split, `##` continuations.
        let ids = tokenizer.encode("Café, unbelievable!")
        #expect(ids.first == 101 && ids.last == 102)
        #expect(ids == tokenizer.encode("cafe , unbelievable !"))
        // A word over 100 characters is one [UNK].
        #expect(tokenizer.encode(String(repeating: "a", count: 101)) == [101, tokenizer.unknown, 102])
        // CJK ideographs are words of their own; special tokens in the text keep their ids.
        #expect(tokenizer.encode("東京") == tokenizer.encode("東 京"))
        #expect(tokenizer.encode("[MASK]") == [101, 103, 102])
        // Truncated at 256 tokens, [CLS] and [SEP] included.
        let long = tokenizer.encode(String(repeating: "memory ", count: 400))
        #expect(long.count == 256 && long.last == 102)
    }
}
