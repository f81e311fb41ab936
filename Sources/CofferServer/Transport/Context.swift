import Hummingbird
import Logging
import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer's address.
public struct CofferRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer (before any proxy headers are considered).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
