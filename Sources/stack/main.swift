import CommandLineOptions
import Foundation
import Logging
import Stack

#if canImport(Glibc)
    import Glibc
#endif

// The local stack in one command:
//
//   stack up [--state-dir state] [--gateway-port 8080] [--cluster-port 6443] [--free-port 5001]
//            [--premium-port 5002] [--grader-port 5000] [--data-dir data]
//   stack down [--state-dir state]
//
// `up` starts every piece, prints the addresses and serves until Ctrl-C (or `stack down`), then stops
// them all. Ports given as 0 are picked free.

let usage = """
    usage: stack up [--state-dir DIR] [--gateway-port N] [--cluster-port N] [--free-port N] [--premium-port N]
                    [--grader-port N] [--data-dir DIR]
           stack down [--state-dir DIR]
    """

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("stack: error: \(message)\n".utf8))
    exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first, ["up", "down"].contains(command) else { fail("expected up or down\n\(usage)") }
arguments.removeFirst()

let options: CommandLineOptions
do {
    options = try CommandLineOptions(
        arguments,
        values: ["state-dir", "gateway-port", "cluster-port", "free-port", "premium-port", "grader-port", "data-dir"])
} catch {
    fail("\(error.message)\n\(usage)")
}
let stateDirectory = URL(fileURLWithPath: options.value("state-dir") ?? "state", isDirectory: true)
let stackFile = stateDirectory.appendingPathComponent("stack.json")

if command == "down" {
    guard let data = FileManager.default.contents(atPath: stackFile.path),
        let addresses = try? JSONDecoder().decode(Stack.Addresses.self, from: data)
    else { fail("no stack is running from \(stateDirectory.path) (no readable stack.json)", status: 1) }
    guard kill(addresses.supervisorPID, SIGTERM) == 0 else {
        try? FileManager.default.removeItem(at: stackFile)
        fail("the stack's process \(addresses.supervisorPID) is gone; removed its stale stack.json", status: 1)
    }
    while kill(addresses.supervisorPID, 0) == 0 { usleep(100_000) }
    print("stack down")
    exit(0)
}

func port(_ name: String, _ defaultValue: Int) -> UInt16 {
    do {
        return UInt16(try options.integer(name, in: 0...65535, default: defaultValue))
    } catch {
        fail(error.message)
    }
}

if let data = FileManager.default.contents(atPath: stackFile.path),
    let running = try? JSONDecoder().decode(Stack.Addresses.self, from: data), kill(running.supervisorPID, 0) == 0
{
    fail(
        "a stack is already running from \(stateDirectory.path) (pid \(running.supervisorPID)); stop it with `stack down`"
    )
}

let repository = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
guard FileManager.default.fileExists(atPath: repository.appendingPathComponent("Manifests/kustomization.yaml").path)
else { fail("run stack from the repository's top directory (it reads Manifests/, Models/ and data/)") }
let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let logger = Logger(label: "stack")
let configuration = Stack.Configuration(
    repository: repository, binaries: binaries, stateDirectory: stateDirectory,
    dataDirectory: options.value("data-dir").map { URL(fileURLWithPath: $0, isDirectory: true) },
    gatewayPort: port("gateway-port", 8080), clusterPort: port("cluster-port", 6443),
    freePort: port("free-port", 5001), premiumPort: port("premium-port", 5002),
    graderPort: port("grader-port", 5000), logger: logger)

let finished = DispatchSemaphore(value: 0)
Task {
    do {
        let stack = try await Stack.up(configuration)
        let a = stack.addresses
        print(
            """
            tierserve local stack is up
              gateway        \(a.gateway)   POST /free {"dataset":"mnist"}, POST /premium {"dataset":"kmnist"}
              free tier      \(a.tiers["free"] ?? "-")
              premium tier   \(a.tiers["premium"] ?? "-")
              local cluster  \(a.cluster)  kubectl --kubeconfig \(a.kubeconfig) get jobs -A
            logs in \(a.logs); stop with Ctrl-C or `stack down`
            """)
        fflush(nil)
        // Serve until asked to stop, or until a piece dies on its own.
        let watcher = Task.detached { () -> String? in
            while !Task.isCancelled {
                if let problem = stack.exitedProcess() { return problem }
                try? await Task.sleep(for: .milliseconds(500))
            }
            return nil
        }
        let signal = Task.detached { SignalWaiter.waitForTermination() }
        let reason = await withTaskGroup(of: String?.self) { group in
            group.addTask { await watcher.value }
            group.addTask { "received \(await signal.value)" }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        watcher.cancel()
        logger.info("stopping", ["reason": reason ?? "unknown"])
        await stack.down()
        print("stack down")
        finished.signal()
    } catch {
        fail("\(error)", status: 1)
    }
}
finished.wait()
