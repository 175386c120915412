import Kubernetes

/// Field validation done before admission, with the API server's messages: names, required fields and the
/// few per-kind rules the stack meets. Each problem is one `Status.Details.Cause`.
enum ObjectValidation {
    private static let subdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    private static let labelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        + "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

    /// The problems with `object` as a new object of `type`; empty when it is valid.
    static func validate(_ type: ResourceType, _ object: KubernetesObject) -> [Status.Details.Cause] {
        var causes: [Status.Details.Cause] = []
        let name = object.name
        switch type {
        case .namespaces:
            causes += validateLabelName(name, field: "metadata.name")
        case .roles, .roleBindings:
            if name.contains("/") || name.contains("%") || name == "." || name == ".." {
                causes.append(invalid("metadata.name", name, "may not contain '/' or '%'"))
            }
        default:
            causes += validateSubdomain(name, field: "metadata.name")
        }

        switch type {
        case .pods:
            causes += validatePodSpec(object.raw["spec"], field: "spec")
        case .jobs:
            // The name is copied into the pods' `job-name` labels, so it must also be a valid label value.
            if name.utf8.count > 63 {
                causes.append(invalid("spec.template.labels", name, "must be no more than 63 characters"))
            }
            let podSpec = object.raw.value(atPath: "spec.template.spec")
            if podSpec == nil {
                causes.append(required("spec.template.spec"))
            } else {
                causes += validatePodSpec(podSpec, field: "spec.template.spec")
                let policy = podSpec?["restartPolicy"]?.stringValue
                if policy != "Never" && policy != "OnFailure" {
                    causes.append(
                        policy == nil
                            ? required(
                                "spec.template.spec.restartPolicy", detail: "valid values: \"OnFailure\", \"Never\"")
                            : Status.Details.Cause(
                                reason: "FieldValueNotSupported",
                                message:
                                    "Unsupported value: \"\(policy ?? "")\": supported values: \"OnFailure\", \"Never\"",
                                field: "spec.template.spec.restartPolicy"))
                }
            }
            for field in ["completions", "parallelism", "backoffLimit", "activeDeadlineSeconds"] {
                if let value = object.raw.value(atPath: "spec.\(field)")?.integerValue, value < 0 {
                    causes.append(invalid("spec.\(field)", String(value), "must be greater than or equal to 0"))
                }
            }
        case .roleBindings:
            if object.raw["roleRef"] == nil { causes.append(required("roleRef")) }
        default:
            break
        }
        return causes
    }

    /// The 422 Status for `causes`, worded as the API server words it (several causes go in brackets).
    static func invalidStatus(_ type: ResourceType, name: String, causes: [Status.Details.Cause]) -> Status {
        let parts = causes.map { "\($0.field ?? ""): \($0.message ?? "")" }
        let summary = parts.count == 1 ? parts[0] : "[" + parts.joined(separator: ", ") + "]"
        return Status(
            code: 422, reason: "Invalid", message: "\(type.qualifiedKind) \"\(name)\" is invalid: \(summary)",
            details: Status.Details(
                name: name, group: type.group.isEmpty ? nil : type.group, kind: type.kind, causes: causes))
    }

    static func validateSubdomain(_ name: String, field: String) -> [Status.Details.Cause] {
        var causes: [Status.Details.Cause] = []
        if name.utf8.count > 253 {
            causes.append(invalid(field, name, "must be no more than 253 characters"))
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if name.isEmpty || !labels.allSatisfy({ isLabel($0) }) {
            causes.append(invalid(field, name, subdomainMessage))
        }
        return causes
    }

    static func validateLabelName(_ name: String, field: String) -> [Status.Details.Cause] {
        var causes: [Status.Details.Cause] = []
        if name.utf8.count > 63 {
            causes.append(invalid(field, name, "must be no more than 63 characters"))
        }
        if !isLabel(Substring(name)) {
            causes.append(invalid(field, name, labelMessage))
        }
        return causes
    }

    private static func isLabel(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        return alphanumeric(first) && alphanumeric(last) && text.utf8.allSatisfy { alphanumeric($0) || $0 == 45 }
    }

    private static func validatePodSpec(_ spec: JSONValue?, field: String) -> [Status.Details.Cause] {
        guard let spec else { return [required(field)] }
        let containers = spec["containers"]?.arrayValue ?? []
        guard !containers.isEmpty else { return [required("\(field).containers")] }
        var causes: [Status.Details.Cause] = []
        var names: Set<String> = []
        for (index, container) in containers.enumerated() {
            let path = "\(field).containers[\(index)]"
            guard let name = container["name"]?.stringValue, !name.isEmpty else {
                causes.append(required("\(path).name"))
                continue
            }
            causes += validateLabelName(name, field: "\(path).name")
            if !names.insert(name).inserted {
                causes.append(
                    Status.Details.Cause(
                        reason: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\"", field: "\(path).name"))
            }
            if container["image"]?.stringValue?.isEmpty ?? true {
                causes.append(required("\(path).image"))
            }
            for kind in ["requests", "limits"] {
                for (resource, value) in container.value(atPath: "resources.\(kind)")?.objectValue ?? [:] {
                    let text = value.stringValue ?? value.integerValue.map { String($0) } ?? ""
                    if (try? Quantity(text)) == nil {
                        causes.append(
                            invalid(
                                "\(path).resources.\(kind)[\(resource)]", text,
                                "quantities must match the regular expression "
                                    + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
                    }
                }
            }
        }
        return causes
    }

    static func invalid(_ field: String, _ value: String, _ detail: String) -> Status.Details.Cause {
        Status.Details.Cause(
            reason: "FieldValueInvalid", message: "Invalid value: \"\(value)\": \(detail)", field: field)
    }

    static func required(_ field: String, detail: String? = nil) -> Status.Details.Cause {
        Status.Details.Cause(
            reason: "FieldValueRequired", message: "Required value" + (detail.map { ": \($0)" } ?? ""), field: field)
    }
}
