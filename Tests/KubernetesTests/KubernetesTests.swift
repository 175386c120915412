import Foundation
import Kubernetes
import Testing
import YAML

/// A Job as an API server returns it after it finished, including fields the types do not name.
private let finishedJobJSON = #"""
    {
      "apiVersion": "batch/v1",
      "kind": "Job",
      "metadata": {
        "name": "free-job-x7k2",
        "namespace": "tier-free",
        "uid": "1f0c6a8e-5f0e-4a53-9d7b-3b2f9c1e0a11",
        "resourceVersion": "48213",
        "generation": 1,
        "creationTimestamp": "2026-12-04T07:01:02Z",
        "labels": {"tier": "free", "batch.kubernetes.io/job-name": "free-job-x7k2"},
        "annotations": {"batch.kubernetes.io/job-tracking": ""},
        "managedFields": [{"manager": "kubectl", "operation": "Update"}]
      },
      "spec": {
        "parallelism": 1,
        "completions": 1,
        "backoffLimit": 0,
        "activeDeadlineSeconds": 600,
        "ttlSecondsAfterFinished": 300,
        "completionMode": "NonIndexed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "1f0c6a8e-5f0e-4a53-9d7b-3b2f9c1e0a11"}},
        "template": {
          "metadata": {"labels": {"job-name": "free-job-x7k2"}},
          "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": "tier-free-runner",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
              "name": "train",
              "image": "tierserve/train:1.0",
              "command": ["python", "-m", "train"],
              "args": ["--epochs", "2"],
              "env": [{"name": "TIER", "value": "free"},
                      {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
              "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "512Mi"}},
              "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
              "volumeMounts": [{"name": "data", "mountPath": "/data"}],
              "terminationMessagePolicy": "File"
            }]
          }
        }
      },
      "status": {
        "startTime": "2026-12-04T07:01:03Z",
        "completionTime": "2026-12-04T07:02:44Z",
        "succeeded": 1,
        "ready": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
          {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": "2026-12-04T07:02:44Z",
           "lastTransitionTime": "2026-12-04T07:02:44Z"},
          {"type": "Complete", "status": "True", "lastProbeTime": "2026-12-04T07:02:44Z",
           "lastTransitionTime": "2026-12-04T07:02:44Z"}
        ]
      }
    }
    """#

@Suite struct KubernetesTests {
    @Test("a real-shaped finished Job decodes with its spec, template and status")
    func decodeJob() throws {
        let job = try JSONDecoder().decode(Job.self, from: Data(finishedJobJSON.utf8))
        #expect(job.metadata.name == "free-job-x7k2")
        #expect(job.metadata.creationTimestamp == (try KubernetesTime(rfc3339: "2026-12-04T07:01:02Z")))
        let spec = try #require(job.spec)
        #expect(spec.backoffLimit == 0)
        #expect(spec.activeDeadlineSeconds == 600)
        #expect(spec.ttlSecondsAfterFinished == 300)
        #expect(spec.selector?.matchLabels?["batch.kubernetes.io/controller-uid"] == job.metadata.uid)
        let container = try #require(spec.template.spec?.containers.first)
        #expect(container.command == ["python", "-m", "train"])
        #expect(container.env?.first == EnvVar(name: "TIER", value: "free"))
        #expect(container.env?.last?.valueFrom?["fieldRef"]?["fieldPath"] == .string("metadata.name"))
        #expect(container.resources?.limits?["memory"] == (try Quantity("1Gi")))
        #expect(container.securityContext?.capabilities?.drop == ["ALL"])
        #expect(spec.template.spec?.securityContext?.seccompProfile?.type == "RuntimeDefault")
        #expect(job.status?.succeeded == 1)
        #expect(job.isFinished)
        #expect(job.condition("Complete")?.lastTransitionTime?.description == "2026-12-04T07:02:44Z")
        #expect(job.condition("Failed") == nil)
    }

    @Test("a change through the typed view keeps the fields the types do not name")
    func unknownFieldsSurvive() throws {
        var stored = try JSONDecoder().decode(KubernetesObject.self, from: Data(finishedJobJSON.utf8))
        try stored.update(as: Job.self) { job in
            job.metadata.labels?["scored"] = "true"
            job.spec?.template.spec?.containers[0].image = "tierserve/train:1.1"
        }
        let raw = stored.raw
        #expect(raw["metadata"]?["labels"]?["scored"] == .string("true"))
        #expect(raw["metadata"]?["managedFields"] != nil)
        #expect(raw["spec"]?["completionMode"] == .string("NonIndexed"))
        #expect(raw["status"]?["uncountedTerminatedPods"] == .object([:]))
        guard case .array(let containers)? = raw["spec"]?["template"]?["spec"]?["containers"] else {
            Issue.record("containers are missing")
            return
        }
        #expect(containers[0]["image"] == .string("tierserve/train:1.1"))
        #expect(containers[0]["terminationMessagePolicy"] == .string("File"))
        #expect(containers[0]["volumeMounts"] != nil)
    }

    @Test("a JSON merge patch merges objects, replaces values and removes members set to null")
    func mergePatch() throws {
        let original = try JSONValue(json: Data(#"{"a":{"b":1,"c":2},"d":[1,2],"e":"x"}"#.utf8))
        let patch = try JSONValue(json: Data(#"{"a":{"b":null,"z":3},"d":[3],"e":null}"#.utf8))
        let expected = try JSONValue(json: Data(#"{"a":{"c":2,"z":3},"d":[3]}"#.utf8))
        #expect(original.applyingMergePatch(patch) == expected)
    }

    @Test("a pod in a list decodes without apiVersion and kind, and its container states read")
    func podList() throws {
        let json = #"""
            {"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"9","continue":"abc"},
             "items":[{"metadata":{"name":"free-job-x7k2-q9z3b","generateName":"free-job-x7k2-",
               "ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"free-job-x7k2",
                 "uid":"1f0c","controller":true,"blockOwnerDeletion":true}]},
               "spec":{"containers":[{"name":"train"}]},
               "status":{"phase":"Failed","containerStatuses":[{"name":"train","ready":false,"restartCount":0,
                 "state":{"terminated":{"exitCode":3,"reason":"Error","startedAt":"2026-12-04T07:01:05Z",
                   "finishedAt":"2026-12-04T07:01:09.123456Z"}}}]}}]}
            """#
        let list = try JSONDecoder().decode(KubernetesList<Pod>.self, from: Data(json.utf8))
        #expect(list.metadata.continueToken == "abc")
        let pod = try #require(list.items.first)
        #expect(pod.metadata.ownerReferences?.first?.controller == true)
        #expect(pod.status?.phase == .failed)
        #expect(pod.status?.phase?.isTerminal == true)
        let terminated = try #require(pod.status?.containerStatuses?.first?.state?.terminated)
        #expect(terminated.exitCode == 3)
        let started = try #require(terminated.startedAt)
        let finished = try #require(terminated.finishedAt)
        #expect(finished.date.timeIntervalSince(started.date) > 4.1)
    }

    @Test("Status makers write the API server's message shapes")
    func statusMessages() throws {
        #expect(Status.notFound(resource: "jobs", group: "batch", name: "x").message == #"jobs.batch "x" not found"#)
        #expect(Status.alreadyExists(resource: "pods", group: "", name: "p").code == 409)
        let forbidden = Status.forbidden(
            user: "system:serviceaccount:tier-free:runner", verb: "create", resource: "jobs", group: "batch",
            namespace: "tier-paid")
        #expect(
            forbidden.message
                == #"jobs.batch is forbidden: User "system:serviceaccount:tier-free:runner" cannot create resource "jobs" in API group "batch" in the namespace "tier-paid""#
        )
        let encoded = try JSONValue(encoding: Status.unauthorized)
        #expect(encoded["kind"] == .string("Status"))
        #expect(encoded["status"] == .string("Failure"))
        #expect(encoded["metadata"] == .object([:]))
    }

    @Test("label selectors match labels and expressions")
    func labelSelector() {
        let selector = LabelSelector(
            matchLabels: ["job-name": "a"],
            matchExpressions: [.init(key: "tier", operator: "In", values: ["free", "paid"])])
        #expect(selector.matches(["job-name": "a", "tier": "free"]))
        #expect(!selector.matches(["job-name": "a", "tier": "enterprise"]))
        #expect(!selector.matches(["tier": "free"]))
        #expect(LabelSelector().matches([:]))
    }

    @Test("RBAC rules allow by verb, group and resource, with wildcards")
    func policyRule() {
        let rule = PolicyRule(apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get"])
        #expect(rule.allows(verb: "create", group: "batch", resource: "jobs"))
        #expect(!rule.allows(verb: "delete", group: "batch", resource: "jobs"))
        #expect(!rule.allows(verb: "get", group: "", resource: "pods"))
        #expect(
            PolicyRule(apiGroups: ["*"], resources: ["*"], verbs: ["*"]).allows(verb: "x", group: "y", resource: "z"))
    }

    @Test("a manifest in YAML decodes into the Kubernetes types")
    func fromYAML() throws {
        let yaml = """
            apiVersion: v1
            kind: ResourceQuota
            metadata: {name: tier-free, namespace: tier-free}
            spec:
              hard: {pods: "2", requests.cpu: "1", limits.memory: 2Gi}
            """
        let quota = try YAMLDecoder().decode(ResourceQuota.self, from: yaml)
        #expect(quota.spec?.hard?["pods"]?.value == 2)
        #expect(quota.spec?.hard?["limits.memory"] == (try Quantity("2048Mi")))
    }
}
