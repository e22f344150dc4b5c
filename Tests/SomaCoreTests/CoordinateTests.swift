import Testing
@testable import SomaCore

@Suite struct CoordinateTests {
    @Test func parsesAndPrintsCanonically() throws {
        let coordinate = try Coordinate(parsing: "1, 2.5,-3")
        #expect(coordinate.values == [1, 2.5, -3])
        #expect(coordinate.canonical == "1,2.5,-3")
        #expect(try Coordinate(parsing: "1.0,0.1,-0,1e3").canonical == "1,0.1,0,1000")
        #expect(try Coordinate([0.30000000000000004]).canonical == "0.30000000000000004")
        #expect(try Coordinate(parsing: " 7 ").canonical == "7")
    }

    @Test(arguments: ["", "  ", "1,,2", "a,b", "1,x", "NaN", "1,nan", "inf", "-Infinity", "1e999", "0x10", "1;2"])
    func rejectsBadText(_ text: String) {
        #expect(throws: CoordinateError.self) { try Coordinate(parsing: text) }
    }

    @Test func rejectsNonFiniteValues() {
        #expect(throws: CoordinateError.notFinite(position: 2)) { try Coordinate([1, .nan]) }
        #expect(throws: CoordinateError.notFinite(position: 1)) { try Coordinate([.infinity]) }
        #expect(throws: CoordinateError.empty) { try Coordinate([]) }
    }

    @Test func capsDimensions() throws {
        let text = Array(repeating: "1", count: 33).joined(separator: ",")
        #expect(throws: CoordinateError.tooManyDimensions(33, max: 32)) { try Coordinate(parsing: text) }
        #expect(try Coordinate(parsing: text, maxDimensions: 40).dimensions == 33)
        #expect(throws: CoordinateError.self) { try Coordinate([1, 2, 3], maxDimensions: 2) }
    }

    @Test func boxIsInclusive() throws {
        let low = try Coordinate([0, 0]), high = try Coordinate([1, 1])
        #expect(try Coordinate([0, 1]).isInside(min: low, max: high))
        #expect(!(try Coordinate([1.01, 0]).isInside(min: low, max: high)))
        #expect(!(try Coordinate([0.5]).isInside(min: low, max: high)))
    }
}

@Suite struct IdentityTests {
    @Test func idIsAStableVersion5UUID() throws {
        let coordinate = try Coordinate(parsing: "1,2,3")
        let id = MemoryID.make(namespace: "ns", coordinate: coordinate)
        #expect(id == MemoryID.make(namespace: "ns", coordinate: try Coordinate(parsing: "1.0, 2, 3")))
        #expect(id != MemoryID.make(namespace: "other", coordinate: coordinate))
        #expect(id != MemoryID.make(namespace: "ns", coordinate: try Coordinate(parsing: "1,2,4")))
        let text = id.uuidString
        #expect(Array(text)[14] == "5")
        #expect("89AB".contains(Array(text)[19]))
    }

    @Test func importanceIsMonotoneAndNeverCollapses() {
        let raws: [Double] = [-1000, -10, -1, -0.5, 0, 0.001, 0.5, 1, 2, 10, 1000, 1e9]
        let weights = raws.map(Importance.normalised)
        #expect(weights == weights.sorted())
        #expect(Set(weights).count == raws.count, "distinct raw values get distinct weights")
        #expect(weights.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(Importance.normalised(0) == 0.5)
        #expect(Importance.normalised(3) == Importance.normalised(3))
        #expect(Importance.normalised(1e9) != Importance.normalised(1e9 + 1))
    }
}
