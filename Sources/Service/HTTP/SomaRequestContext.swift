import Hummingbird
import NIOCore

/// Per-request state shared by middleware and routes.
public struct SomaRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The namespace this request acts in, set by the auth middleware.
    public var namespace: String = ""
    /// Who is asking, for rate limits: a token label (never the token) or the client address.
    public var principal: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = "addr:" + (source.channel.remoteAddress?.ipAddress ?? "local")
    }

    /// Bodies are read by `JSONBody`, which enforces the configured limit itself.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
