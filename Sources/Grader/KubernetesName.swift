/// Checks of the names Kubernetes accepts, done before any name reaches a cluster call or a URL.
enum KubernetesName {
    /// A DNS-1123 label: at most 63 lowercase letters, digits and `-`, starting and ending alphanumeric. Job
    /// names must be labels, since each becomes the value of its pods' `job-name` label; namespaces are too.
    static func isLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last) && bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2D }
    }

    /// A DNS-1123 subdomain: at most 253 characters of labels joined by `.`; Pod and quota names are these.
    static func isSubdomain(_ name: String) -> Bool {
        guard (1...253).contains(name.utf8.count) else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
    }
}
