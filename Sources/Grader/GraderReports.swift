/// `GET /{tier}/resource-quota`.
struct QuotaReport: Encodable {
    var tier: String
    var namespace: String
    var quota: String
    /// The caps in force, as quantity strings (`"2"`, `"500m"`, `"1Gi"`).
    var hard: [String: String]
    /// What is counted against them.
    var used: [String: String]
    /// `hard` as numbers (`"500m"` is 0.5).
    var hardValues: [String: Double]
    /// `used` as numbers.
    var usedValues: [String: Double]
    var dataAgeMs: Int64

    enum CodingKeys: String, CodingKey {
        case tier, namespace, quota, hard, used
        case hardValues = "hard_values"
        case usedValues = "used_values"
        case dataAgeMs = "data_age_ms"
    }
}

/// `GET /{tier}/jobs`.
struct JobListReport: Encodable {
    var tier: String
    var namespace: String
    var jobs: [JobReport]
    var dataAgeMs: Int64

    enum CodingKeys: String, CodingKey {
        case tier, namespace, jobs
        case dataAgeMs = "data_age_ms"
    }
}

/// `GET /{tier}/jobs/{name}`: the Job's report with the tier, the namespace and the data's age beside it.
struct JobDetailReport: Encodable {
    var tier: String
    var namespace: String
    var job: JobReport
    var dataAgeMs: Int64

    enum CodingKeys: String, CodingKey {
        case tier, namespace
        case dataAgeMs = "data_age_ms"
    }

    func encode(to encoder: any Encoder) throws {
        // The Job's fields and these share one object: JSONEncoder merges keyed containers of one encoder.
        try job.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tier, forKey: .tier)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(dataAgeMs, forKey: .dataAgeMs)
    }
}

/// `GET /{tier}/jobs/{name}/logs`: `status` is `available` with `log`, or `pending` with `message`.
struct LogReport: Encodable {
    var status: String
    var tier: String
    var namespace: String
    var job: String
    var jobStatus: JobPhase
    var pod: String?
    var tail: Int?
    var log: String?
    var message: String?
    /// The age of the pod list the pod was chosen from; the log itself is read live.
    var dataAgeMs: Int64

    enum CodingKeys: String, CodingKey {
        case status, tier, namespace, job, pod, tail, log, message
        case jobStatus = "job_status"
        case dataAgeMs = "data_age_ms"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(tier, forKey: .tier)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(job, forKey: .job)
        try container.encode(jobStatus, forKey: .jobStatus)
        try container.encode(pod, forKey: .pod)
        try container.encode(tail, forKey: .tail)
        try container.encode(log, forKey: .log)
        try container.encode(message, forKey: .message)
        try container.encode(dataAgeMs, forKey: .dataAgeMs)
    }
}
