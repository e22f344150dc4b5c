import Foundation

/// BERT's text clean-up and word splitting as a `tokenizer.json` configures them (Hugging Face's
/// `BertNormalizer` and `BertPreTokenizer`): control characters dropped and whitespace made a
/// space; CJK ideographs set apart; accents stripped (NFD, then non-spacing marks dropped); lower
/// case; then words split at whitespace with each punctuation character a word of its own.
struct BertNormalizer: Sendable {
    var cleanText = true
    var handleChineseCharacters = true
    var stripAccents = true
    var lowercase = true

    /// The words of one stretch of text, each as its Unicode scalars.
    func words(_ text: Substring) -> [[Unicode.Scalar]] {
        var scalars = normalized(text)
        scalars.append(" ")
        var words: [[Unicode.Scalar]] = []
        var word: [Unicode.Scalar] = []
        for scalar in scalars {
            if UnicodeClasses.isWhitespace(scalar) {
                if !word.isEmpty { words.append(word) }
                word.removeAll(keepingCapacity: true)
            } else if UnicodeClasses.isPunctuation(scalar) {
                if !word.isEmpty { words.append(word) }
                word.removeAll(keepingCapacity: true)
                words.append([scalar])
            } else {
                word.append(scalar)
            }
        }
        return words
    }

    func normalized(_ text: Substring) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if cleanText {
                if UnicodeClasses.isDropped(scalar) { continue }
                if UnicodeClasses.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if handleChineseCharacters, UnicodeClasses.isChineseCharacter(scalar) {
                scalars.append(contentsOf: [" ", scalar, " "])
            } else {
                scalars.append(scalar)
            }
        }
        if stripAccents {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            scalars = String(view).decomposedStringWithCanonicalMapping.unicodeScalars.filter { !UnicodeClasses.isNonSpacingMark($0) }
        }
        if lowercase {
            scalars = scalars.flatMap { scalar in
                scalar.properties.changesWhenLowercased ? Array(scalar.properties.lowercaseMapping.unicodeScalars) : [scalar]
            }
        }
        return scalars
    }
}
