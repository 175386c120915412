import Foundation
import Kubernetes

/// The defaults the API server fills in on create, so clients read back what they would from a real cluster.
enum ObjectDefaults {
    /// Fills defaults and server-owned fields of a new `type` object whose uid is already set.
    static func prepareForCreate(_ type: ResourceType, _ object: inout KubernetesObject) {
        object.raw.set("apiVersion", .string(type.groupVersion))
        object.raw.set("kind", .string(type.kind))
        switch type {
        case .namespaces:
            object.raw.setMetadata(
                "labels",
                JSONValue(stringMap: object.labels.merging(["kubernetes.io/metadata.name": object.name]) { $1 }))
            object.raw.set("spec", .object(["finalizers": .array([.string("kubernetes")])]))
            object.raw.set("status", .object(["phase": .string("Active")]))
        case .jobs:
            prepareJob(&object)
        case .pods:
            preparePod(&object)
        case .resourceQuotas:
            object.raw.set("status", nil)
        default:
            break
        }
    }

    private static func prepareJob(_ object: inout KubernetesObject) {
        let uid = object.uid
        let name = object.name
        object.raw.modify("spec") { spec in
            if spec["parallelism"] == nil { spec.set("parallelism", .integer(1)) }
            if spec["completions"] == nil { spec.set("completions", .integer(1)) }
            if spec["backoffLimit"] == nil { spec.set("backoffLimit", .integer(6)) }
            if spec["completionMode"] == nil { spec.set("completionMode", .string("NonIndexed")) }
            if spec["suspend"] == nil { spec.set("suspend", .bool(false)) }
            if spec["podReplacementPolicy"] == nil { spec.set("podReplacementPolicy", .string("TerminatingOrFailed")) }
            if spec["manualSelector"] != .bool(true) {
                spec.set(
                    "selector",
                    .object(["matchLabels": JSONValue(stringMap: ["batch.kubernetes.io/controller-uid": uid])]))
            }
            spec.modify("template") { template in
                template.modify("metadata") { metadata in
                    var labels = metadata["labels"]?.stringMap ?? [:]
                    labels["batch.kubernetes.io/controller-uid"] = uid
                    labels["batch.kubernetes.io/job-name"] = name
                    labels["controller-uid"] = uid
                    labels["job-name"] = name
                    metadata.set("labels", JSONValue(stringMap: labels))
                }
            }
        }
        object.raw.setMetadata("generation", .integer(1))
        object.raw.set("status", .object([:]))
    }

    private static func preparePod(_ object: inout KubernetesObject) {
        object.raw.modify("spec") { spec in
            if spec["restartPolicy"] == nil { spec.set("restartPolicy", .string("Always")) }
            if spec["terminationGracePeriodSeconds"] == nil { spec.set("terminationGracePeriodSeconds", .integer(30)) }
            if spec["dnsPolicy"] == nil { spec.set("dnsPolicy", .string("ClusterFirst")) }
            if spec["schedulerName"] == nil { spec.set("schedulerName", .string("default-scheduler")) }
            if spec["serviceAccountName"] == nil { spec.set("serviceAccountName", .string("default")) }
            spec.set("serviceAccount", spec["serviceAccountName"])
            if spec["nodeName"] == nil { spec.set("nodeName", .string(LocalNode.nodeName)) }
            let containers = (spec["containers"]?.arrayValue ?? []).map { container in
                var container = container
                if container["imagePullPolicy"] == nil {
                    let image = container["image"]?.stringValue ?? ""
                    let tagged = image.split(separator: "/").last?.contains(":") ?? false
                    let pullAlways = !tagged || image.hasSuffix(":latest")
                    container.set("imagePullPolicy", .string(pullAlways ? "Always" : "IfNotPresent"))
                }
                if container["terminationMessagePath"] == nil {
                    container.set("terminationMessagePath", .string("/dev/termination-log"))
                }
                if container["terminationMessagePolicy"] == nil {
                    container.set("terminationMessagePolicy", .string("File"))
                }
                if container["resources"] == nil { container.set("resources", .object([:])) }
                return container
            }
            spec.set("containers", .array(containers))
        }
        object.raw.set("status", .object(["phase": .string("Pending"), "qosClass": .string(qosClass(object.raw))]))
    }

    /// `Guaranteed` when every container's requests equal its limits for CPU and memory, `BestEffort` when none
    /// sets any, `Burstable` otherwise.
    static func qosClass(_ pod: JSONValue) -> String {
        let containers = pod.value(atPath: "spec.containers")?.arrayValue ?? []
        var anySet = false
        var guaranteed = true
        for container in containers {
            let requests = container.value(atPath: "resources.requests")?.objectValue ?? [:]
            let limits = container.value(atPath: "resources.limits")?.objectValue ?? [:]
            if !requests.isEmpty || !limits.isEmpty { anySet = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource] else {
                    guaranteed = false
                    continue
                }
                if let request = requests[resource], request != limit { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
