/// A list answer such as `JobList`: list metadata plus items.
public struct KubernetesList<Item: Codable & Sendable>: Sendable, Codable {
    /// The group version, such as `batch/v1`.
    public var apiVersion: String?
    /// The list kind, such as `JobList`.
    public var kind: String?
    /// The collection's resource version and paging token.
    public var metadata = ListMeta()
    /// The items; items in a list usually omit `apiVersion` and `kind`.
    public var items: [Item]

    /// A list of `items`.
    public init(apiVersion: String, kind: String, resourceVersion: String? = nil, items: [Item]) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = ListMeta(resourceVersion: resourceVersion)
        self.items = items
    }
}

/// One line of a watch stream: `{"type":"ADDED","object":{...}}`.
public struct WatchEvent<Object: Codable & Sendable>: Sendable, Codable {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR` (whose object is a `Status`).
    public var type: String
    /// The object after the change (before deletion, for `DELETED`).
    public var object: Object

    /// An event of `type` about `object`.
    public init(type: String, object: Object) {
        self.type = type
        self.object = object
    }
}
