import Foundation
import Logging
import Synchronization

/// Where output goes decides its form: a person at a terminal gets tables and colour, a pipe or a
/// file gets the service's JSON unchanged, so scripts do not break.
enum Terminal {
    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb.
    static func colour(onErrorStream: Bool = false) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["NO_COLOR"].map(\.isEmpty) ?? true, environment["TERM"] != "dumb" else { return false }
        return onErrorStream ? standardErrorIsTerminal : standardOutputIsTerminal
    }

    /// The terminal's width in columns, or 100 when it does not say.
    static var width: Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100
    }

    enum Style: String {
        case bold = "1", dim = "2", green = "32", red = "31", yellow = "33"
    }

    static func styled(_ text: String, _ style: Style, colour: Bool) -> String {
        colour ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Columns padded to their widest cell; the last column is cut to what the terminal has left.
    static func table(header: [String], rows: [[String]], width: Int = Terminal.width) -> [String] {
        guard let last = header.indices.last else { return [] }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < last { widths[index] = max(widths[index], cell.count) }
        }
        let room = max(10, width - widths.dropLast().reduce(0) { $0 + $1 + 2 })
        return ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                if index == last { return cell.count > room ? String(cell.prefix(room - 1)) + "…" : cell }
                return cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    /// One line of text for a payload: its `text` field, else its JSON, on one line.
    static func preview(_ payload: [String: Any]) -> String {
        if let text = payload["text"] as? String { return text.split(whereSeparator: \.isNewline).joined(separator: " ") }
        let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Items done, rate and time left for long work: redrawn in place on a terminal, one line every
/// few seconds otherwise (a log reads it), and a one-line summary at the end. Always on standard
/// error, since standard output may carry the data. Safe to advance from any task.
final class ProgressReport: Sendable {
    private struct State {
        var total: Int?
        var done = 0
        var lastShown = Date.distantPast
    }

    let label: String
    private let state: Mutex<State>
    private let started = Date()
    private let interactive = Terminal.standardErrorIsTerminal
    private let interval: TimeInterval

    init(_ label: String, total: Int? = nil, logInterval: TimeInterval = 5) {
        self.label = label
        state = Mutex(State(total: total))
        interval = logInterval
    }

    var total: Int? {
        get { state.withLock { $0.total } }
        set { state.withLock { $0.total = newValue } }
    }

    var done: Int { state.withLock { $0.done } }

    func advance(by count: Int = 1) {
        let now = Date()
        let line: String? = state.withLock { state in
            state.done += count
            guard now.timeIntervalSince(state.lastShown) >= (interactive ? 0.1 : interval) else { return nil }
            state.lastShown = now
            return status(done: state.done, total: state.total, now: now)
        }
        if let line { FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[2K" + line : line + "\n").utf8)) }
    }

    func status(done: Int, total: Int?, now: Date = Date()) -> String {
        let seconds = max(now.timeIntervalSince(started), 0.001)
        let rate = Double(done) / seconds
        var line = "\(label): \(done.formatted())"
        if let total, total > 0 {
            line += " of \(total.formatted()) (\(min(100, done * 100 / total))%)"
            if rate > 0, done < total { line += ", \(Self.duration(Double(total - done) / rate)) left" }
        }
        return line + ", \(Int(rate).formatted())/s"
    }

    /// Clears the live line and prints the summary.
    func finish(_ summary: String) {
        let seconds = Date().timeIntervalSince(started)
        let clear = interactive ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data("\(clear)\(summary) in \(Self.duration(seconds))\n".utf8))
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds) : "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
    }
}

extension Logger {
    /// For a command whose output is its report: only warnings and errors are logged.
    static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}
