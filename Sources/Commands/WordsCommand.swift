import ArgumentParser
import Foundation
import SomaCore

/// What word search sees of a text: for finding out why a memory does or does not match, and for
/// the BM25 parity test, which gives the reference implementation exactly these words.
struct WordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "words",
        abstract: "Print the words word search indexes, one JSON array per text (folded, stop words dropped).",
        discussion: "Without texts, each line of standard input is one text.")

    @Flag(help: "Keep stop words (phrases are matched with them).") var all = false
    @Argument(help: "Texts to split.") var texts: [String] = []

    func run() {
        func emit(_ text: String) {
            let words = all ? WordTokenizer.words(text) : WordTokenizer.terms(text)
            print(JSONWriter.text(.array(words.map(JSONValue.string))))
        }
        if texts.isEmpty {
            while let line = readLine(strippingNewline: true) { emit(line) }
        } else {
            texts.forEach(emit)
        }
    }
}
