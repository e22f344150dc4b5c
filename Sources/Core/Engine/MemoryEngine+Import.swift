import Foundation

/// Import of JSON Lines (this build's export and the original's).
extension MemoryEngine {
    /// Stores records read from JSON Lines in one transaction; any bad line rejects the whole import.
    public func importLines(_ text: String, namespace: String) async throws -> Int {
        let decoder = SomaJSON.decoder()
        var drafts: [MemoryDraft] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                if let original = Self.originalExportLine(trimmed) {
                    drafts.append(try OriginalMemory.draft(original, namespace: namespace, maxDimensions: options.maxCoordinateDimensions))
                    continue
                }
                let record = try decoder.decode(ImportRecord.self, from: Data(trimmed.utf8))
                drafts.append(try record.draft(namespace: namespace, maxDimensions: options.maxCoordinateDimensions))
            } catch let error as OriginalMemory.Refused {
                throw EngineError.invalid("line \(number + 1): \(error.description)")
            } catch let error as EngineError {
                throw EngineError.invalid("line \(number + 1): \(error.description)")
            } catch {
                let problem = (error as? DecodingError).flatMap(DecodingProblem.describe) ?? "malformed JSON"
                throw EngineError.invalid("line \(number + 1): not a memory record (\(problem))")
            }
        }
        return try await store(drafts).count
    }

    /// A line of the original service's export: the memory itself, its fields beside its
    /// `coordinate` and `memory_type`, where this build's export nests them under `payload`.
    static func originalExportLine(_ line: String) -> JSONValue? {
        guard let value = try? JSONReader.value(Array(line.utf8)), value["coordinate"] != nil else { return nil }
        if case .object? = value["payload"] { return nil }
        return value
    }
}
