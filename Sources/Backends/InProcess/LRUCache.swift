/// A least-recently-used map with a fixed capacity: O(1) get, set and eviction,
/// through a doubly linked list threaded through an array of slots.
struct LRUCache<Value> {
    private struct Slot {
        var key: String
        var value: Value
        var previous: Int?
        var next: Int?
    }

    let capacity: Int
    private var slots: [Slot] = []
    private var index: [String: Int] = [:]
    private var free: [Int] = []
    private var head: Int?  // most recently used
    private var tail: Int?  // least recently used

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    var count: Int { index.count }

    mutating func get(_ key: String) -> Value? {
        guard let slot = index[key] else { return nil }
        moveToFront(slot)
        return slots[slot].value
    }

    /// Returns the entry evicted to make room, if any.
    @discardableResult
    mutating func set(_ key: String, _ value: Value) -> (key: String, value: Value)? {
        if let slot = index[key] {
            slots[slot].value = value
            moveToFront(slot)
            return nil
        }
        var evicted: (String, Value)?
        if index.count >= capacity, let last = tail {
            evicted = (slots[last].key, slots[last].value)
            remove(slots[last].key)
        }
        let slot: Int
        if let reused = free.popLast() {
            slots[reused] = Slot(key: key, value: value, previous: nil, next: nil)
            slot = reused
        } else {
            slots.append(Slot(key: key, value: value, previous: nil, next: nil))
            slot = slots.count - 1
        }
        index[key] = slot
        linkAtFront(slot)
        return evicted
    }

    @discardableResult
    mutating func remove(_ key: String) -> Value? {
        guard let slot = index.removeValue(forKey: key) else { return nil }
        unlink(slot)
        free.append(slot)
        return slots[slot].value
    }

    private mutating func moveToFront(_ slot: Int) {
        guard head != slot else { return }
        unlink(slot)
        linkAtFront(slot)
    }

    private mutating func linkAtFront(_ slot: Int) {
        slots[slot].previous = nil
        slots[slot].next = head
        if let head { slots[head].previous = slot }
        head = slot
        if tail == nil { tail = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let previous = slots[slot].previous, next = slots[slot].next
        if let previous { slots[previous].next = next } else { head = next }
        if let next { slots[next].previous = previous } else { tail = previous }
        slots[slot].previous = nil
        slots[slot].next = nil
    }
}
