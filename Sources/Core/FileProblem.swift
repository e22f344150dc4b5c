import Foundation

/// Why a path could not be made or used, in words a person can act on: the path that stands in
/// the way and what is wrong with it, instead of Foundation's "NSCocoaErrorDomain error 512".
public enum FileProblem {
    /// `path` could not be created as a directory: names the ancestor that is a file or is not
    /// writable, else the system's reason.
    public static func creatingDirectory(_ path: String, _ error: any Error) -> String {
        let manager = FileManager.default
        var ancestor = (path as NSString).deletingLastPathComponent
        while !ancestor.isEmpty, ancestor != "/", !manager.fileExists(atPath: ancestor) {
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: ancestor, isDirectory: &isDirectory), !isDirectory.boolValue {
            return "cannot create directory \(path): \(ancestor) is a file, not a directory"
        }
        if !ancestor.isEmpty, !manager.isWritableFile(atPath: ancestor) {
            return "cannot create directory \(path): \(ancestor) is not writable by this user"
        }
        return "cannot create directory \(path): \(reason(error))"
    }

    /// What stops `path` being read as a file ("no such file", "a directory, not a file"); nil
    /// when it is a readable file, so the problem is its content.
    public static func unreadable(_ path: String) -> String? {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "it is a directory, not a file" }
        return manager.isReadableFile(atPath: path) ? nil : "not readable by this user"
    }

    /// `path` could not be read: what is wrong with the file, else with its content.
    public static func reading(_ path: String, _ error: any Error) -> String {
        "cannot read \(path): \(unreadable(path) ?? reason(error))"
    }

    /// The reason under a Foundation error in words: the operating system's ("No space left on
    /// device"), a parser's ("Unexpected end of file"), else the error's own text.
    public static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if let detail = error.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        switch (error.domain, error.code) {
        case (NSCocoaErrorDomain, CocoaError.fileNoSuchFile.rawValue), (NSCocoaErrorDomain, CocoaError.fileReadNoSuchFile.rawValue):
            return "no such file"
        case (NSCocoaErrorDomain, CocoaError.fileReadNoPermission.rawValue), (NSCocoaErrorDomain, CocoaError.fileWriteNoPermission.rawValue):
            return "permission denied"
        case (NSCocoaErrorDomain, CocoaError.fileWriteOutOfSpace.rawValue):
            return "no space left on the device"
        case (NSCocoaErrorDomain, _):
            return "the system refused (error \(error.code))"
        default:
            return "\(error)"
        }
    }
}
