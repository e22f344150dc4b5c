/// A word-search query as a person writes it: any word may match; a "quoted phrase" must appear as
/// written (its words adjacent, in order, stop words included).
public struct WordQuery: Sendable, Equatable {
    /// Distinct non-stop words of the whole query (phrases included), in first-seen order.
    public var terms: [String]
    /// Each quoted phrase's words, stop words included.
    public var phrases: [[String]]

    public init(terms: [String], phrases: [[String]] = []) {
        self.terms = terms
        self.phrases = phrases
    }

    public init(parsing text: String, extraTerms: [String] = []) {
        var terms: [String] = []
        var seen: Set<String> = []
        var phrases: [[String]] = []
        // Between the 1st and 2nd quote, the 3rd and 4th, ...: phrases. An unclosed quote counts as closed at the end.
        for (index, segment) in text.split(separator: "\"", omittingEmptySubsequences: false).enumerated() {
            let words = WordTokenizer.words(String(segment))
            if index % 2 == 1, !words.isEmpty { phrases.append(words) }
            for word in words where !StopWords.contains(word) && seen.insert(word).inserted { terms.append(word) }
        }
        for word in extraTerms.flatMap(WordTokenizer.terms) where seen.insert(word).inserted { terms.append(word) }
        self.init(terms: terms, phrases: phrases)
    }

    /// Words a match must hold: those of every phrase (adjacency is checked on the text afterwards).
    public var requiredTerms: [String] {
        var seen: Set<String> = []
        return phrases.joined().filter { !StopWords.contains($0) && seen.insert($0).inserted }
    }

    /// True when nothing can match: no word to look for, or a phrase made only of stop words.
    public var matchesNothing: Bool {
        terms.isEmpty || phrases.contains { $0.allSatisfy(StopWords.contains) }
    }

    /// True when `text` holds every phrase as written.
    public func phrasesMatch(_ text: String) -> Bool {
        guard !phrases.isEmpty else { return true }
        let words = WordTokenizer.words(text)
        return phrases.allSatisfy { phrase in
            guard phrase.count <= words.count else { return false }
            return (0...(words.count - phrase.count)).contains { start in
                words[start..<(start + phrase.count)].elementsEqual(phrase)
            }
        }
    }
}
