import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import Synchronization
import Testing

@testable import KubernetesClient

@Suite struct WatchTests {
    /// How the mock server tells the client its resource version is too old.
    enum Expiry: String, CaseIterable, Sendable {
        /// An `ERROR` event whose object is a 410 Status, in a 200 stream.
        case errorEvent
        /// The stream drops; the reconnect is answered 410 with a Status body.
        case httpStatus
    }

    /// Counts how often the collection was listed; the mutex guards the count.
    final class ListCounter: Sendable {
        private let count = Mutex(0)

        func next() -> Int {
            count.withLock {
                $0 += 1
                return $0
            }
        }
    }

    static let expired = Status(
        code: 410, reason: "Expired", message: "too old resource version: 100 (150)")

    /// A streamed body: `lines`, then either the end or (when `staysOpen`) silence until the server stops.
    static func stream(_ lines: [[UInt8]], staysOpen: Bool = false) -> HTTPResponse {
        let body = AsyncStream<[UInt8]> { continuation in
            let task = Task {
                for line in lines { continuation.yield(line) }
                if staysOpen { try? await Task.sleep(for: .seconds(30)) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return .stream(body)
    }

    static func summary(_ change: WatchChange<Job>) -> String {
        switch change {
        case .added(let job): "added \(job.metadata.name ?? "")"
        case .modified(let job): "modified \(job.metadata.name ?? "")"
        case .deleted(let job): "deleted \(job.metadata.name ?? "")"
        case .bookmark(let version): "bookmark \(version)"
        case .error(let status): "error \(status.code ?? 0)"
        case .resynced(let jobs, let version):
            "resynced \(jobs.compactMap(\.metadata.name).joined(separator: ",")) @\(version)"
        }
    }

    @Test(
        "after two events and a 410, the watch lists again and continues from the new version",
        arguments: Expiry.allCases)
    func relistAfterGone(expiry: Expiry) async throws {
        let lists = ListCounter()
        try await withMockServer { request in
            guard request.queryValue("watch") == "1" else {
                let items =
                    lists.next() == 1
                    ? [storedJob("a", resourceVersion: "90")]
                    : [storedJob("a", resourceVersion: "90"), storedJob("b", resourceVersion: "102")]
                let version = items.count == 1 ? "100" : "200"
                return .json(
                    KubernetesList(apiVersion: "batch/v1", kind: "JobList", resourceVersion: version, items: items))
            }
            switch request.queryValue("resourceVersion") {
            case "100":
                var lines = [
                    watchLine("ADDED", storedJob("b", resourceVersion: "101")),
                    watchLine("MODIFIED", storedJob("b", resourceVersion: "102")),
                ]
                if expiry == .errorEvent { lines.append(watchLine("ERROR", Self.expired)) }
                return Self.stream(lines)
            case "102":
                return statusResponse(Self.expired)
            case "200":
                return Self.stream([watchLine("ADDED", storedJob("c", resourceVersion: "201"))], staysOpen: true)
            default:
                return statusResponse(Status(code: 400, reason: "BadRequest", message: "unexpected version"))
            }
        } _: { server in
            let options = WatchOptions(initialBackoff: .milliseconds(20))
            var seen: [String] = []
            for try await change in server.client().watchJobs(in: "free", labelSelector: "tier=free", options: options)
            {
                seen.append(Self.summary(change))
                if seen.count == 5 { break }
            }
            #expect(seen == ["resynced a @100", "added b", "modified b", "resynced a,b @200", "added c"])

            let watches = server.requests.filter { $0.queryValue("watch") == "1" }
            let expectedVersions = expiry == .errorEvent ? ["100", "200"] : ["100", "102", "200"]
            #expect(watches.map { $0.queryValue("resourceVersion") } == expectedVersions)
            #expect(watches.allSatisfy { $0.queryValue("allowWatchBookmarks") == "true" })
            #expect(watches.allSatisfy { $0.queryValue("labelSelector") == "tier=free" })
            #expect(watches.allSatisfy { $0.path == "/apis/batch/v1/namespaces/free/jobs" })
        }
    }

    @Test("a bookmark moves the resource version, and a dropped stream reconnects from it")
    func bookmarkThenReconnect() async throws {
        try await withMockServer { request in
            switch request.queryValue("resourceVersion") {
            case "5":
                let bookmark = Job(
                    metadata: {
                        var metadata = ObjectMeta()
                        metadata.resourceVersion = "9"
                        return metadata
                    }())
                return Self.stream([watchLine("BOOKMARK", bookmark)])
            default:
                return Self.stream([watchLine("DELETED", storedJob("y", resourceVersion: "10"))], staysOpen: true)
            }
        } _: { server in
            var seen: [String] = []
            for try await change in server.client().watchJobs(in: "free", resourceVersion: "5") {
                seen.append(Self.summary(change))
                if seen.count == 2 { break }
            }
            #expect(seen == ["bookmark 9", "deleted y"])
            #expect(server.requests.map { $0.queryValue("resourceVersion") } == ["5", "9"])
        }
    }

    @Test("cancelling the consumer ends the stream and the watch request")
    func cancellation() async throws {
        try await withMockServer { _ in
            Self.stream([watchLine("ADDED", storedJob("x", resourceVersion: "6"))], staysOpen: true)
        } _: { server in
            let client = server.client()
            let firstEvent = AsyncStream<Void>.makeStream()
            let consumer = Task {
                var count = 0
                for try await _ in client.watchJobs(in: "free", resourceVersion: "5") {
                    count += 1
                    firstEvent.continuation.yield()
                }
                return count
            }
            for await _ in firstEvent.stream { break }
            let cancelled = ContinuousClock.now
            consumer.cancel()
            let count = try await consumer.value
            #expect(count == 1)
            #expect(ContinuousClock.now - cancelled < .seconds(2))
            #expect(server.requests.count == 1)
        }
    }

    @Test("a 503 answer and an ERROR event are retried after a pause; the ERROR is reported")
    func retriesServerErrors() async throws {
        let attempts = ListCounter()
        try await withMockServer { _ in
            switch attempts.next() {
            case 1:
                return statusResponse(Status(code: 503, reason: "ServiceUnavailable", message: "etcd is busy"))
            case 2:
                let broken = Status(code: 500, reason: "InternalError", message: "watch channel closed")
                return Self.stream([watchLine("ERROR", broken)])
            default:
                return Self.stream([watchLine("ADDED", storedJob("z", resourceVersion: "8"))], staysOpen: true)
            }
        } _: { server in
            let options = WatchOptions(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200))
            let started = ContinuousClock.now
            var seen: [String] = []
            for try await change in server.client().watchJobs(in: "free", resourceVersion: "7", options: options) {
                seen.append(Self.summary(change))
                if seen.count == 2 { break }
            }
            #expect(seen == ["error 500", "added z"])
            #expect(server.requests.map { $0.queryValue("resourceVersion") } == ["7", "7", "7"])
            // Two failures in a row: pauses of 50 ms and 100 ms.
            #expect(ContinuousClock.now - started >= .milliseconds(150))
        }
    }

    @Test(
        "the pause doubles per failure up to the maximum",
        arguments: [(1, 200), (2, 400), (3, 800), (6, 5000), (40, 5000)])
    func backoff(failures: Int, milliseconds: Int) {
        let options = WatchOptions(initialBackoff: .milliseconds(200), maxBackoff: .seconds(5))
        #expect(options.backoff(afterFailures: failures) == .milliseconds(milliseconds))
    }

    @Test("a watch the server forbids ends with the Status, without retrying")
    func forbiddenEnds() async throws {
        let forbidden = Status.forbidden(
            user: "system:serviceaccount:free:tier-free", verb: "watch", resource: "jobs", group: "batch",
            namespace: "pro")
        try await withMockServer { _ in
            statusResponse(forbidden)
        } _: { server in
            let error = await #expect(throws: KubernetesClientError.self) {
                for try await _ in server.client().watchJobs(in: "pro", resourceVersion: "1") {}
            }
            #expect(error?.isForbidden == true)
            #expect(server.requests.count == 1)
        }
    }
}
