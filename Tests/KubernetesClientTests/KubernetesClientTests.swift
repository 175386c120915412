import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import Logging
import Testing

@testable import KubernetesClient

@Suite struct KubernetesClientTests {
    @Test("creating a Job with generateName returns the name the server picked")
    func createWithGenerateName() async throws {
        try await withMockServer { request in
            guard request.method == .post, request.path == "/apis/batch/v1/namespaces/free/jobs",
                var job = try? request.decodeJSON(Job.self), let prefix = job.metadata.generateName
            else { return statusResponse(Status(code: 400, reason: "BadRequest", message: "unexpected request")) }
            job.metadata.name = prefix + "x7k2q"
            job.metadata.namespace = "free"
            job.metadata.uid = "3f1c"
            return .json(job, status: .created)
        } _: { server in
            var job = Job(metadata: ObjectMeta(namespace: "free"))
            job.metadata.generateName = "grader-"
            let created = try await server.client().create(job: job, in: "free")
            #expect(created.metadata.name == "grader-x7k2q")
            #expect(created.metadata.uid == "3f1c")
            let request = try #require(server.requests.first)
            #expect(request.headers["Authorization"] == "Bearer test-token")
            #expect(request.headers["Content-Type"] == "application/json")
        }
    }

    @Test("a 404 Status is .api with isNotFound and the server's message")
    func notFound() async throws {
        try await withMockServer { request in
            rawJSON(
                #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","#
                    + #""message":"jobs.batch \"missing\" not found","reason":"NotFound","#
                    + #""details":{"name":"missing","group":"batch","kind":"jobs"},"code":404}"#, status: .notFound)
        } _: { server in
            let error = await #expect(throws: KubernetesClientError.self) {
                try await server.client().job(named: "missing", in: "free")
            }
            #expect(error?.isNotFound == true)
            #expect(error?.isForbidden == false)
            #expect(error?.status?.message == #"jobs.batch "missing" not found"#)
            #expect(error?.status?.details?.name == "missing")
            #expect(server.requests.first?.path == "/apis/batch/v1/namespaces/free/jobs/missing")
        }
    }

