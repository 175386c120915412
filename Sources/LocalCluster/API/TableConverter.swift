import Foundation
import Kubernetes

/// Renders objects as `meta.k8s.io/v1` Tables, which `kubectl get` asks for and prints as its columns.
///
/// Jobs and pods get the columns a real server gives them; namespaces and quotas a short form of theirs;
/// everything else Name and Age.
enum TableConverter {
    private struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var description: String
    }

    /// A Table of `objects` of `type`.
    static func table(_ type: ResourceType, objects: [KubernetesObject], resourceVersion: Int64, now: Date) -> JSONValue
    {
        let columns = self.columns(for: type)
        let rows = objects.map { object -> JSONValue in
            .object([
                "cells": .array(cells(type, object, now: now)),
                "object": .object([
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": object.raw["metadata"] ?? .object([:]),
                ]),
            ])
        }
        let definitions = columns.map { column -> JSONValue in
            .object([
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .integer(Int64(column.priority)),
            ])
        }
        return .object([
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": .object(["resourceVersion": .string(String(resourceVersion))]),
            "columnDefinitions": .array(definitions), "rows": .array(rows),
        ])
    }

    private static func columns(for type: ResourceType) -> [Column] {
        let name = Column(name: "Name", format: "name", description: "Name must be unique within a namespace.")
        let age = Column(name: "Age", description: "CreationTimestamp is a timestamp representing the server time.")
        switch type {
        case .jobs:
            return [
                name, Column(name: "Status", description: "Status of the job."),
                Column(name: "Completions", description: "The desired number of successfully finished pods."),
                Column(name: "Duration", description: "Time required to complete the job."), age,
                Column(name: "Containers", priority: 1, description: "Names of each container in the template."),
                Column(
                    name: "Images", priority: 1, description: "Images referenced by each container in the template."),
                Column(name: "Selector", priority: 1, description: "A label query over pods."),
            ]
        case .pods:
            return [
                name, Column(name: "Ready", description: "The aggregate readiness state of this pod."),
                Column(name: "Status", description: "The aggregate status of the containers in this pod."),
                Column(
                    name: "Restarts", description: "The number of times the containers in this pod have been restarted."
                ),
                age, Column(name: "IP", priority: 1, description: "IP address allocated to the pod."),
                Column(name: "Node", priority: 1, description: "Name of the node the pod runs on."),
            ]
        case .namespaces:
            return [name, Column(name: "Status", description: "The status of the namespace."), age]
        case .events:
            return [
                Column(name: "Last Seen", description: "When the event last happened."),
                Column(name: "Type", description: "Normal or Warning."),
                Column(name: "Reason", description: "Why the event happened."),
                Column(name: "Object", description: "The object the event is about."),
                Column(name: "Message", description: "What happened."),
                Column(name: "Name", format: "name", priority: 1, description: "The event's name."),
            ]
        case .resourceQuotas:
            return [
                name, age, Column(name: "Request", description: "Used and hard requests."),
                Column(name: "Limit", description: "Used and hard limits."),
            ]
        default:
            return [name, age]
        }
    }

    private static func cells(_ type: ResourceType, _ object: KubernetesObject, now: Date) -> [JSONValue] {
        let raw = object.raw
        let name = JSONValue.string(object.name)
        let created = (raw.value(atPath: "metadata.creationTimestamp")?.stringValue).flatMap {
            try? KubernetesTime(rfc3339: $0)
        }
        let age = JSONValue.string(created.map { humanDuration(now.timeIntervalSince($0.date)) } ?? "<unknown>")
        switch type {
        case .jobs:
            let job = try? object.decoded(as: Job.self)
            let status = jobStatus(job)
            let completions = "\(job?.status?.succeeded ?? 0)/\(job?.spec?.completions ?? 1)"
            var duration = ""
            if let start = job?.status?.startTime {
                let end = job?.status?.completionTime?.date ?? now
                duration = humanDuration(end.timeIntervalSince(start.date))
            }
            let containers = job?.spec?.template.spec?.containers ?? []
            let selector = (job?.spec?.selector?.matchLabels ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return [
                name, .string(status), .string(completions), .string(duration), age,
                .string(containers.map(\.name).joined(separator: ",")),
                .string(containers.compactMap(\.image).joined(separator: ",")), .string(selector),
            ]
        case .pods:
            let pod = try? object.decoded(as: Pod.self)
            let statuses = pod?.status?.containerStatuses ?? []
            let ready = statuses.filter { $0.ready == true }.count
            let total = pod?.spec?.containers.count ?? 0
            let restarts = statuses.reduce(0) { $0 + Int($1.restartCount ?? 0) }
            return [
                name, .string("\(ready)/\(total)"), .string(podStatus(pod)), .integer(Int64(restarts)), age,
                .string(pod?.status?.podIP ?? "<none>"), .string(pod?.spec?.nodeName ?? "<none>"),
            ]
        case .namespaces:
            return [name, .string(raw.value(atPath: "status.phase")?.stringValue ?? ""), age]
        case .events:
            let last = (raw["lastTimestamp"]?.stringValue).flatMap { try? KubernetesTime(rfc3339: $0) }
            let kind = raw.value(atPath: "involvedObject.kind")?.stringValue?.lowercased() ?? ""
            let object = raw.value(atPath: "involvedObject.name")?.stringValue ?? ""
            return [
                .string(last.map { humanDuration(now.timeIntervalSince($0.date)) } ?? "<unknown>"),
                raw["type"] ?? "", raw["reason"] ?? "", .string("\(kind)/\(object)"), raw["message"] ?? "", name,
            ]
        case .resourceQuotas:
            let hard = raw.value(atPath: "status.hard")?.objectValue ?? [:]
            let used = raw.value(atPath: "status.used")?.objectValue ?? [:]
            func summary(_ keep: (String) -> Bool) -> String {
                hard.keys.filter(keep).sorted().map { key in
                    "\(key): \(used[key]?.stringValue ?? "0")/\(hard[key]?.stringValue ?? "")"
                }.joined(separator: ", ")
            }
            return [
                name, age, .string(summary { !$0.hasPrefix("limits.") }), .string(summary { $0.hasPrefix("limits.") }),
            ]
        default:
            return [name, age]
        }
    }

    /// The STATUS column of a Job, as kubectl 1.32 shows it.
    static func jobStatus(_ job: Job?) -> String {
        guard let job else { return "" }
        for type in ["Complete", "Failed", "FailureTarget", "SuccessCriteriaMet", "Suspended"]
        where job.condition(type) != nil {
            return type
        }
        return "Running"
    }

    /// The STATUS column of a pod: a container's waiting or terminated reason when there is one, else the phase.
    static func podStatus(_ pod: Pod?) -> String {
        guard let pod else { return "" }
        for status in pod.status?.containerStatuses ?? [] {
            if let reason = status.state?.waiting?.reason { return reason }
            if let terminated = status.state?.terminated {
                return terminated.reason ?? (terminated.exitCode == 0 ? "Completed" : "Error")
            }
        }
        return pod.status?.reason ?? pod.status?.phase?.rawValue ?? "Pending"
    }

    /// A short age such as `42s`, `3m12s`, `5h`, `2d`.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = max(0, Int(interval))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<600: return "\(seconds / 60)m\(seconds % 60 == 0 ? "" : "\(seconds % 60)s")"
        case ..<10800: return "\(seconds / 60)m"
        case ..<28800: return "\(seconds / 3600)h\((seconds % 3600) / 60 == 0 ? "" : "\((seconds % 3600) / 60)m")"
        case ..<172800: return "\(seconds / 3600)h"
        case ..<691200:
            return "\(seconds / 86400)d\((seconds % 86400) / 3600 == 0 ? "" : "\((seconds % 86400) / 3600)h")"
        default: return "\(seconds / 86400)d"
        }
    }
}
