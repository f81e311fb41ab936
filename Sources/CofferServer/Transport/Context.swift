import Hummingbird
import Logging
import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer's address.
public struct CofferRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer (before any proxy headers are considered).
    public let remoteAddress: SocketAddress?
    /// The connection (where `InPlaceReads` hands on what it verified).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}
