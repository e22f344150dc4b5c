/// The character classes BERT's tokenizer cleans and splits by, exactly as Hugging Face's
/// `tokenizers` decides them (`BertUnicodeTables`, generated from it). Swift's own Unicode
/// properties differ on a few hundred characters (which marks count as accents, which format
/// characters are dropped), and each difference would be a different token id.
enum UnicodeClasses {
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || BertUnicodeTables.whitespace.contains(scalar.value)
    }

    /// What clean-up drops: NUL, U+FFFD, control and format characters, private use; not tab or newlines.
    static func isDropped(_ scalar: Unicode.Scalar) -> Bool {
        BertUnicodeTables.dropped.contains(scalar.value)
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        BertUnicodeTables.punctuation.contains(scalar.value)
    }

    static func isNonSpacingMark(_ scalar: Unicode.Scalar) -> Bool {
        BertUnicodeTables.nonSpacingMark.contains(scalar.value)
    }

    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        BertUnicodeTables.chinese.contains(scalar.value)
    }
}

/// Sorted, non-overlapping closed ranges of code points, searched by bisection.
struct ScalarRanges: Sendable {
    let ranges: [ClosedRange<UInt32>]

    init(_ ranges: [ClosedRange<UInt32>]) {
        self.ranges = ranges
    }

    func contains(_ value: UInt32) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < ranges.count && ranges[low].contains(value)
    }
}
