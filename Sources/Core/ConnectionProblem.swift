import Foundation

/// A network failure in words ("Connection refused"), not a driver's nested error dump.
public enum ConnectionProblem {
    /// NIO's connection errors nest the cause ("SingleConnectionFailure(... (errno: 111))"): the
    /// errno's meaning says it all. Other errors keep their own text.
    public static func words(_ error: any Error) -> String {
        let text = String(describing: error)
        if let match = text.firstMatch(of: /errno: (\d+)/), let code = Int32(match.1) { return String(cString: strerror(code)) }
        return text
    }
}
