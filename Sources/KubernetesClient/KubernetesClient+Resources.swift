import Kubernetes

extension KubernetesClient {
    // MARK: - Jobs

    /// Creates `job` in `namespace`; when it gives `generateName` and no name, the server picks the name and the
    /// returned Job carries it.
    ///
    /// - Throws: `KubernetesClientError`: `isAlreadyExists`, `isForbidden`, `isInvalid` and the like.
    public func create(job: Job, in namespace: String, timeout: Duration? = nil) async throws(KubernetesClientError)
        -> Job
    {
        try await create(job, at: .jobs(in: namespace), timeout: timeout)
    }

    /// The Job called `name` in `namespace`.
    ///
    /// - Throws: `KubernetesClientError`; `isNotFound` when there is none.
    public func job(named name: String, in namespace: String, timeout: Duration? = nil)
        async throws(KubernetesClientError) -> Job
    {
        try await get(Job.self, at: .jobs(in: namespace, named: name), timeout: timeout)
    }

    /// The Jobs in `namespace` (every namespace when nil) matching `labelSelector`.
    ///
    /// - Throws: `KubernetesClientError`.
    public func jobs(
        in namespace: String?, labelSelector: LabelSelectorQuery? = nil, timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> [Job] {
        try await list(Job.self, at: .jobs(in: namespace), labelSelector: labelSelector, timeout: timeout).items
    }

    /// Deletes the Job called `name`; by default its pods go too, in the background, as `kubectl delete` does.
    ///
    /// - Throws: `KubernetesClientError`; `isNotFound` when there is none.
    public func delete(
        job name: String, in namespace: String, propagation: DeletePropagation = .background,
        timeout: Duration? = nil
    ) async throws(KubernetesClientError) {
        try await delete(at: .jobs(in: namespace, named: name), propagation: propagation, timeout: timeout)
    }

    // MARK: - Pods

    /// The Pods in `namespace` (every namespace when nil) matching `labelSelector`, such as a Job's
    /// `batch.kubernetes.io/job-name=NAME`.
    ///
    /// - Throws: `KubernetesClientError`.
    public func pods(
        in namespace: String?, labelSelector: LabelSelectorQuery? = nil, timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> [Pod] {
        try await list(Pod.self, at: .pods(in: namespace), labelSelector: labelSelector, timeout: timeout).items
    }

    /// The Pod called `name` in `namespace`.
    ///
    /// - Throws: `KubernetesClientError`; `isNotFound` when there is none.
    public func pod(named name: String, in namespace: String, timeout: Duration? = nil)
        async throws(KubernetesClientError) -> Pod
    {
        try await get(Pod.self, at: .pods(in: namespace, named: name), timeout: timeout)
    }

    /// The log of a Pod's container, as text.
    ///
    /// - Parameters:
    ///   - container: which container; the server requires it when the Pod has several.
    ///   - tailLines: only the last lines, when given.
    /// - Throws: `KubernetesClientError`; a Pod still pending answers 400 with a `Status`.
    public func log(
        ofPod name: String, in namespace: String, container: String? = nil, tailLines: Int? = nil,
        timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> String {
        var query: [(name: String, value: String)] = []
        if let container { query.append(("container", container)) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        let path = ResourcePath(resource: "pods", namespace: namespace, name: name, subresource: "log")
        let response = try await send(.get, path.path, query: query, accept: "*/*", timeout: timeout)
        return response.text
    }

    // MARK: - Quotas, events, access

    /// The ResourceQuota called `name` in `namespace`.
    ///
    /// - Throws: `KubernetesClientError`; `isNotFound` when there is none.
    public func resourceQuota(named name: String, in namespace: String, timeout: Duration? = nil)
        async throws(KubernetesClientError) -> ResourceQuota
    {
        try await get(ResourceQuota.self, at: .resourceQuotas(in: namespace, named: name), timeout: timeout)
    }

    /// The ResourceQuotas in `namespace` (every namespace when nil).
    ///
    /// - Throws: `KubernetesClientError`.
    public func resourceQuotas(in namespace: String?, timeout: Duration? = nil) async throws(KubernetesClientError)
        -> [ResourceQuota]
    {
        try await list(ResourceQuota.self, at: .resourceQuotas(in: namespace), timeout: timeout).items
    }

    /// The Events in `namespace` (every namespace when nil), optionally filtered by fields, such as
    /// `involvedObject.kind=Job,involvedObject.name=NAME`.
    ///
    /// - Throws: `KubernetesClientError`.
    public func events(in namespace: String?, fieldSelector: String? = nil, timeout: Duration? = nil)
        async throws(KubernetesClientError) -> [Event]
    {
        try await list(Event.self, at: .events(in: namespace), fieldSelector: fieldSelector, timeout: timeout).items
    }

    /// Whether the client's own identity may do `verb` on `resource`, as `kubectl auth can-i` asks.
    ///
    /// - Parameters:
    ///   - group: the resource's API group; `""` for core resources such as `pods`.
    ///   - namespace: nil asks about every namespace (or a cluster-scoped resource).
    /// - Throws: `KubernetesClientError`.
    public func selfSubjectAccessReview(
        verb: String, resource: String, group: String = "", subresource: String? = nil, namespace: String? = nil,
        timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> Bool {
        var attributes = SelfSubjectAccessReview.ResourceAttributes(
            verb: verb, group: group, resource: resource, namespace: namespace)
        attributes.subresource = subresource
        let review = try await post(
            SelfSubjectAccessReview(attributes: attributes), at: .selfSubjectAccessReviews,
            returning: SelfSubjectAccessReview.self, timeout: timeout)
        return review.status?.allowed ?? false
    }

    /// The server's version, from `GET /version`; a cheap readiness probe that needs no RBAC.
    ///
    /// - Throws: `KubernetesClientError`.
    public func version(timeout: Duration? = nil) async throws(KubernetesClientError) -> KubernetesVersion {
        let response = try await send(.get, "/version", timeout: timeout)
        return try decode(KubernetesVersion.self, from: response.body, method: .get, path: "/version")
    }
}
