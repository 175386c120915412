import HTTPServer

/// The endpoints the grader answers, parsed from a request path.
enum GraderRoute: Equatable {
    /// `GET /healthz`: the process is up; no token and no cluster needed.
    case health
    /// `GET /{tier}/resource-quota`.
    case resourceQuota(tier: String)
    /// `GET /{tier}/jobs`.
    case jobs(tier: String)
    /// `GET /{tier}/jobs/{name}`.
    case job(tier: String, name: String)
    /// `GET /{tier}/jobs/{name}/logs`.
    case logs(tier: String, job: String)

    /// The query parameters each endpoint takes; anything else is a 400, so a misspelt `?tial=` is not ignored.
    var allowedQuery: Set<String> {
        if case .logs = self { return ["tail", "pod"] }
        return []
    }

    /// The route for `path`, checking the tier against `tiers` and the job name's form.
    ///
    /// - Throws: `GraderError` `.notFound` for an unknown tier or endpoint, `.badRequest` for a job name that
    ///   is not a DNS-1123 label.
    static func parse(_ path: String, tiers: [String: GraderConfiguration.Tier]) throws(GraderError) -> GraderRoute {
        if path == "/healthz" { return .health }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let tierNames = tiers.keys.sorted().joined(separator: ", ")
        guard path.hasPrefix("/"), let tier = segments.first, !tier.isEmpty else {
            throw .notFound("no endpoint \(path); try GET /{tier}/jobs with a tier among: \(tierNames)")
        }
        guard tiers[tier] != nil else {
            throw .notFound("no tier \"\(tier)\"; the configured tiers are: \(tierNames)")
        }
        let rest = Array(segments.dropFirst())
        switch rest.count {
        case 1 where rest[0] == "resource-quota":
            return .resourceQuota(tier: tier)
        case 1 where rest[0] == "jobs":
            return .jobs(tier: tier)
        case 2 where rest[0] == "jobs":
            return .job(tier: tier, name: try validJobName(rest[1]))
        case 3 where rest[0] == "jobs" && rest[2] == "logs":
            return .logs(tier: tier, job: try validJobName(rest[1]))
        default:
            throw .notFound(
                "no endpoint \(path); /\(tier) answers /resource-quota, /jobs, /jobs/{name} and /jobs/{name}/logs")
        }
    }

    private static func validJobName(_ name: String) throws(GraderError) -> String {
        guard KubernetesName.isLabel(name) else {
            let shown = name.count > 80 ? String(name.prefix(80)) + "…" : name
            throw .badRequest(
                "job name \"\(shown)\" is not valid: a Job name is 1 to 63 lowercase letters, digits and '-', "
                    + "starting and ending with a letter or digit")
        }
        return name
    }
}
