import CommandLineOptions
import Foundation

// The grader: a read-only, audited HTTP view of the tiers' quotas, Jobs and Job logs.
//
//   grader serve --config Grader/grader.yaml [--listen HOST:PORT]
//                [--server URL --token-file F [--ca-file F] | --context NAME] [--log-level L]
//   grader audit [--since TIME] [--path P] [--status N] [--limit N] [--json] [--db FILE | --config FILE]
//   grader audit verify [--db FILE | --config FILE]
//   grader token add NAME [--token-file FILE | --config FILE]
//
// Without --server, `serve` reads a kubeconfig (KUBECONFIG, ~/.kube/config, --context) or the pod's service
// account. Exit codes: 0 done, 1 the work failed (a broken audit chain, an unreadable file), 2 bad usage.

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "serve":
        try Commands.serve(Array(arguments.dropFirst()))
    case "audit" where arguments.dropFirst().first == "verify":
        exit(try Commands.verifyAudit(Array(arguments.dropFirst(2))))
    case "audit":
        try Commands.listAudit(Array(arguments.dropFirst()))
    case "token" where arguments.dropFirst().first == "add":
        try Commands.addToken(Array(arguments.dropFirst(2)))
    case "-h", "--help", "help":
        print(Commands.usage)
    default:
        throw CommandLineError(
            "expected a command: serve, audit, audit verify or token add, not \(arguments.first.map { "\"\($0)\"" } ?? "nothing")"
        )
    }
} catch let error as CommandLineError {
    Commands.fail(error.message, code: 2)
} catch {
    Commands.fail("\(error)", code: 1)
}
