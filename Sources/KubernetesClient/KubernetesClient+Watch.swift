import Foundation
import HTTPClient
import Kubernetes

extension KubernetesClient {
    /// Watches the Jobs in `namespace` (every namespace when nil) matching `labelSelector`.
    ///
    /// See `watch(_:at:labelSelector:fieldSelector:resourceVersion:options:)` for how it recovers.
    public func watchJobs(
        in namespace: String?, labelSelector: LabelSelectorQuery? = nil, resourceVersion: String? = nil,
        options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchChange<Job>, any Error> {
        watch(
            Job.self, at: .jobs(in: namespace), labelSelector: labelSelector, resourceVersion: resourceVersion,
            options: options)
    }

    /// Watches the Pods in `namespace` (every namespace when nil) matching `labelSelector`.
    public func watchPods(
        in namespace: String?, labelSelector: LabelSelectorQuery? = nil, resourceVersion: String? = nil,
        options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchChange<Pod>, any Error> {
        watch(
            Pod.self, at: .pods(in: namespace), labelSelector: labelSelector, resourceVersion: resourceVersion,
            options: options)
    }

    /// Watches the collection at `path`, recovering the way an informer does.
    ///
    /// 1. Without a `resourceVersion`, it lists first and reports `.resynced` with the items.
    /// 2. It streams `?watch=1&resourceVersion=RV&allowWatchBookmarks=true`, keeping RV current from each
    ///    event and bookmark.
    /// 3. When the server says RV has expired (410 Gone, as the HTTP status or as an `ERROR` event), or an event
    ///    does not decode, it lists again, reports `.resynced`, and watches from the new list's version.
    /// 4. When the stream ends or drops, or the server answers 429 or 5xx, it reconnects, pausing with
    ///    exponential backoff after attempts that delivered nothing.
    ///
    /// The stream finishes when the consumer stops iterating or its task is cancelled, and throws a
    /// `KubernetesClientError` for an answer that retrying cannot fix (401, 403, 404, a bad request).
    public func watch<Object: Codable & Sendable>(
        _ type: Object.Type, at path: ResourcePath, labelSelector: LabelSelectorQuery? = nil,
        fieldSelector: String? = nil, resourceVersion: String? = nil, options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchChange<Object>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchChange<Object>, any Error>.makeStream()
        let selectors = Self.selectorQuery(labelSelector: labelSelector, fieldSelector: fieldSelector)
        let task = Task {
            await self.runWatch(
                Object.self, at: path, selectors: selectors, from: resourceVersion, options: options,
                into: continuation)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// How one watch request ended.
    private enum WatchRequestOutcome {
        /// The stream ended; resume from `resourceVersion`. `delivered` says whether anything arrived.
        case ended(resourceVersion: String, delivered: Bool)
        /// The resource version expired or the stream could not be followed: list again.
        case mustRelist
    }

    private func runWatch<Object: Codable & Sendable>(
        _ type: Object.Type, at path: ResourcePath, selectors: [(name: String, value: String)],
        from initialVersion: String?, options: WatchOptions,
        into continuation: AsyncThrowingStream<WatchChange<Object>, any Error>.Continuation
    ) async {
        var resourceVersion = initialVersion
        var failures = 0
        while !Task.isCancelled {
            do throws(KubernetesClientError) {
                guard let version = resourceVersion else {
                    let list = try await get(KubernetesList<Object>.self, at: path, query: selectors)
                    let listVersion = list.metadata.resourceVersion ?? ""
                    continuation.yield(.resynced(list.items, resourceVersion: listVersion))
                    resourceVersion = listVersion
                    continue
                }
                let outcome = try await watchRequest(
                    type, at: path, selectors: selectors, from: version, options: options, into: continuation)
                switch outcome {
                case .mustRelist:
                    logger.debug("watch relisting", ["path": path.path, "resourceVersion": version])
                    resourceVersion = nil
                    failures = 0
                case .ended(let latest, let delivered):
                    resourceVersion = latest
                    failures = delivered ? 0 : failures + 1
                }
            } catch {
                if Task.isCancelled { break }
                if error.isGone {
                    resourceVersion = nil
                    continue
                }
                guard error.isRetryable else {
                    continuation.finish(throwing: error)
                    return
                }
                logger.debug("watch retrying", ["path": path.path, "error": error.description])
                failures += 1
            }
            if failures > 0 {
                do {
                    try await Task.sleep(for: options.backoff(afterFailures: failures))
                } catch {
                    break
                }
            }
        }
        continuation.finish()
    }

    /// Runs one watch request from `resourceVersion`, yielding its events.
    private func watchRequest<Object: Codable & Sendable>(
        _ type: Object.Type, at path: ResourcePath, selectors: [(name: String, value: String)],
        from resourceVersion: String, options: WatchOptions,
        into continuation: AsyncThrowingStream<WatchChange<Object>, any Error>.Continuation
    ) async throws(KubernetesClientError) -> WatchRequestOutcome {
        // 1. Open the stream; the server closes it after `timeoutSeconds`, the client a little later.
        let seconds = max(1, Int(options.requestDuration.components.seconds))
        let query =
            selectors + [
                ("watch", "1"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", String(seconds)),
            ]
        var request = try await makeRequest(.get, path.path, query: query, accept: "application/json")
        request.timeout = options.requestDuration + .seconds(30)
        let response: HTTPClientStreamingResponse
        do {
            response = try await http.stream(request)
        } catch {
            throw .transport(error, server: configuration.server)
        }
        logger.debug("watch", ["path": path.path, "status": response.status.code, "resourceVersion": resourceVersion])

        // 2. An error status carries a Status body, 410 among them.
        guard response.status.isSuccess else {
            var body: [UInt8] = []
            do {
                for try await chunk in response.body where body.count < 65_536 { body += chunk }
            } catch {
                // The status is what matters; a body cut short still leaves the code.
            }
            throw Self.error(statusCode: response.status.code, body: body, method: .get, path: path.path)
        }

        // 3. One JSON event per line.
        var latest = resourceVersion
        var delivered = false
        do {
            for try await line in response.lines where !line.isEmpty {
                guard let event = try? JSONDecoder().decode(WatchEvent<JSONValue>.self, from: Data(line.utf8)) else {
                    return .mustRelist
                }
                let version = event.object["metadata"]?["resourceVersion"]
                if case .string(let version) = version, !version.isEmpty { latest = version }
                switch event.type {
                case "ADDED", "MODIFIED", "DELETED":
                    guard let object = try? event.object.decode(as: Object.self) else { return .mustRelist }
                    delivered = true
                    switch event.type {
                    case "ADDED": continuation.yield(.added(object))
                    case "MODIFIED": continuation.yield(.modified(object))
                    default: continuation.yield(.deleted(object))
                    }
                case "BOOKMARK":
                    delivered = true
                    continuation.yield(.bookmark(resourceVersion: latest))
                case "ERROR":
                    let fallback = Status(
                        code: 500, reason: "InternalError", message: "an ERROR watch event without a Status")
                    let status = (try? event.object.decode(as: Status.self)) ?? fallback
                    if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" {
                        return .mustRelist
                    }
                    continuation.yield(.error(status))
                    return .ended(resourceVersion: latest, delivered: false)
                default:
                    continue
                }
            }
        } catch let error as HTTPClientError {
            if delivered && error.code != .cancelled { return .ended(resourceVersion: latest, delivered: true) }
            throw .transport(error, server: configuration.server)
        } catch {
            throw .transport(
                HTTPClientError(.other, url: request.url, detail: "\(error)"), server: configuration.server)
        }
        return .ended(resourceVersion: latest, delivered: delivered)
    }
}
