import ConformanceKit
import Foundation
import Testing

/// `soma serve` as an unprivileged user on a data directory it cannot write: start-up fails and says
/// so. As root (CI), the process runs as `nobody` from a copy of the binary, since root may write
/// anywhere and the check would mean nothing.
@Suite struct DataDirectoryTests {
    @Test func anUnwritableDataDirectoryFailsStartUpClearly() throws {
        let work = Scratch.path("soma-unwritable")
        let data = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: work.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: data.path)
        defer { try? FileManager.default.removeItem(at: work) }
        var command = [SomaServer.binary.path, "serve"]
        if getuid() == 0 {
            let copy = work.appendingPathComponent("soma")
            // `cp` writes the copy in a process of its own: a write descriptor opened here would be
            // inherited by any child another test forks meanwhile, and exec would fail "Text file busy".
            let copied = try Spawn.run(["/bin/cp", SomaServer.binary.path, copy.path], environment: [:], output: "/dev/null")
            #expect(copied == 0)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.path)
            command = ["runuser", "-u", "nobody", "--", copy.path, "serve"]
        }
        let output = work.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: output.path)
        let status = try Spawn.run(
            command, environment: ["SOMA_DATA_DIR": data.path, "SOMA_PORT": String(try Spawn.freePort()), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
            output: output.path)
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(status != 0, "start-up succeeded on an unwritable directory: \(log.suffix(400))")
        #expect(log.contains("not writable") && log.contains(data.path), "\(log.suffix(600))")
    }
}
