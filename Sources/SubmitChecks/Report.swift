import Foundation

/// The ways results are shown: a table for people, JSON and JUnit XML for CI systems.
public enum Report {
    /// A fixed-width table, one row per check, with a closing line of counts.
    public static func table(_ results: [CheckResult]) -> String {
        let width = results.map(\.title.count).max() ?? 10
        var lines = ["\("check".padding(toLength: width, withPad: " ", startingAt: 0))  result   seconds"]
        for result in results {
            let title = result.title.padding(toLength: width, withPad: " ", startingAt: 0)
            let outcome = result.outcome.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)
            lines.append("\(title)  \(outcome)  \(String(format: "%7.2f", result.seconds))")
            if result.outcome != .pass {
                lines += result.detail.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
            }
        }
        lines.append(summary(results))
        return lines.joined(separator: "\n")
    }

    /// `N passed, N failed` (timeouts count as failures here), with skipped when any were.
    public static func summary(_ results: [CheckResult]) -> String {
        let passed = results.count { $0.outcome == .pass }
        let skipped = results.count { $0.outcome == .skipped }
        let failed = results.count - passed - skipped
        return "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
    }

    /// Whether the run passed: no check failed or timed out (a check skipped for want of something it needs
    /// on this machine does not fail the run; one skipped after an earlier failure comes with that failure).
    public static func passed(_ results: [CheckResult]) -> Bool {
        !results.contains { $0.outcome == .fail || $0.outcome == .timeout }
    }

    /// The results as a JSON document: `{"passed": Bool, "checks": [...]}`.
    public static func json(_ results: [CheckResult]) -> String {
        struct Document: Encodable {
            let passed: Bool
            let checks: [CheckResult]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(passed: passed(results), checks: results)
        return (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The results as JUnit XML, one test case per check.
    public static func junit(_ results: [CheckResult]) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let failures = results.count { $0.outcome == .fail || $0.outcome == .timeout }
        let skipped = results.count { $0.outcome == .skipped }
        let total = results.reduce(0) { $0 + $1.seconds }
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="tierserve-submit" tests="\(results.count)" failures="\(failures)" skipped="\(skipped)" time="\(String(format: "%.3f", total))">

            """
        for result in results {
            xml +=
                "  <testcase classname=\"submit\" name=\"\(escape(result.id)): \(escape(result.title))\" time=\"\(String(format: "%.3f", result.seconds))\">"
            switch result.outcome {
            case .pass: break
            case .skipped: xml += "<skipped message=\"\(escape(result.detail))\"/>"
            case .fail, .timeout:
                xml += "<failure type=\"\(result.outcome.rawValue)\" message=\"\(escape(result.detail))\"/>"
            }
            xml += "</testcase>\n"
        }
        return xml + "</testsuite>\n"
    }
}
