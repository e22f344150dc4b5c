/// The two kinds of memory the original service knew.
public enum MemoryType: String, Sendable, Codable, CaseIterable, Hashable, NamedChoice {
    case episodic
    case semantic
}
