import Foundation

/// A read-only file mapped into memory: the weights are paged in as the encoder touches them and
/// shared with the page cache, never copied onto the heap.
final class MappedFile: @unchecked Sendable {
    let url: URL
    let bytes: UnsafeRawBufferPointer

    init(_ url: URL) throws {
        self.url = url
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw ModelFileError(url, "cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ModelFileError(url, "cannot be read: \(String(cString: strerror(errno)))") }
        let size = Int(status.st_size)
        guard size > 0 else { throw ModelFileError(url, "is empty") }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
            throw ModelFileError(url, "cannot be mapped: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}

/// A model file that is missing, unreadable or not what the model needs; says which file and why.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String

    init(_ url: URL, _ problem: String) {
        self.file = url.path
        self.problem = problem
    }

    public var description: String { "\(file) \(problem)" }
}
