import Foundation
import Kubernetes
import Logging
import Testing

@testable import LocalCluster

/// Manifests at start: kustomization lists, kinds not emulated, re-applying.
@Suite struct ManifestLoaderTests {
    @Test("kustomization resources are applied, other kinds are reported, and re-applying changes nothing")
    func applyTwice() async throws {
        let directory = try TemporaryDirectory("manifests")
        defer { directory.remove() }
        let manifests = directory.url.appendingPathComponent("manifests")
        try FileManager.default.createDirectory(at: manifests, withIntermediateDirectories: true)
        try Data("resources:\n  - app.yaml\n".utf8).write(to: manifests.appendingPathComponent("kustomization.yaml"))
        try Data("kind: Namespace\napiVersion: v1\nmetadata: {name: ignored}\n".utf8)
            .write(to: manifests.appendingPathComponent("not-listed.yaml"))
        let app = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: worker, namespace: shop}
            """
        try Data(app.utf8).write(to: manifests.appendingPathComponent("app.yaml"))

        let documents = try ManifestLoader.documents(in: manifests)
        #expect(documents.count == 4)

        let state = directory.url.appendingPathComponent("state")
        for run in 0..<2 {
            let cluster = try await LocalCluster.start(
                .init(stateDirectory: state, logger: Logger(label: "manifest-test", level: .error)))
            let outcome = try ManifestLoader.apply(documents, registry: cluster.registry)
            #expect(outcome.skipped == ["Deployment/web", "ConfigMap/settings"])
            if run == 0 {
                #expect(outcome.created == ["Namespace/shop", "ServiceAccount/worker"])
            } else {
                #expect(outcome.created.isEmpty)
                #expect(outcome.updated.isEmpty)
                #expect(outcome.unchanged == ["Namespace/shop", "ServiceAccount/worker"])
            }
            #expect(
                FileManager.default.fileExists(
                    atPath: cluster.serviceAccountTokenPath(namespace: "shop", name: "worker")))
            #expect((try? cluster.registry.get(.namespaces, namespace: "", name: "ignored")) == nil)
            await cluster.stop()
        }
    }

    @Test("images resolve exactly, without their tag, or as :latest; command and args follow Kubernetes")
    func imageMap() {
        let map = ImageMap(images: [
            "tierserve/job:latest": .init(command: ["/bin/job"], args: ["--default"]),
            "registry:5000/tools": .init(command: ["/bin/sh"]),
        ])
        #expect(map.image(for: "tierserve/job")?.command == ["/bin/job"])
        #expect(map.image(for: "tierserve/job:latest")?.command == ["/bin/job"])
        #expect(map.image(for: "registry:5000/tools:1.2")?.command == ["/bin/sh"])
        #expect(map.image(for: "other") == nil)
        let image = ImageMap.Image(command: ["/bin/job"], args: ["--default"])
        #expect(ImageMap.argv(image: image, container: Container(name: "c")) == ["/bin/job", "--default"])
        #expect(ImageMap.argv(image: image, container: Container(name: "c", args: ["-x"])) == ["/bin/job", "-x"])
        #expect(ImageMap.argv(image: image, container: Container(name: "c", command: ["/bin/echo"])) == ["/bin/echo"])
    }
}
