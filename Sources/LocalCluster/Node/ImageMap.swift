import Foundation
import Kubernetes
import YAML

/// How the local node "runs an image": each image name maps to a local executable, its default arguments
/// and extra environment (such as `MODEL_DIR` pointing at this machine's models).
///
/// The file (`--images`, YAML or JSON):
/// ```yaml
/// images:
///   tierserve/job:latest:
///     command: [/srv/tierserve/.build/debug/job]
///     env: {MODEL_DIR: /srv/tierserve/Models, DATA_DIR: /srv/tierserve/data}
///   busybox:
///     command: [/bin/sh]
/// ```
/// As in Kubernetes, a container's `command` replaces the image's entrypoint (`command` here) and its `args`
/// replace the image's default arguments (`args` here).
public struct ImageMap: Sendable {
    /// One image's local stand-in.
    public struct Image: Sendable, Equatable {
        /// The entrypoint: executable path (or name on PATH) and leading arguments.
        public var command: [String]
        /// Default arguments, used when the container gives no `args` and no `command`.
        public var args: [String]
        /// Extra environment for every container of this image, before the container's own `env`.
        public var env: [String: String]

        /// An image from its parts.
        public init(command: [String], args: [String] = [], env: [String: String] = [:]) {
            self.command = command
            self.args = args
            self.env = env
        }
    }

    /// Images by name.
    public var images: [String: Image]

    /// A map of `images`.
    public init(images: [String: Image] = [:]) {
        self.images = images
    }

    /// Reads the map from a YAML or JSON file.
    ///
    /// - Throws: `LocalClusterError` `.configuration` naming the file and the problem.
    public init(contentsOf file: URL) throws(LocalClusterError) {
        let root: JSONValue
        do {
            let text = try String(contentsOf: file, encoding: .utf8)
            root = try JSONValue(json: try YAMLParser.parseDocument(text).jsonData())
        } catch {
            throw LocalClusterError(.configuration, message: "the image map \(file.path) could not be read: \(error)")
        }
        var images: [String: Image] = [:]
        for (name, entry) in root["images"]?.objectValue ?? [:] {
            let command = entry["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
            guard !command.isEmpty else {
                throw LocalClusterError(
                    .configuration,
                    message:
                        "image \(name) in \(file.path) has no command; give the local executable as command: [PATH]")
            }
            images[name] = Image(
                command: command, args: entry["args"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                env: entry["env"]?.stringMap ?? [:])
        }
        self.images = images
    }

    /// The stand-in for `reference`: an exact match, else the same name without its tag or with `:latest`.
    public func image(for reference: String) -> Image? {
        if let exact = images[reference] { return exact }
        // The tag is what follows the last colon after the last slash (a registry port has a slash after it).
        let name = reference.split(separator: "/").last.map(String.init) ?? reference
        var untagged = reference
        if let colon = name.lastIndex(of: ":") {
            untagged = String(reference.dropLast(name.distance(from: colon, to: name.endIndex)))
        }
        return images[untagged] ?? images[untagged + ":latest"]
    }

    /// The argv for `container` of this image, following Kubernetes' entrypoint rules.
    static func argv(image: Image, container: Container) -> [String] {
        if let command = container.command, !command.isEmpty {
            return command + (container.args ?? [])
        }
        return image.command + (container.args ?? image.args)
    }
}
