import Foundation

/// Starts a thread under a name the system shows (`/proc/<pid>/task/*/comm`, `top -H`, debuggers):
/// on Linux, Foundation passes `Thread.name` to the system only when the thread itself sets it.
public enum NamedThread {
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            Thread.current.name = name  // the system keeps its first 15 bytes
            body()
        }
        thread.start()
    }
}
