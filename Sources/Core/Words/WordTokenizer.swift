import Foundation

/// The one tokeniser of word search: storage indexes what it returns for a memory's text and the
/// query is split by it too, so both sides always agree.
///
/// A word is a run of letters and digits, compatibility-decomposed (full-width forms, ligatures),
/// accent-stripped and lower-cased: "Café", "CAFE" and "café" are one word. Han ideographs and
/// kana are written without spaces, so each is a word of its own. Everything else separates words.
public enum WordTokenizer {
    /// Every word of `text`, in order, stop words included (phrases need them).
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func finish() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in text.decomposedStringWithCompatibilityMapping.unicodeScalars {
            let properties = scalar.properties
            if properties.generalCategory == .nonspacingMark || properties.generalCategory == .enclosingMark {
                continue  // an accent, split off by the decomposition
            }
            guard isWordScalar(properties) else {
                finish()
                continue
            }
            if isUnspacedScript(scalar) {
                finish()
                words.append(String(scalar))
            } else {
                current.append(contentsOf: properties.lowercaseMapping.unicodeScalars)
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
             .decimalNumber, .letterNumber, .otherNumber, .spacingMark:
            return true
        default:
            return false
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
