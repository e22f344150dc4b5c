import Foundation

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw data. Every range is checked against the
/// file before any tensor is read, so a truncated or corrupt file fails here, naming what is wrong.
struct SafeTensors: @unchecked Sendable {
    struct Tensor: Equatable {
        let dtype: String
        let shape: [Int]
        /// Byte range within the file.
        let range: Range<Int>
    }

    private static let elementSizes = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    let file: MappedFile
    let tensors: [String: Tensor]

    init(_ url: URL) throws {
        let file = try MappedFile(url)
        self.file = file
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw ModelFileError(url, "is truncated: \(bytes.count) bytes, shorter than its header length") }
        let headerLength = Int(clamping: bytes.loadUnaligned(as: UInt64.self).littleEndian)
        guard headerLength <= bytes.count - 8 else {
            throw ModelFileError(
                url, "is truncated or corrupt: its header claims \(headerLength) bytes, the file holds \(bytes.count - 8) after the length")
        }
        let dataStart = 8 + headerLength
        let header = Data(bytes[8..<dataStart])
        guard let entries = (try? JSONSerialization.jsonObject(with: header)) as? [String: Any] else {
            throw ModelFileError(url, "is corrupt: its header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        for (name, value) in entries where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw ModelFileError(url, "is corrupt: tensor '\(name)' lacks dtype, shape or data_offsets") }
            guard let elementSize = Self.elementSizes[dtype] else { throw ModelFileError(url, "has tensor '\(name)' of unknown dtype \(dtype)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end else {
                throw ModelFileError(url, "is corrupt: tensor '\(name)' has shape \(shape) and offsets \(offsets)")
            }
            guard end - begin == shape.reduce(elementSize, *) else {
                throw ModelFileError(url, "is corrupt: tensor '\(name)' of shape \(shape) and dtype \(dtype) spans \(end - begin) bytes")
            }
            guard dataStart + end <= bytes.count else {
                throw ModelFileError(url, "is truncated: tensor '\(name)' ends at byte \(dataStart + end), the file has \(bytes.count)")
            }
            tensors[name] = Tensor(dtype: dtype, shape: shape, range: (dataStart + begin)..<(dataStart + end))
        }
        self.tensors = tensors
    }

    /// A float tensor's values in place, after checking it has the shape the model's configuration implies.
    func floats(_ name: String, shape: [Int]) throws -> UnsafeBufferPointer<Float> {
        guard let tensor = tensors[name] else { throw ModelFileError(file.url, "has no tensor '\(name)'") }
        guard tensor.dtype == "F32" else { throw ModelFileError(file.url, "has tensor '\(name)' as \(tensor.dtype); this encoder reads F32") }
        guard tensor.shape == shape else {
            throw ModelFileError(file.url, "has tensor '\(name)' of shape \(tensor.shape); config.json implies \(shape)")
        }
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[tensor.range])
        guard Int(bitPattern: raw.baseAddress) % MemoryLayout<Float>.alignment == 0 else {
            throw ModelFileError(file.url, "has tensor '\(name)' at an unaligned offset")
        }
        return raw.assumingMemoryBound(to: Float.self)
    }
}
