import Foundation
import Kubernetes

/// Runs a kubeconfig `exec` credential plugin and reads the token from the `ExecCredential` it prints.
enum ExecCredentialPlugin {
    /// How long a plugin may run; `aws eks get-token` takes a second or two.
    static let timeoutSeconds: Double = 60

    private struct ExecCredential: Decodable {
        struct Status: Decodable {
            var token: String?
            var expirationTimestamp: String?
            var clientCertificateData: String?
        }

        var kind: String?
        var status: Status?
    }

    /// The token and its expiry, if the plugin gave one.
    ///
    /// The plugin runs on a thread of its own, since waiting for a process blocks.
    ///
    /// - Throws: `KubernetesConfigurationError` `.credentialPluginFailed`, naming the command, when it cannot
    ///   start, exits non-zero, or prints no token.
    static func run(_ command: ExecCredentialCommand) async throws(KubernetesConfigurationError) -> (String, Date?) {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<(String, Date?), KubernetesConfigurationError>, Never>) in
            Thread.detachNewThread {
                continuation.resume(
                    returning: Result { () throws(KubernetesConfigurationError) in try runBlocking(command) })
            }
        }
        return try result.get()
    }

    private static func runBlocking(
        _ command: ExecCredentialCommand
    ) throws(KubernetesConfigurationError) -> (String, Date?) {
        let field = "user.exec.command"
        guard let executable = locate(command.command) else {
            throw KubernetesConfigurationError(
                .credentialPluginFailed, field: field,
                message: "the credential plugin \"\(command.command)\" is not on PATH; install it (for EKS, the "
                    + "AWS CLI) or give its full path")
        }

        // 1. Start it with the caller's environment, the kubeconfig's additions, and the exec info.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = command.arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(command.environment) { _, added in added }
        environment["KUBERNETES_EXEC_INFO"] =
            #"{"apiVersion":"\#(command.apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw KubernetesConfigurationError(
                .credentialPluginFailed, field: field, message: "\(executable) could not start: \(error)")
        }

        // 2. Read both pipes to the end before waiting, so a chatty plugin cannot fill one and stall.
        // A plugin that hangs (waiting for a login prompt, say) is stopped, which closes its pipes.
        let deadline = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: deadline)
        let errorDrain = PipeDrain(errors.fileHandleForReading)
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        deadline.cancel()
        let stderrText = String(decoding: errorDrain.wait().prefix(500), as: UTF8.self)

        if process.terminationReason == .uncaughtSignal {
            throw KubernetesConfigurationError(
                .credentialPluginFailed, field: field,
                message: "\(executable) did not finish within \(Int(timeoutSeconds)) seconds and was stopped, "
                    + "or was killed by a signal: \(stderrText)")
        }
        guard process.terminationStatus == 0 else {
            throw KubernetesConfigurationError(
                .credentialPluginFailed, field: field,
                message: "\(executable) exited with status \(process.terminationStatus): \(stderrText)")
        }

        // 3. Read the credential.
        guard let credential = try? JSONDecoder().decode(ExecCredential.self, from: stdout) else {
            throw KubernetesConfigurationError(
                .credentialPluginFailed, field: field,
                message: "\(executable) did not print an ExecCredential JSON object")
        }
        guard let token = credential.status?.token, !token.isEmpty else {
            let reason =
                credential.status?.clientCertificateData != nil
                ? "it returned a client certificate, which exec plugins may do but this client does not implement"
                : "its status has no token"
            throw KubernetesConfigurationError(
                .credentialPluginFailed, field: field, message: "\(executable) gave no usable credential: \(reason)")
        }
        let expiry = credential.status?.expirationTimestamp.flatMap { try? KubernetesTime(rfc3339: $0).date }
        return (token, expiry)
    }

    private static func locate(_ command: String) -> String? {
        let files = FileManager.default
        if command.contains("/") { return files.isExecutableFile(atPath: command) ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(command)" }.first { files.isExecutableFile(atPath: $0) }
    }
}

/// Reads a pipe to its end on a thread of its own.
///
/// `@unchecked Sendable`: `data` is written once, by the reading thread, before it signals `done`; it is read
/// only after waiting on `done`.
private final class PipeDrain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    /// Everything the pipe delivered, once its writer closed it.
    func wait() -> Data {
        done.wait()
        return data
    }
}
