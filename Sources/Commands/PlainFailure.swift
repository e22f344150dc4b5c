import ArgumentParser
import Foundation
import NIOCore
import SomaCore
import SomaService

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `--verbose` anywhere on the command line keeps the underlying error's full text in failures.
enum Verbosity {
    static let flag = "--verbose"
    static let requested = CommandLine.arguments.dropFirst().contains(flag)
}

/// A failure told in words a person can act on: what failed, the value involved and what to do.
/// The Foundation or NIO error under it is shown only with `--verbose`.
struct PlainFailure: Error, CustomStringConvertible {
    let description: String

    init(_ words: String, underlying: (any Error)? = nil) {
        let detail = Verbosity.requested ? underlying.map { "\n  underlying error: \(String(reflecting: $0))" } ?? "" : ""
        description = words + detail
    }

    /// A command could not start: its settings or backends.
    static func startup(_ reason: String, underlying: (any Error)? = nil) -> PlainFailure {
        PlainFailure("cannot start: \(reason)", underlying: underlying)
    }

    /// A client command found no server at `url`.
    static func unreachable(_ url: String, _ error: any Error) -> PlainFailure {
        PlainFailure(
            "cannot reach the server at \(url) (\(connectionReason(error))). Is `soma serve` running there? "
                + "Point --url or \(ServiceSetting.url.name) at the server.",
            underlying: error)
    }

    /// `serve` could not listen; nil for a failure that is not about listening.
    static func listening(host: String, port: Int, _ error: any Error) -> PlainFailure? {
        guard let error = error as? IOError else { return nil }
        let address = "\(host):\(port)"
        switch error.errnoCode {
        case EADDRINUSE:
            return PlainFailure(
                "cannot listen on \(address): the port is already in use (another soma, or another program). "
                    + "Stop it, or choose another port with --port or \(ServiceSetting.port.name).", underlying: error)
        case EACCES:
            return PlainFailure(
                "cannot listen on \(address): permission denied (ports below 1024 need privileges). "
                    + "Choose another port with --port or \(ServiceSetting.port.name).", underlying: error)
        case EADDRNOTAVAIL:
            return PlainFailure(
                "cannot listen on \(address): no network interface has the address \(host). "
                    + "Set --host or \(ServiceSetting.host.name) to an address of this machine (127.0.0.1, 0.0.0.0).", underlying: error)
        default:
            return PlainFailure("cannot listen on \(address): \(String(cString: strerror(error.errnoCode)))", underlying: error)
        }
    }

    /// Why a connection failed, in a few words.
    static func connectionReason(_ error: any Error) -> String {
        if let error = error as? URLError {
            switch error.code {
            case .cannotConnectToHost: return "connection refused"
            case .timedOut: return "no answer in time"
            case .cannotFindHost, .dnsLookupFailed: return "unknown host"
            case .networkConnectionLost: return "the connection dropped"
            case .unsupportedURL, .badURL: return "not an http:// or https:// address"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate:
                return "the TLS handshake failed"
            default: return "network error \(error.code.rawValue)"
            }
        }
        return ConnectionProblem.words(error).lowercased()
    }

    /// A non-2xx answer: the status, the service's error code and its sentence.
    static func refused(status: Int, _ body: Data) -> PlainFailure {
        let (code, detail) = answer(body)
        return PlainFailure("server answered \(status)\(code.map { " \($0)" } ?? ""): \(detail)")
    }

    /// The service's error code and sentence from an error answer's body (its start, when not JSON).
    static func answer(_ body: Data) -> (code: String?, detail: String) {
        let answer = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let detail = answer?["detail"] as? String ?? answer?["message"] as? String ?? String(decoding: body.prefix(500), as: UTF8.self)
        return (answer?["code"] as? String, detail)
    }
}
