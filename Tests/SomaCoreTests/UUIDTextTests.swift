import Foundation
import Testing
import SomaCore

@Suite struct UUIDTextTests {
    @Test func readsWhatFoundationReads() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(UUID(parsing: id.uuidString) == id)
            #expect(UUID(parsing: id.uuidString.lowercased()) == id)
        }
        let mixed = "6f2B6f9a-3C1e-5d4A-9b7e-1F0c2a8d4E51"
        #expect(UUID(parsing: mixed) == UUID(uuidString: mixed))
    }

    @Test func writesWhatFoundationWrites() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.text(lowercase: false) == id.uuidString)
            #expect(id.text(lowercase: true) == id.uuidString.lowercased())
        }
        let edges = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!]
        for id in edges { #expect(id.text(lowercase: true) == id.uuidString.lowercased()) }
    }

    /// Whatever Foundation refuses is refused: wrong lengths, hyphens out of place, non-hex digits.
    @Test(arguments: [
        "", "6f2b6f9a3c1e5d4a9b7e1f0c2a8d4e51", "6f2b6f9a-3c1e-5d4a-9b7e-1f0c2a8d4e5", "6f2b6f9a-3c1e-5d4a-9b7e-1f0c2a8d4e511",
        "6f2b6f9a-3c1e-5d4a-9b7e1-f0c2a8d4e51", "6f2b6f9g-3c1e-5d4a-9b7e-1f0c2a8d4e51", "6f2b6f9a-3c1e-5d4a-9b7e-1f0c2a8d4e5 ",
        "{6f2b6f9a-3c1e-5d4a-9b7e-1f0c2a8d4e}", "6f2b6f9a-3c1e-5d4a-9b7e-1f0c2a8d4é",
    ])
    func refusesWhatFoundationRefuses(text: String) {
        #expect(UUID(uuidString: text) == nil)
        #expect(UUID(parsing: text) == nil)
    }
}
