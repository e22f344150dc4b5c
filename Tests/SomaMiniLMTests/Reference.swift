import Foundation

/// The installed model files and the independent Python references the tests compare against
/// (`Tests/MiniLMReference/reference.py`: Hugging Face `tokenizers` and a numpy forward pass).
enum Reference {
    /// Installed by `scripts/install-deps.sh`; a missing model fails these tests rather than skipping them.
    static var modelDirectory: String {
        ProcessInfo.processInfo.environment["SOMA_EMBEDDER_MODEL_DIR"] ?? "/usr/local/share/soma/models/all-MiniLM-L6-v2"
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MiniLMReference/reference.py").path
    }

    /// Runs the reference with `arguments`, feeding `input`; its standard output. The wait happens
    /// on a thread of its own: blocking the cooperative pool would stall the other tests' tasks.
    static func run(_ arguments: [String], input: Data = Data()) async throws -> Data {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(arguments, input: input) }) }.start()
        }
    }

    private static func runBlocking(_ arguments: [String], input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write and read on their own threads: either pipe can fill while the other waits.
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceError(message: "reference.py \(arguments.first ?? "") failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return output
    }

    struct TokenCase: Decodable {
        let text: String
        let ids: [Int32]
    }

    static func tokenCases(count: Int, seed: Int) async throws -> [TokenCase] {
        let output = try await run(["tokens", modelDirectory, String(count), String(seed)])
        return try output.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(TokenCase.self, from: Data($0)) }
    }

    static func embeddings(_ texts: [String]) async throws -> [[Float]] {
        let output = try await run(["embed", modelDirectory], input: try JSONEncoder().encode(texts))
        return try JSONDecoder().decode([[Double]].self, from: output).map { $0.map(Float.init) }
    }
}

struct ReferenceError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    let norms = (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
    return norms > 0 ? dot / norms : 0
}
