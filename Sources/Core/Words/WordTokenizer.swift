import Foundation

/// The one tokeniser of word search: storage indexes what it returns for a memory's text and the
/// query is split by it too, so both sides always agree.
///
/// A word is a run of letters and digits (with the marks that belong to them), compatibility-
/// decomposed (full-width forms, ligatures), stripped of Latin, Greek and Cyrillic accents,
/// lower-cased and recomposed: "Café", "CAFE" and "café" are one word. Han ideographs and
/// kana are written without spaces, so each is a word of its own. Everything else separates words.
public enum WordTokenizer {
    /// Every word of `text`, in order, stop words included (phrases need them).
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        var lastWordIsUnspaced = false
        func finish() {
            if !current.isEmpty { words.append(String(current).precomposedStringWithCanonicalMapping) }
            current = String.UnicodeScalarView()
        }
        for scalar in text.decomposedStringWithCompatibilityMapping.unicodeScalars {
            let properties = scalar.properties
            if isAccent(scalar) { continue }  // split off by the decomposition: é is e + U+0301
            if isMark(properties) {
                // A mark that is part of its letter (kana's voicing mark, Indic vowel signs) stays with it.
                if !current.isEmpty {
                    current.append(scalar)
                } else if lastWordIsUnspaced, let last = words.popLast() {
                    words.append((last + String(scalar)).precomposedStringWithCanonicalMapping)
                }
                continue
            }
            guard isWordScalar(properties) else {
                finish()
                lastWordIsUnspaced = false
                continue
            }
            if isUnspacedScript(scalar) {
                finish()
                words.append(String(scalar))
                lastWordIsUnspaced = true
            } else {
                current.append(contentsOf: properties.lowercaseMapping.unicodeScalars)
                lastWordIsUnspaced = false
            }
        }
        finish()
        return words
    }

    /// The words that count for matching and ranking: stop words dropped.
    public static func terms(_ text: String) -> [String] {
        words(text).filter { !StopWords.contains($0) }
    }

    static func isWordScalar(_ properties: Unicode.Scalar.Properties) -> Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    static func isMark(_ properties: Unicode.Scalar.Properties) -> Bool {
        [.nonspacingMark, .spacingMark, .enclosingMark].contains(properties.generalCategory)
    }

    /// The combining diacritics of Latin, Greek and Cyrillic letters, which folding removes.
    static func isAccent(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0300...0x036F, 0x1AB0...0x1AFF, 0x1DC0...0x1DFF, 0x20D0...0x20FF, 0xFE20...0xFE2F: true
        default: false
        }
    }

    /// Scripts written without spaces between words: Han (CJK ideographs), Hiragana and Katakana.
    static func isUnspacedScript(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF,  // Hiragana, Katakana and its extensions
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F:  // Han
            return true
        default:
            return false
        }
    }
}
