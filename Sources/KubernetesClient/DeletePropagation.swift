/// What happens to an object's dependents (a Job's pods) when it is deleted: `propagationPolicy=`.
public enum DeletePropagation: String, Sendable, CaseIterable {
    /// Delete the object now and its dependents in the background; what `kubectl delete` does.
    case background = "Background"
    /// Delete the dependents first; the object stays, with a finalizer, until they are gone.
    case foreground = "Foreground"
    /// Leave the dependents running without an owner. For `batch/v1` Jobs the API's own default is this,
    /// which is why the client always sends a policy.
    case orphan = "Orphan"
}
