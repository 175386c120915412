import CommandLineOptions
import EnvoyConfig
import Foundation
import Gateway
import Logging

// Envoy's stand-in on one machine, driven by the same config file as Envoy on the cluster:
//
//   gateway --config Manifests/envoy/envoy.yaml [--listen 127.0.0.1:8080]
//           [--resolve free-tier-service.free-service.svc.cluster.local=127.0.0.1:5001 ...]
//           [--listener NAME] [--concurrency THREADS] [--log-level info]

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gateway: error: \(message)\n".utf8))
    exit(2)
}

func socketAddress(_ text: String, option: String) -> SocketAddress {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port), colon != text.startIndex
    else { fail("--\(option) \(text) is not HOST:PORT") }
    return SocketAddress(address: String(text[..<colon]), port: port)
}

SignalWaiter.install()
let options: CommandLineOptions
do {
    options = try CommandLineOptions(
        Array(CommandLine.arguments.dropFirst()), values: ["config", "listen", "listener", "concurrency", "log-level"],
        repeatable: ["resolve"])
} catch {
    fail(error.message)
}
guard let configPath = options.value("config") else { fail("--config FILE (an Envoy bootstrap YAML) is required") }
guard let level = LogLevel(name: options.value("log-level") ?? "info") else {
    fail("--log-level must be debug, info, warning or error")
}
guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else {
    fail("cannot read --config \(configPath)")
}

let envoy: EnvoyConfig
do {
    envoy = try EnvoyConfig(yaml: text)
} catch {
    fail("\(configPath): \(error)")
}
var resolve: [String: SocketAddress] = [:]
for mapping in options.all("resolve") {
    let parts = mapping.split(separator: "=", maxSplits: 1)
    guard parts.count == 2 else { fail("--resolve \(mapping) is not NAME=HOST:PORT") }
    resolve[String(parts[0])] = socketAddress(String(parts[1]), option: "resolve")
}

var concurrency = ProcessInfo.processInfo.activeProcessorCount
if let text = options.value("concurrency") {
    guard let threads = Int(text), (1...256).contains(threads) else {
        fail("--concurrency \(text) is not a number of threads from 1 to 256")
    }
    concurrency = threads
}

let logger = Logger(label: "gateway", level: level)
do {
    let gateway = try Gateway(
        configuration: Gateway.Configuration(
            envoy: envoy, listenerName: options.value("listener"),
            listen: options.value("listen").map { socketAddress($0, option: "listen") }, resolve: resolve,
            concurrency: concurrency, logger: logger))
    let server = try gateway.start()
    SignalWaiter.waitThenStop(stopping: { logger.info("stopping", ["signal": $0]) }) { await server.stop() }
} catch {
    fail("\(error)")
}
