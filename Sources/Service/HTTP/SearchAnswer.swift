import Foundation
import SomaCore

/// The search answer and a memory's answer (store, get), written by hand: the same bytes
/// `JSONResponse.encoder` writes for these views (tests compare the two).
extension MemoryView {
    /// The view as its JSON answer.
    var json: [UInt8] {
        var writer = JSONWriter(capacity: 512)
        write(to: &writer)
        return writer.bytes
    }

    /// The same fields, in sorted key order, as the synthesized Encodable writes them.
    func write(to writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("coord", first: true)
        writer.string(coord)
        writer.key("coordinate")
        writer.raw("[")
        for (position, value) in coordinate.enumerated() {
            if position > 0 { writer.raw(",") }
            writer.number(value)
        }
        writer.raw("]")
        writer.key("created_at")
        writer.string(RFC3339.string(from: createdAt))
        if let embeddingModel {
            writer.key("embedding_model")
            writer.string(embeddingModel)
        }
        if let expiresAt {
            writer.key("expires_at")
            writer.string(RFC3339.string(from: expiresAt))
        }
        writer.key("id")
        writer.string(id.text(lowercase: false))
        writer.key("importance")
        writer.number(importance)
        writer.key("importance_normalized")
        writer.number(importanceNormalized)
        writer.key("namespace")
        writer.string(namespace)
        writer.key("payload")
        writer.object(payload)
        writer.key("type")
        writer.string(type.rawValue)
        writer.key("updated_at")
        writer.string(RFC3339.string(from: updatedAt))
        writer.key("version")
        writer.number(version)
        writer.raw("}")
    }
}

extension ScoredView {
    /// `{"results":[...]}`, the search answer.
    static func results(_ views: [ScoredView]) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + views.count * 512)
        writer.raw("{\"results\":[")
        for (position, view) in views.enumerated() {
            if position > 0 { writer.raw(",") }
            writer.raw("{")
            writer.key("coord", first: true)
            writer.string(view.coord)
            writer.key("memory")
            view.memory.write(to: &writer)
            writer.key("score")
            writer.number(view.score)
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.bytes
    }
}
