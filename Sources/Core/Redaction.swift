import Foundation

/// Credentials out of what is logged or shown: backends describe where they connect with it.
public enum Redaction {
    /// `scheme://user:secret@host:port/db?password=x` -> `scheme://user:***@host:port/db`.
    public static func url(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.host != nil else { return "(set)" }
        if components.password != nil { components.password = "***" }
        components.query = nil
        return components.string ?? "(set)"
    }

    /// Any text (an error's description): the password of every URL in it masked.
    public static func text(_ text: String) -> String {
        text.replacing(/(?<scheme>[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:\/@\s]*):[^@\s\/]*@/) { "\($0.output.scheme):***@" }
    }
}
