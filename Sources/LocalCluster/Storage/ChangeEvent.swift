import Kubernetes

/// One committed change to one object, in the order of the global resource version.
struct ChangeEvent: Sendable {
    /// What happened, named as watch events name it.
    enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }

    /// What happened.
    let kind: Kind
    /// The resource the object belongs to.
    let type: ResourceType
    /// The resource version of the change; for a deletion, the version the deletion was given.
    let resourceVersion: Int64
    /// The object after the change; for a deletion, as it was last stored.
    let object: KubernetesObject
}
