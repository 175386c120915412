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
if arguments.first == "--help" || arguments.first == "-h" || arguments.first == "help" {
    print(usage)
    print("Ports default to 8080 (gateway), 6443 (cluster), 5001 (free), 5002 (premium), 5000 (grader); 0 picks one.")
    exit(0)
}
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
// One spelling of the directory for `up` and `down` alike (symlinks and `//` resolved): the pieces' command
// lines carry it, and `down` recognises its pieces by it.
let stateDirectory = URL(fileURLWithPath: options.value("state-dir") ?? "state", isDirectory: true)
    .standardizedFileURL.resolvingSymlinksInPath()
let stackFile = stateDirectory.appendingPathComponent("stack.json")
let piecesFile = stateDirectory.appendingPathComponent(Stack.piecesFileName)

/// Whether `pid` runs, and is not a zombie nobody has reaped.
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
}

/// Whether `pid` is a running `stack` executable.
func isStackProcess(_ pid: Int32) -> Bool {
    let commandLine = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
    let program = commandLine.split(separator: "\0").first ?? ""
    return isRunning(pid) && (program == "stack" || program.hasSuffix("/stack"))
}

if command == "down" {
    // stack.json once the stack was up; the pieces file from the first piece started, should the supervisor have
    // died during start-up.
    let record: Stack.Pieces
    if let data = FileManager.default.contents(atPath: stackFile.path),
        let addresses = try? JSONDecoder().decode(Stack.Addresses.self, from: data)
    {
        record = Stack.Pieces(supervisorPID: addresses.supervisorPID, processes: addresses.processes ?? [:])
    } else if let data = FileManager.default.contents(atPath: piecesFile.path),
        let pieces = try? JSONDecoder().decode(Stack.Pieces.self, from: data)
    {
        record = pieces
    } else {
        fail("no stack is running from \(stateDirectory.path) (no readable stack.json)", status: 1)
    }

    // 1. A live supervisor stops its pieces itself and removes its files once they have all stopped.
    if isStackProcess(record.supervisorPID), kill(record.supervisorPID, SIGTERM) == 0 {
        for _ in 0..<600 where isStackProcess(record.supervisorPID) {
            usleep(100_000)
        }
        if !FileManager.default.fileExists(atPath: stackFile.path)
            && !FileManager.default.fileExists(atPath: piecesFile.path)
        {
            print("stack down")
            exit(0)
        }
        guard !isStackProcess(record.supervisorPID) else {
            fail("the stack (pid \(record.supervisorPID)) did not stop within 60 s", status: 1)
        }
    }

    // 2. The supervisor is gone (killed, or it died): stop what it left. A recorded pid counts as a piece only
    // while its command line names this state directory; the pid of a piece that ended may be another's now.
    let ours = record.processes.filter { _, pid in
        let commandLine = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        return isRunning(pid) && commandLine.contains(stateDirectory.path + "/")
    }
    var stopped: [String] = []
    for (name, pid) in ours.sorted(by: { $0.key < $1.key }) where kill(pid, SIGTERM) == 0 {
        stopped.append(name)
    }
    for _ in 0..<50 where ours.values.contains(where: isRunning) {
        usleep(100_000)
    }
    for pid in ours.values where isRunning(pid) { kill(pid, SIGKILL) }
    try? FileManager.default.removeItem(at: stackFile)
    try? FileManager.default.removeItem(at: piecesFile)
    let list = stopped.isEmpty ? "nothing was left running" : "stopped \(stopped.joined(separator: ", "))"
    FileHandle.standardError.write(Data("stack: the supervisor (pid \(record.supervisorPID)) was gone; \(list)\n".utf8))
    exit(0)
}

// Output goes to a terminal or a pipe; a reader that went away must not kill the supervisor before it has
// stopped its pieces (writes then just fail).
signal(SIGPIPE, SIG_IGN)

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

// Signals are caught from the start, so a Ctrl-C while the pieces start still stops them cleanly.
SignalWaiter.install()
let started = DispatchSemaphore(value: 0)
nonisolated(unsafe) var outcome: Result<Stack, StackError>?
Task.detached {
    do throws(StackError) {
        outcome = .success(try await Stack.up(configuration))
    } catch {
        outcome = .failure(error)
    }
    started.signal()
}
started.wait()
guard case .success(let stack) = outcome else {
    if case .failure(let error) = outcome { fail("\(error)", status: 1) }
    fail("the stack did not start", status: 1)
}

let a = stack.addresses
print(
    """
    tierserve local stack is up
      gateway        \(a.gateway)   POST /free {"dataset":"mnist"}, POST /premium {"dataset":"kmnist"}
      free tier      \(a.tiers["free"] ?? "-")
      premium tier   \(a.tiers["premium"] ?? "-")
      grader         \(a.grader ?? "-")   token in \(a.graderTokenFile ?? "-")
      local cluster  \(a.cluster)  kubectl --kubeconfig \(a.kubeconfig) get jobs -A
    logs in \(a.logs); stop with Ctrl-C or `stack down`
    """)
fflush(nil)

// Serve until asked to stop, or until a piece dies on its own; this thread only waits.
var reason = "unknown"
var pieceDied = false
while true {
    if let signal = SignalWaiter.wait(milliseconds: 500) {
        reason = "received \(signal)"
        break
    }
    if let problem = stack.exitedProcess() {
        reason = problem
        pieceDied = true
        FileHandle.standardError.write(Data("stack: error: \(problem)\n".utf8))
        break
    }
}
logger.info("stopping", ["reason": reason])
let stopped = DispatchSemaphore(value: 0)
Task.detached {
    await stack.down()
    stopped.signal()
}
stopped.wait()
print("stack down")
exit(pieceDied ? 1 : 0)
