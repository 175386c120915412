import Foundation
import LocalCluster
import Logging

// The local cluster as a process: parse flags, start the cluster, serve until SIGINT or SIGTERM.

let usage = """
    usage: local-cluster --state-dir DIR [--manifests DIR] [--images FILE] [--host 127.0.0.1] [--port 0]
                         [--insecure-http] [--log-level info]
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("local-cluster: \(message)\n".utf8))
    exit(2)
}

var options: [String: String] = [:]
var flags: Set<String> = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--insecure-http": flags.insert(argument)
    case "--help", "-h":
        print(usage)
        exit(0)
    case "--state-dir", "--manifests", "--images", "--host", "--port", "--log-level":
        guard let value = arguments.popFirst() else { fail("\(argument) needs a value\n\(usage)") }
        options[argument] = value
    default:
        fail("unknown argument \(argument)\n\(usage)")
    }
}
guard let stateDirectory = options["--state-dir"] else { fail("--state-dir is required\n\(usage)") }
guard let port = UInt16(options["--port"] ?? "0") else { fail("--port must be a number from 0 to 65535") }
guard let level = LogLevel(name: options["--log-level"] ?? "info") else {
    fail("--log-level must be debug, info, warning or error")
}

do {
    let images = try options["--images"].map { try ImageMap(contentsOf: URL(fileURLWithPath: $0)) } ?? ImageMap()
    let cluster = try await LocalCluster.start(
        .init(
            stateDirectory: URL(fileURLWithPath: stateDirectory, isDirectory: true),
            host: options["--host"] ?? "127.0.0.1",
            port: port, insecureHTTP: flags.contains("--insecure-http"),
            manifestsDirectory: options["--manifests"].map { URL(fileURLWithPath: $0, isDirectory: true) },
            images: images, logger: Logger(label: "local-cluster", level: level)))
    FileHandle.standardOutput.write(
        Data("local-cluster serving \(cluster.serverURL) kubeconfig=\(cluster.kubeconfigPath)\n".utf8))
    await cluster.runUntilSignalled()
} catch {
    fail("\(error)")
}
