import Foundation
import Kubernetes
import YAML

/// The Job a tier creates per request, read from the manifest file that the cluster's ConfigMap mounts.
///
/// The template is kept as raw JSON so that every field it sets (security contexts, resources, deadlines)
/// reaches the cluster unchanged; only the name, the request's labels and, for inline images, one
/// environment variable are added.
public struct JobTemplate: Sendable {
    /// The template as written.
    public let object: KubernetesObject
    /// The `DATASET` the template's container is configured with: the one dataset this tier serves.
    public let dataset: String
    /// The container that runs the job, whose environment receives `INPUTS`.
    public let containerName: String

    /// Reads a Job manifest.
    ///
    /// - Throws: `TierError.badRequest`-free `JobTemplateError` naming what the file lacks.
    public init(yaml text: String, source: String) throws(JobTemplateError) {
        let object: KubernetesObject
        let job: Job
        do {
            let value = try YAMLParser.parseDocument(text)
            object = KubernetesObject(raw: try JSONValue(json: try value.jsonData()))
            job = try object.decode(as: Job.self)
        } catch {
            throw JobTemplateError("\(source) is not a Job manifest: \(error)")
        }
        guard job.kind == "Job", let container = job.spec?.template.spec?.containers.first else {
            throw JobTemplateError("\(source) must be a batch/v1 Job with at least one container")
        }
        guard let dataset = container.env?.first(where: { $0.name == "DATASET" })?.value else {
            throw JobTemplateError("\(source): container \(container.name) sets no DATASET environment variable")
        }
        self.object = object
        self.dataset = dataset
        self.containerName = container.name
    }

    /// The Job to create: the template named `name`, labelled with the request id, with `inputs` as the
    /// container's `INPUTS` variable when given.
    func job(named name: String, requestID: String, inputs: String?) throws -> KubernetesObject {
        var job = object
        try job.update(as: Job.self) { job in
            job.metadata.name = name
            job.metadata.generateName = nil
            var annotations = job.metadata.annotations ?? [:]
            annotations["tierserve.dev/request-id"] = requestID
            job.metadata.annotations = annotations
            guard let inputs, var template = job.spec?.template, var pod = template.spec else { return }
            for index in pod.containers.indices where pod.containers[index].name == containerName {
                var environment = pod.containers[index].env ?? []
                environment.removeAll { $0.name == "INPUTS" }
                environment.append(EnvVar(name: "INPUTS", value: inputs))
                pod.containers[index].env = environment
            }
            template.spec = pod
            job.spec?.template = template
        }
        // A typed value left nil keeps the stored field, so drop generateName from the raw JSON directly.
        job.applyMergePatch(.object(["metadata": .object(["generateName": .null])]))
        return job
    }
}

/// Why a Job template cannot be used.
public struct JobTemplateError: Error, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    public let message: String

    init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
