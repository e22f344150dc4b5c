import Crypto
import Foundation

/// A memory's id: UUID version 5 of its namespace and canonical coordinate, so one memory
/// always maps to the same vector point and event key in every backend.
public enum MemoryID {
    /// The UUID namespace for SomaFractalMemory ids (itself a v5 UUID of "somafractalmemory" in the URL namespace).
    static let namespace = UUID(uuidString: "6f2b6f9a-3c1e-5d4a-9b7e-1f0c2a8d4e51")!

    public static func make(namespace: String, coordinate: Coordinate) -> UUID {
        uuid5(name: "\(namespace):\(coordinate.canonical)")
    }

    static func uuid5(name: String) -> UUID {
        var bytes = withUnsafeBytes(of: namespace.uuid) { Array($0) }
        bytes.append(contentsOf: Array(name.utf8))
        var digest = Array(Insecure.SHA1.hash(data: bytes).prefix(16))
        digest[6] = (digest[6] & 0x0F) | 0x50  // version 5
        digest[8] = (digest[8] & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(
            uuid: (
                digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
                digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]
            ))
    }
}
