import Foundation

/// BERT's WordPiece tokenizer as the model's `tokenizer.json` configures it: special tokens found
/// in the raw text first, the rest normalized and split into words, each word cut greedily into
/// the longest vocabulary pieces (`##` marks a continuation; a word with no cut, or longer than
/// the limit, is `[UNK]`), then `[CLS] … [SEP]`, truncated to the model's sequence length.
/// Gives the same ids as Hugging Face's `tokenizers` loading the same file (tested on thousands of
/// generated strings). The file's fixed padding is not applied: the encoder packs texts unpadded.
public struct WordPieceTokenizer: Sendable {
    /// Vocabulary keys compared byte for byte: Swift's `String` equality is canonical, which would
    /// match a decomposed Hangul word to a precomposed entry that `tokenizers` never matches.
    private struct Piece: Hashable {
        let bytes: [UInt8]
    }

    private let vocabulary: [Piece: Int32]
    private let specialTokens: [(text: String, id: Int32)]
    private let normalizer: BertNormalizer
    private let continuationPrefix: [UInt8]
    private let maxWordCharacters: Int
    let unknown: Int32
    let classifier: Int32
    let separator: Int32
    /// Tokens per text, `[CLS]` and `[SEP]` included.
    let maxLength: Int

    init(contentsOf url: URL, maxLength: Int) throws {
        let json = try ModelDirectory.object(url)
        func fail(_ problem: String) -> ModelFileError { ModelFileError(url, problem) }
        guard let model = json["model"] as? [String: Any], model["type"] as? String == "WordPiece",
            let entries = model["vocab"] as? [String: Int], !entries.isEmpty
        else { throw fail("does not describe a WordPiece model with a vocabulary") }
        var vocabulary: [Piece: Int32] = [:]
        vocabulary.reserveCapacity(entries.count)
        for (token, id) in entries { vocabulary[Piece(bytes: Array(token.utf8))] = Int32(id) }
        func id(_ token: String) throws -> Int32 {
            guard let id = vocabulary[Piece(bytes: Array(token.utf8))] else { throw fail("has no token \(token) in its vocabulary") }
            return id
        }
        self.vocabulary = vocabulary
        unknown = try id(model["unk_token"] as? String ?? "[UNK]")
        classifier = try id("[CLS]")
        separator = try id("[SEP]")
        continuationPrefix = Array((model["continuing_subword_prefix"] as? String ?? "##").utf8)
        maxWordCharacters = model["max_input_chars_per_word"] as? Int ?? 100
        guard maxLength >= 2 else { throw fail("needs room for [CLS] and [SEP]") }
        self.maxLength = maxLength

        guard let normalizer = json["normalizer"] as? [String: Any], normalizer["type"] as? String == "BertNormalizer",
            (json["pre_tokenizer"] as? [String: Any])?["type"] as? String == "BertPreTokenizer"
        else { throw fail("does not configure BertNormalizer and BertPreTokenizer") }
        let lowercase = normalizer["lowercase"] as? Bool ?? true
        // `strip_accents: null` follows `lowercase`, as in BertTokenizer.
        self.normalizer = BertNormalizer(
            cleanText: normalizer["clean_text"] as? Bool ?? true, handleChineseCharacters: normalizer["handle_chinese_chars"] as? Bool ?? true,
            stripAccents: normalizer["strip_accents"] as? Bool ?? lowercase, lowercase: lowercase)
        let added = (json["added_tokens"] as? [[String: Any]] ?? []).compactMap { token -> (String, Int32)? in
            guard let content = token["content"] as? String, let id = token["id"] as? Int, !content.isEmpty else { return nil }
            return (content, Int32(id))
        }
        // Longest first, so the leftmost match is also the longest.
        specialTokens = added.sorted { $0.0.utf8.count > $1.0.utf8.count }.map { (text: $0.0, id: $0.1) }
    }

    /// The ids of one text: `[CLS]`, at most `maxLength - 2` pieces, `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classifier]
        let limit = maxLength - 1
        for segment in segments(text) {
            switch segment {
            case .special(let id):
                ids.append(id)
            case .text(let stretch):
                for word in normalizer.words(stretch) {
                    pieces(of: word, into: &ids)
                    if ids.count >= limit { break }
                }
            }
            if ids.count >= limit { break }
        }
        if ids.count > limit { ids.removeLast(ids.count - limit) }
        ids.append(separator)
        return ids
    }

    private enum Segment {
        case special(Int32)
        case text(Substring)
    }

    /// The text cut at each special token (matched in the raw text, leftmost and longest first).
    private func segments(_ text: String) -> [Segment] {
        var segments: [Segment] = []
        var start = text.unicodeScalars.startIndex
        var cursor = start
        let scalars = text.unicodeScalars
        outer: while cursor < scalars.endIndex {
            for special in specialTokens where scalars[cursor...].starts(with: special.text.unicodeScalars) {
                if start < cursor { segments.append(.text(Substring(scalars[start..<cursor]))) }
                segments.append(.special(special.id))
                cursor = scalars.index(cursor, offsetBy: special.text.unicodeScalars.count)
                start = cursor
                continue outer
            }
            cursor = scalars.index(after: cursor)
        }
        if start < scalars.endIndex { segments.append(.text(Substring(scalars[start...]))) }
        return segments
    }

    /// Greedy longest-match-first WordPiece of one word.
    private func pieces(of word: [Unicode.Scalar], into ids: inout [Int32]) {
        guard word.count <= maxWordCharacters else {
            ids.append(unknown)
            return
        }
        // Byte offset of each scalar, so every candidate piece is a slice of one UTF-8 buffer.
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        for scalar in word {
            bytes.append(contentsOf: UTF8.encode(scalar)!)
            offsets.append(bytes.count)
        }
        let firstPiece = ids.count
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while end > start {
                let candidate = start > 0 ? continuationPrefix + bytes[offsets[start]..<offsets[end]] : Array(bytes[offsets[start]..<offsets[end]])
                if let id = vocabulary[Piece(bytes: candidate)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                ids.removeLast(ids.count - firstPiece)
                ids.append(unknown)
                return
            }
            ids.append(found)
            start = end
        }
    }
}
