/// An upstream's IPv4 address and port: the key of the idle-connection pool.
struct UpstreamAddress: Hashable {
    let host: String
    let port: Int
}