    @Test("an RBAC 403 keeps the server's message, user and all")
    func forbidden() async throws {
        let status = Status.forbidden(
            user: "system:serviceaccount:free:tier-free", verb: "create", resource: "jobs", group: "batch",
            namespace: "pro")
        try await withMockServer { _ in
            statusResponse(status)
        } _: { server in
            let error = await #expect(throws: KubernetesClientError.self) {
                try await server.client().create(job: Job(metadata: ObjectMeta(name: "j")), in: "pro")
            }
            #expect(error?.isForbidden == true)
            #expect(error?.statusCode == 403)
            #expect(error?.status?.message == status.message)
            #expect(error?.description.contains(#"User "system:serviceaccount:free:tier-free" cannot create"#) == true)
        }
    }

    @Test("a 401 is isUnauthorized, and no token means no Authorization header")
    func unauthorized() async throws {
        try await withMockServer { _ in
            statusResponse(.unauthorized)
        } _: { server in
            let error = await #expect(throws: KubernetesClientError.self) {
                try await server.client(token: nil).pods(in: "free")
            }
            #expect(error?.isUnauthorized == true)
            #expect(error?.status?.message == "Unauthorized")
            #expect(server.requests.first?.headers["Authorization"] == nil)
        }
    }

    @Test(
        "the Status helpers match by reason and code",
        arguments: [
            (Status(code: 409, reason: "AlreadyExists", message: "x"), "alreadyExists"),
            (Status(code: 409, reason: "Conflict", message: "x"), "conflict"),
            (Status(code: 410, reason: "Expired", message: "x"), "gone"),
            (Status(code: 422, reason: "Invalid", message: "x"), "invalid"),
        ])
    func statusHelpers(status: Status, expected: String) {
        let error = KubernetesClientError.api(status)
        let matched = [
            ("alreadyExists", error.isAlreadyExists), ("conflict", error.isConflict), ("gone", error.isGone),
            ("invalid", error.isInvalid), ("notFound", error.isNotFound),
        ].filter(\.1).map(\.0)
        #expect(matched == [expected])
    }

    @Test("a proxy's HTML 502 is reported with its status and an excerpt")
    func nonStatusError() async throws {
        let html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>"
        try await withMockServer { _ in
            HTTPResponse(status: .badGateway, headers: ["Content-Type": "text/html"], body: .bytes(Array(html.utf8)))
        } _: { server in
            let error = await #expect(throws: KubernetesClientError.self) { try await server.client().version() }
            guard case .unexpectedResponse(let code, let method, let path, let excerpt) = error else {
                Issue.record("expected unexpectedResponse, got \(String(describing: error))")
                return
            }
            #expect(code == 502)
            #expect(method == "GET")
            #expect(path == "/version")
            #expect(excerpt.contains("502 Bad Gateway"))
            #expect(!excerpt.contains("\n"))
            #expect(error?.isRetryable == true)
        }
    }

    @Test("a 200 whose body is not the expected JSON is invalidResponse, not a crash")
    func badJSON() async throws {
        try await withMockServer { _ in
            rawJSON(#"{"items": 12"#)
        } _: { server in
            let error = await #expect(throws: KubernetesClientError.self) { try await server.client().jobs(in: "x") }
            guard case .invalidResponse(_, let path, _) = error else {
                Issue.record("expected invalidResponse, got \(String(describing: error))")
                return
            }
            #expect(path == "/apis/batch/v1/namespaces/x/jobs")
        }
    }

    @Test("a handler slower than the timeout fails as timed out, within the timeout and a margin")
    func timeout() async throws {
        try await withMockServer { _ in
            try? await Task.sleep(for: .seconds(6))
            return rawJSON("{}")
        } _: { server in
            let client = server.client(timeout: .milliseconds(300))
            let started = ContinuousClock.now
            let error = await #expect(throws: KubernetesClientError.self) { try await client.version() }
            #expect(error?.isTimedOut == true)
            #expect(ContinuousClock.now - started < .seconds(3), "long before the handler's 6 s")

            // A per-call timeout overrides the client's.
            let again = ContinuousClock.now
            let perCall = await #expect(throws: KubernetesClientError.self) {
                try await server.client(timeout: .seconds(30)).version(timeout: .milliseconds(200))
            }
            #expect(perCall?.isTimedOut == true)
            #expect(ContinuousClock.now - again < .seconds(3), "long before the handler's 6 s")
        }
    }

    @Test("a closed port is a transport error naming the server")
    func connectionRefused() async throws {
        let server = try MockAPIServer { _ in rawJSON("{}") }
        let url = server.url
        let client = server.client()
        await server.stop()
        let error = await #expect(throws: KubernetesClientError.self) { try await client.version() }
        #expect(error?.isUnreachable == true)
        guard case .transport(_, let reported) = error else {
            Issue.record("expected transport, got \(String(describing: error))")
            return
        }
        #expect(reported == url)
        #expect(error?.description.contains(url) == true)
    }

    @Test("label and field selectors reach the server exactly as written")
    func selectorEncoding() async throws {
        try await withMockServer { _ in
            .json(KubernetesList<Pod>(apiVersion: "v1", kind: "PodList", resourceVersion: "7", items: []))
        } _: { server in
            let selector: LabelSelectorQuery = [
                .equals("tier", "free"), .notEquals("app", "grader"), .in("env", ["dev", "test"]),
                .notIn("zone", ["a"]), .exists("batch.kubernetes.io/job-name"), .doesNotExist("legacy"),
            ]
            let written = "tier=free,app!=grader,env in (dev,test),zone notin (a),batch.kubernetes.io/job-name,!legacy"
            #expect(selector.description == written)
            _ = try await server.client().pods(in: "free", labelSelector: selector)
            _ = try await server.client().events(in: "free", fieldSelector: "involvedObject.name=grader-x7k2q")
            let requests = server.requests
            #expect(requests.count == 2)
            #expect(requests.first?.queryValue("labelSelector") == written)
            #expect(requests.last?.path == "/api/v1/namespaces/free/events")
            #expect(requests.last?.queryValue("fieldSelector") == "involvedObject.name=grader-x7k2q")
        }
        #expect(QueryString.encode([("labelSelector", "a=b,c!=d")]) == "labelSelector=a%3Db%2Cc%21%3Dd")
    }

    @Test("a Job's selector turns into its string form")
    func selectorFromLabelSelector() {
        let selector = LabelSelector(
            matchLabels: ["controller-uid": "3f1c", "app": "grader"],
            matchExpressions: [.init(key: "tier", operator: "In", values: ["free", "pro"])])
        #expect(LabelSelectorQuery(selector).description == "app=grader,controller-uid=3f1c,tier in (free,pro)")
        #expect(LabelSelectorQuery(matching: ["b": "2", "a": "1"]).description == "a=1,b=2")
    }

    @Test("delete sends DELETE with a propagation policy")
    func deleteJob() async throws {
        try await withMockServer { _ in
            rawJSON(#"{"kind":"Status","apiVersion":"v1","status":"Success"}"#)
        } _: {
            server in
            try await server.client().delete(job: "grader-x7k2q", in: "free")
            try await server.client().delete(job: "grader-x7k2q", in: "free", propagation: .orphan)
            let requests = server.requests
            #expect(requests.map(\.method) == [.delete, .delete])
            #expect(requests.first?.path == "/apis/batch/v1/namespaces/free/jobs/grader-x7k2q")
            #expect(requests.map { $0.queryValue("propagationPolicy") } == ["Background", "Orphan"])
        }
    }

    @Test("a pod's log comes back as text, with container and tailLines in the query")
    func podLog() async throws {
        try await withMockServer { _ in
            .text("epoch 1 loss 0.3\nepoch 2 loss 0.1\n")
        } _: { server in
            let log = try await server.client().log(
                ofPod: "grader-x7k2q-abcde", in: "free", container: "job", tailLines: 2)
            #expect(log == "epoch 1 loss 0.3\nepoch 2 loss 0.1\n")
            let request = try #require(server.requests.first)
            #expect(request.path == "/api/v1/namespaces/free/pods/grader-x7k2q-abcde/log")
            #expect(request.queryValue("container") == "job")
            #expect(request.queryValue("tailLines") == "2")
        }
    }

    @Test("an access review posts the attributes and reads status.allowed")
    func accessReview() async throws {
        try await withMockServer { request in
            guard var review = try? request.decodeJSON(SelfSubjectAccessReview.self),
                request.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
            else { return statusResponse(Status(code: 400, reason: "BadRequest", message: "bad review")) }
            let attributes = review.spec.resourceAttributes
            let allowed =
                attributes?.verb == "create" && attributes?.namespace == "free" && attributes?.group == "batch"
            review.status = .init(allowed: allowed)
            return .json(review, status: .created)
        } _: { server in
            let client = server.client()
            let mayCreateHere = try await client.selfSubjectAccessReview(
                verb: "create", resource: "jobs", group: "batch", namespace: "free")
            let mayCreateThere = try await client.selfSubjectAccessReview(
                verb: "create", resource: "jobs", group: "batch", namespace: "pro")
            #expect(mayCreateHere)
            #expect(!mayCreateThere)
        }
    }

    @Test("quotas, pods and version decode from API-shaped JSON")
    func typedReads() async throws {
        try await withMockServer { request in
            switch request.path {
            case "/version":
                return rawJSON(
                    #"{"major":"1","minor":"30+","gitVersion":"v1.30.2-eks-1552ad0","platform":"linux/amd64"}"#)
            case "/api/v1/namespaces/free/resourcequotas/tier-free":
                return rawJSON(
                    #"{"kind":"ResourceQuota","apiVersion":"v1","metadata":{"name":"tier-free","namespace":"free"},"#
                        + #""spec":{"hard":{"pods":"2","requests.cpu":"1"}},"#
                        + #""status":{"hard":{"pods":"2","requests.cpu":"1"},"#
                        + #""used":{"pods":"1","requests.cpu":"500m"}}}"#)
            case "/api/v1/namespaces/free/pods/p1":
                return rawJSON(
                    #"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p1","labels":{"job-name":"j"}},"#
                        + #""spec":{"containers":[{"name":"job","image":"tierserve/job"}]},"#
                        + #""status":{"phase":"Running"}}"#)
            default:
                return statusResponse(.notFound(resource: "things", group: "", name: request.path))
            }
        } _: { server in
            let client = server.client()
            let version = try await client.version()
            #expect(version.gitVersion == "v1.30.2-eks-1552ad0")
            let quota = try await client.resourceQuota(named: "tier-free", in: "free")
            #expect(quota.status?.used?["requests.cpu"]?.milliValue == 500)
            let pod = try await client.pod(named: "p1", in: "free")
            #expect(pod.metadata.labels?["job-name"] == "j")
            #expect(pod.status?.phase == .running)
        }
    }

    @Test("each request is logged at debug with method, path, status and duration")
    func debugLogging() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/log"
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            defer { try? handle.close() }
            try await withMockServer { _ in
                rawJSON(#"{"major":"1"}"#)
            } _: { server in
                let logger = Logger(label: "k8s", level: .debug, fileDescriptor: handle.fileDescriptor)
                let client = KubernetesClient(
                    configuration: KubernetesConfiguration(server: server.url), logger: logger)
                _ = try await client.version()
            }
            let line = try String(contentsOfFile: path, encoding: .utf8)
            #expect(line.contains("debug k8s: request method=GET path=/version status=200 ms="))
        }
    }
}
