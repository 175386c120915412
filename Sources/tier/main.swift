import CommandLineOptions
import Foundation
import KubernetesClient
import Logging
import TierService

// One tier's service. On a cluster it runs in the tier's namespace with the tier's service account:
//
//   tier --tier free --namespace free-service --job-template /etc/tierserve/job-template.yaml --listen 0.0.0.0:5000
//
// On one machine it is pointed at the local cluster with the tier's token:
//
//   tier ... --listen 127.0.0.1:5001 --server https://127.0.0.1:6443 --token-file TOKEN --ca-file CA
//
// Without --server it reads a kubeconfig (KUBECONFIG, ~/.kube/config, --context) or the pod's service account.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tier: error: \(message)\n".utf8))
    exit(2)
}

SignalWaiter.install()
let options: CommandLineOptions
do {
    options = try CommandLineOptions(
        Array(CommandLine.arguments.dropFirst()),
        values: [
            "tier", "namespace", "job-template", "listen", "server", "token-file", "ca-file", "context", "log-level",
        ])
} catch {
    fail(error.message)
}

guard let tier = options.value("tier"), ["free", "premium"].contains(tier) else {
    fail("--tier must be free or premium")
}
let namespace = options.value("namespace") ?? "\(tier)-service"
guard let level = LogLevel(name: options.value("log-level") ?? "info") else {
    fail("--log-level must be debug, info, warning or error")
}
guard let templatePath = options.value("job-template") else { fail("--job-template FILE (a Job manifest) is required") }
guard let templateText = try? String(contentsOfFile: templatePath, encoding: .utf8) else {
    fail("cannot read --job-template \(templatePath)")
}
let listen = options.value("listen") ?? "127.0.0.1:5000"
guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
    fail("--listen \(listen) is not HOST:PORT")
}

let configuration: KubernetesConfiguration
do {
    if let server = options.value("server") {
        guard let tokenPath = options.value("token-file") else { fail("--server needs --token-file") }
        var explicit = KubernetesConfiguration(
            server: server,
            certificateAuthorityPEM: options.value("ca-file").map { path in
                guard let data = FileManager.default.contents(atPath: path) else {
                    fail("cannot read --ca-file \(path)")
                }
                return [UInt8](data)
            }, namespace: namespace)
        explicit.credentials = .tokenFile(path: tokenPath)
        configuration = explicit
    } else {
        configuration = try KubernetesConfiguration.resolve(context: options.value("context"))
    }
} catch {
    fail("\(error)")
}

let logger = Logger(label: "tier", level: level).with("tier", tier)
do {
    let template = try JobTemplate(yaml: templateText, source: templatePath)
    let service = TierService(
        configuration: TierService.Configuration(tier: tier, namespace: namespace, template: template, logger: logger),
        client: KubernetesClient(configuration: configuration))
    let server = try service.start(host: String(listen[..<colon]), port: port)
    SignalWaiter.waitThenStop(stopping: { logger.info("stopping", ["signal": $0]) }) { await server.stop() }
} catch {
    fail("\(error)")
}
