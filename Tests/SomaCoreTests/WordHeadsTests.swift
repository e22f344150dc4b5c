import Testing
import SomaCore

@Suite struct WordHeadsTests {
    static func holders(_ count: Int, from first: Int64 = 0) -> [WordHolder<Int64>] {
        (0..<Int64(count)).map { WordHolder(document: first + $0, frequency: 1, length: 4) }
    }

    /// Kept holders serve only at the word's change count they were read at.
    @Test func aChangedWordIsReadAgain() {
        let heads = WordHeads<Int64>(minimumHolders: 2, capacity: 100)
        #expect(!heads.keeps(holding: 1) && heads.keeps(holding: 2))
        heads.keep(Self.holders(3), namespace: "n", word: "w", changes: 5)
        #expect(heads.holders(namespace: "n", word: "w", changes: 5)?.map(\.document) == [0, 1, 2])
        #expect(heads.holders(namespace: "n", word: "w", changes: 6) == nil)
        #expect(heads.holders(namespace: "other", word: "w", changes: 5) == nil)
        // A search of an older snapshot does not replace what a newer one read.
        heads.keep(Self.holders(3, from: 10), namespace: "n", word: "w", changes: 7)
        heads.keep(Self.holders(3, from: 20), namespace: "n", word: "w", changes: 6)
        #expect(heads.holders(namespace: "n", word: "w", changes: 7)?.first?.document == 10)
        #expect(heads.holders(namespace: "n", word: "w", changes: 6) == nil)
    }

    /// Past its capacity, the least recently used word goes first; a list larger than the whole is not kept.
    @Test func theLeastRecentlyUsedWordGoesFirst() {
        let heads = WordHeads<Int64>(minimumHolders: 1, capacity: 10)
        heads.keep(Self.holders(4), namespace: "n", word: "a", changes: 1)
        heads.keep(Self.holders(4), namespace: "n", word: "b", changes: 1)
        #expect(heads.holders(namespace: "n", word: "a", changes: 1) != nil)
        heads.keep(Self.holders(4), namespace: "n", word: "c", changes: 1)
        #expect(heads.count == 2)
        #expect(heads.holders(namespace: "n", word: "b", changes: 1) == nil)
        #expect(heads.holders(namespace: "n", word: "a", changes: 1) != nil)
        #expect(heads.holders(namespace: "n", word: "c", changes: 1) != nil)
        heads.keep(Self.holders(11), namespace: "n", word: "d", changes: 1)
        #expect(heads.holders(namespace: "n", word: "d", changes: 1) == nil)
        #expect(heads.count == 2)
    }

    /// Lookups are kept beside the word's holders and serve only at the same change count; past
    /// the capacity each counts as two holders.
    @Test func lookupsServeWhileTheWordIsUnchanged() {
        let heads = WordHeads<Int64>(minimumHolders: 1, capacity: 12)
        let held = WordHolder<Int64>(document: 42, frequency: 3, length: 9)
        // No holders kept at these changes: nothing to keep lookups beside.
        heads.keep(probes: [42: held], namespace: "n", word: "w", changes: 1)
        #expect(heads.probes(namespace: "n", word: "w", changes: 1, of: [42]).map { $0 == nil } == [true])
        heads.keep(Self.holders(3), namespace: "n", word: "w", changes: 1)
        heads.keep(probes: [42: held, 43: nil], namespace: "n", word: "w", changes: 1)
        let known = heads.probes(namespace: "n", word: "w", changes: 1, of: [42, 43, 44])
        #expect(known.count == 3)
        #expect(known[0]??.frequency == 3 && known[0]??.length == 9)
        #expect(known[1] != nil && known[1]! == nil)
        #expect(known[2] == nil)
        #expect(heads.probes(namespace: "n", word: "w", changes: 2, of: [42]).map { $0 == nil } == [true])
        // Frequency and length are kept whole, at their widest.
        let widest = WordHolder<Int64>(document: 45, frequency: Int(UInt32.max), length: Int(UInt32.max) - 1)
        heads.keep(probes: [45: widest], namespace: "n", word: "w", changes: 1)
        let kept = heads.probes(namespace: "n", word: "w", changes: 1, of: [45])[0]
        #expect(kept??.document == 45 && kept??.frequency == UInt32.max && kept??.length == UInt32.max - 1)
        // Lookups kept at other changes are not kept.
        heads.keep(probes: [44: nil], namespace: "n", word: "w", changes: 2)
        #expect(heads.probes(namespace: "n", word: "w", changes: 1, of: [44]).map { $0 == nil } == [true])
        // 3 holders + 3 lookups (2 each) + another word's 6 holders pass 12: the lookups go, the holders stay.
        heads.keep(Self.holders(6), namespace: "n", word: "v", changes: 1)
        #expect(heads.count == 2)
        #expect(heads.probes(namespace: "n", word: "w", changes: 1, of: [42]).map { $0 == nil } == [true])
        #expect(heads.holders(namespace: "n", word: "w", changes: 1) != nil)
    }

    /// Past the capacity lookups go before holders, the least recently used word's first, even when
    /// the word looked up in is the one used last.
    @Test func lookupsNeverPushHoldersOut() {
        let heads = WordHeads<Int64>(minimumHolders: 1, capacity: 100)
        heads.keep(Self.holders(20), namespace: "n", word: "a", changes: 1)
        heads.keep(Self.holders(20), namespace: "n", word: "b", changes: 1)
        func absent(_ documents: Range<Int64>) -> [Int64: WordHolder<Int64>?] {
            Dictionary(uniqueKeysWithValues: documents.map { ($0, nil) })
        }
        heads.keep(probes: absent(100..<120), namespace: "n", word: "b", changes: 1)  // 80 units in all
        _ = heads.holders(namespace: "n", word: "a", changes: 1)
        heads.keep(probes: absent(100..<120), namespace: "n", word: "a", changes: 1)  // 120: b's lookups go
        #expect(heads.probes(namespace: "n", word: "b", changes: 1, of: [100]).map { $0 == nil } == [true])
        #expect(heads.probes(namespace: "n", word: "a", changes: 1, of: [100]).map { $0 != nil } == [true])
        heads.keep(probes: absent(200..<240), namespace: "n", word: "a", changes: 1)  // 160: a's own go too
        #expect(heads.probes(namespace: "n", word: "a", changes: 1, of: [100]).map { $0 == nil } == [true])
        #expect(heads.count == 2)
        #expect(heads.holders(namespace: "n", word: "a", changes: 1) != nil)
        #expect(heads.holders(namespace: "n", word: "b", changes: 1) != nil)
    }
}
