import Foundation
import Kubernetes
import YAML

/// Reads the manifests the cluster starts from and applies them through the registry.
///
/// A directory is read recursively for `*.yaml`/`*.yml`, except that a directory holding a
/// `kustomization.yaml` contributes exactly the files and directories its `resources` list names. Kinds the
/// cluster does not emulate are reported together, not applied. Applying again changes nothing that already
/// matches, so a restart re-applies safely.
enum ManifestLoader {
    /// What applying did.
    struct Outcome: Sendable, Equatable {
        /// Objects created.
        var created: [String] = []
        /// Objects already stored and updated to match.
        var updated: [String] = []
        /// Objects already stored as given.
        var unchanged: [String] = []
        /// `Kind/name` of documents whose kind is not emulated.
        var skipped: [String] = []
    }

    /// The documents under `directory`, in file order.
    ///
    /// - Throws: `LocalClusterError` `.configuration` naming the file that does not read or parse.
    static func documents(in directory: URL) throws(LocalClusterError) -> [JSONValue] {
        var documents: [JSONValue] = []
        for file in try files(in: directory) {
            do {
                let text = try String(contentsOf: file, encoding: .utf8)
                for document in try YAMLParser.parseDocuments(text) {
                    let value = try JSONValue(json: try document.jsonData())
                    if case .object(let members) = value, !members.isEmpty { documents.append(value) }
                }
            } catch {
                throw LocalClusterError(
                    .configuration, message: "the manifest \(file.path) could not be read: \(error)")
            }
        }
        return documents
    }

    private static func files(in directory: URL) throws(LocalClusterError) -> [URL] {
        let manager = FileManager.default
        let kustomization = ["kustomization.yaml", "kustomization.yml"].map { directory.appendingPathComponent($0) }
            .first { manager.fileExists(atPath: $0.path) }
        if let kustomization {
            let value: JSONValue
            do {
                value = try JSONValue(
                    json: try YAMLParser.parseDocument(String(contentsOf: kustomization, encoding: .utf8)).jsonData())
            } catch {
                throw LocalClusterError(.configuration, message: "\(kustomization.path) could not be read: \(error)")
            }
            var result: [URL] = []
            for entry in value["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                let target = directory.appendingPathComponent(entry)
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: target.path, isDirectory: &isDirectory) else {
                    throw LocalClusterError(
                        .configuration, message: "\(kustomization.path) lists \(entry), which does not exist")
                }
                result += isDirectory.boolValue ? try files(in: target) : [target]
            }
            return result
        }
        guard let names = try? manager.contentsOfDirectory(atPath: directory.path) else {
            throw LocalClusterError(.configuration, message: "the manifests directory \(directory.path) cannot be read")
        }
        var result: [URL] = []
        for name in names.sorted() {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            manager.fileExists(atPath: url.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                result += try files(in: url)
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                result.append(url)
            }
        }
        return result
    }

    /// Applies `documents`: creates what is missing, updates what differs, skips kinds not emulated.
    /// Namespaces go first so the objects in them can be created.
    ///
    /// - Throws: `LocalClusterError` `.configuration` when the registry refuses a document.
    static func apply(_ documents: [JSONValue], registry: Registry) throws(LocalClusterError) -> Outcome {
        var outcome = Outcome()
        let ordered = documents.filter { $0["kind"] == "Namespace" } + documents.filter { $0["kind"] != "Namespace" }
        for document in ordered {
            let kind = document["kind"]?.stringValue ?? ""
            let apiVersion = document["apiVersion"]?.stringValue ?? ""
            let name = document.value(atPath: "metadata.name")?.stringValue ?? ""
            let label = "\(kind)/\(name)"
            guard kind != "Kustomization",
                let type = ResourceType.find(apiVersion: apiVersion, kind: kind), type != .selfSubjectAccessReviews
            else {
                if kind != "Kustomization" { outcome.skipped.append(label) }
                continue
            }
            let namespace =
                type.namespaced ? (document.value(atPath: "metadata.namespace")?.stringValue ?? "default") : ""
            do {
                if let existing = try? registry.get(type, namespace: namespace, name: name) {
                    if matches(document, existing.raw) {
                        outcome.unchanged.append(label)
                    } else {
                        var body = existing.raw.applyingMergePatch(document)
                        body.setMetadata("resourceVersion", nil)
                        _ = try registry.replace(type, namespace: namespace, name: name, body: body, subresource: nil)
                        outcome.updated.append(label)
                    }
                } else {
                    _ = try registry.create(type, namespace: namespace, body: document)
                    outcome.created.append(label)
                }
            } catch {
                throw LocalClusterError(
                    .configuration, message: "the manifest \(label) was refused: \(error.message ?? "")")
            }
        }
        return outcome
    }

    /// True when every field the manifest gives (other than metadata the server owns) is already stored so.
    private static func matches(_ manifest: JSONValue, _ stored: JSONValue) -> Bool {
        stored.applyingMergePatch(manifest) == stored
    }
}
