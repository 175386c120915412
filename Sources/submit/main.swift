import CommandLineOptions
import Foundation
import HTTPClient
import SubmitChecks

// Runs the deployment checks the reference autograder runs, and more, against any deployment:
//
//   submit --gateway URL --grader URL --grader-token-file FILE [--json] [--junit FILE] [--job-timeout SECONDS]
//          [--send URL --email ADDRESS --secret-file FILE [--force]]
//
// With no addresses it reads a running local stack's state/stack.json. Exit 0 only when every check passed.

let usage = """
    usage: submit [--gateway URL --grader URL --grader-token-file FILE [--audit-db FILE] | --state-dir DIR]
                  [--json] [--junit FILE]
                  [--job-timeout SECONDS] [--send URL --email ADDRESS --secret-file FILE [--force]]
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("submit: error: \(message)\n".utf8))
    exit(2)
}

let options: CommandLineOptions
do {
    options = try CommandLineOptions(
        Array(CommandLine.arguments.dropFirst()),
        values: [
            "gateway", "grader", "grader-token-file", "state-dir", "audit-db", "junit", "job-timeout", "send",
            "email", "secret-file",
        ],
        flags: ["json", "force", "help"])
} catch {
    fail("\(error.message)\n\(usage)")
}
if options.flag("help") {
    print(usage)
    exit(0)
}

// 1. Where the deployment is: the flags, or a local stack's stack.json.
var gateway = options.value("gateway")
var grader = options.value("grader")
var tokenFile = options.value("grader-token-file")
var auditDatabase = options.value("audit-db")
if gateway == nil || grader == nil || tokenFile == nil {
    let state = options.value("state-dir") ?? "state"
    auditDatabase = auditDatabase ?? "\(state)/grader/audit.sqlite"
    guard let data = FileManager.default.contents(atPath: "\(state)/stack.json"),
        let stack = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else {
        fail("give --gateway, --grader and --grader-token-file, or start a local stack (no \(state)/stack.json)")
    }
    gateway = gateway ?? stack["gateway"] as? String
    grader = grader ?? stack["grader"] as? String
    tokenFile = tokenFile ?? stack["graderTokenFile"] as? String
}
guard let gateway, let grader, let tokenFile else {
    fail("the stack records no grader; give --grader and --grader-token-file")
}
guard
    let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
    !token.isEmpty
else { fail("cannot read a token from --grader-token-file \(tokenFile)") }
let jobTimeout: Int
do {
    jobTimeout = try options.integer("job-timeout", in: 1...3600, default: 120)
} catch {
    fail(error.message)
}
if options.value("send") != nil, options.value("email") == nil || options.value("secret-file") == nil {
    fail("--send needs --email and --secret-file (the secret is read from a file so it never shows in a process list)")
}

// 2. The checks, with a live progress line on standard error.
let checks = SubmitChecks(
    target: .init(
        gateway: gateway, grader: grader, graderToken: token, jobDeadline: .seconds(jobTimeout),
        auditDatabase: auditDatabase.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }))
let interactive = isatty(STDERR_FILENO) == 1
let results = await checks.run { title, result in
    let line: String
    if let result {
        line = "[\(result.outcome.rawValue.uppercased())] \(title) (\(String(format: "%.1f", result.seconds)) s)"
    } else {
        line = "running: \(title)"
    }
    FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    if interactive, result != nil { FileHandle.standardError.write(Data("\n".utf8)) }
}
print(options.flag("json") ? Report.json(results) : Report.table(results))
if let junit = options.value("junit") {
    do {
        try Data(Report.junit(results).utf8).write(to: URL(fileURLWithPath: junit))
    } catch {
        fail("cannot write --junit \(junit): \(error.localizedDescription)")
    }
}
let passed = Report.passed(results)

// 3. The reference client's other duty: tell a remote autograder where the deployment is.
if let sendURL = options.value("send"), let email = options.value("email"),
    let secretPath = options.value("secret-file")
{
    guard passed || options.flag("force") else {
        FileHandle.standardError.write(
            Data("submit: not sending: some checks did not pass (use --force to send anyway)\n".utf8))
        exit(1)
    }
    guard
        let secret = try? String(contentsOfFile: secretPath, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
    else { fail("cannot read --secret-file \(secretPath)") }
    let host = URL(string: gateway)?.host ?? gateway
    let payload: [String: String] = ["submitterEmail": email, "secret": secret, "lbaddress": host, "ipaddress": host]
    var request = HTTPClientRequest(method: .post, url: sendURL, timeout: .seconds(30))
    request.headers["content-type"] = "application/json"
    request.body = Array((try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data())
    do {
        let response = try await HTTPClient().send(request)
        // The answer is printed; the secret is not (it was only in the request body).
        print(
            "autograder answered \(response.status.code): \(response.text.replacingOccurrences(of: secret, with: "[secret]"))"
        )
        if !(200..<300).contains(response.status.code) { exit(1) }
    } catch {
        FileHandle.standardError.write(Data("submit: error: sending to \(sendURL) failed: \(error)\n".utf8))
        exit(1)
    }
}
exit(passed ? 0 : 1)
