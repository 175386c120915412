import Kubernetes
import Testing

@testable import LocalCluster

/// The RBAC evaluation table: which rule covers which request.
@Suite struct RBACAuthorizerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var rule: PolicyRule
        var attributes: RequestAttributes
        var allowed: Bool
        var testDescription: String {
            "\(rule.verbs) \(rule.apiGroups ?? []) \(rule.resources ?? []) \(rule.resourceNames ?? []) vs "
                + "\(attributes.verb) \(attributes.group)/\(attributes.resource)/\(attributes.subresource) "
                + "\(attributes.name) → \(allowed)"
        }
    }

    static let cases: [Case] = [
        Case(
            rule: .init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get"]),
            attributes: .init(verb: "create", group: "batch", resource: "jobs", namespace: "ns"), allowed: true),
        Case(
            rule: .init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get"]),
            attributes: .init(verb: "list", group: "batch", resource: "jobs", namespace: "ns"), allowed: false),
        Case(
            rule: .init(apiGroups: [""], resources: ["jobs"], verbs: ["get"]),
            attributes: .init(verb: "get", group: "batch", resource: "jobs", namespace: "ns", name: "a"), allowed: false
        ),
        Case(
            rule: .init(apiGroups: ["*"], resources: ["*"], verbs: ["*"]),
            attributes: .init(verb: "delete", group: "batch", resource: "jobs", namespace: "ns", name: "a"),
            allowed: true),
        Case(
            rule: .init(apiGroups: [""], resources: ["pods"], verbs: ["get"]),
            attributes: .init(verb: "get", group: "", resource: "pods", subresource: "log", namespace: "ns", name: "p"),
            allowed: false),
        Case(
            rule: .init(apiGroups: [""], resources: ["pods/log"], verbs: ["get"]),
            attributes: .init(verb: "get", group: "", resource: "pods", subresource: "log", namespace: "ns", name: "p"),
            allowed: true),
        Case(
            rule: .init(apiGroups: [""], resources: ["*/log"], verbs: ["get"]),
            attributes: .init(verb: "get", group: "", resource: "pods", subresource: "log", namespace: "ns", name: "p"),
            allowed: true),
        Case(
            rule: .init(apiGroups: [""], resources: ["*"], verbs: ["get"]),
            attributes: .init(verb: "get", group: "", resource: "pods", subresource: "log", namespace: "ns", name: "p"),
            allowed: true),
        Case(
            rule: .init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"], resourceNames: ["a"]),
            attributes: .init(verb: "get", group: "batch", resource: "jobs", namespace: "ns", name: "a"), allowed: true),
        Case(
            rule: .init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"], resourceNames: ["a"]),
            attributes: .init(verb: "get", group: "batch", resource: "jobs", namespace: "ns", name: "b"), allowed: false
        ),
        Case(
            rule: .init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["list"], resourceNames: ["a"]),
            attributes: .init(verb: "list", group: "batch", resource: "jobs", namespace: "ns"), allowed: false),
        Case(
            rule: .init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["deletecollection"]),
            attributes: .init(verb: "delete", group: "batch", resource: "jobs", namespace: "ns", name: "a"),
            allowed: false),
    ]

    @Test("rules match verbs, groups, resources, subresources and names", arguments: cases)
    func ruleTable(_ testCase: Case) {
        #expect(RBACAuthorizer.ruleAllows(testCase.rule, testCase.attributes) == testCase.allowed)
    }

    private func binding(_ subjects: [RoleBinding.Subject], namespace: String = "free-service") -> RoleBinding {
        var binding = RoleBinding(roleRef: .init(name: "jobs"), subjects: subjects)
        binding.metadata = ObjectMeta(name: "b", namespace: namespace)
        return binding
    }

    private var role: Role {
        Role(
            metadata: ObjectMeta(name: "jobs", namespace: "free-service"),
            rules: [.init(apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"])])
    }

    @Test("bindings apply to their service account, user or group, within their namespace only")
    func subjects() {
        let account = UserInfo.serviceAccount(namespace: "free-service", name: "free-tier")
        let create = RequestAttributes(verb: "create", group: "batch", resource: "jobs", namespace: "free-service")
        let roles = [role]
        #expect(
            RBACAuthorizer.allows(
                account, create, roles: roles,
                bindings: [binding([.init(kind: "ServiceAccount", name: "free-tier", namespace: "free-service")])]))
        #expect(
            RBACAuthorizer.allows(
                account, create, roles: roles, bindings: [binding([.init(kind: "ServiceAccount", name: "free-tier")])]))
        #expect(
            !RBACAuthorizer.allows(
                account, create, roles: roles,
                bindings: [binding([.init(kind: "ServiceAccount", name: "premium-tier", namespace: "free-service")])]))
        #expect(
            RBACAuthorizer.allows(
                account, create, roles: roles,
                bindings: [binding([.init(kind: "Group", name: "system:serviceaccounts:free-service")])]))
        #expect(
            !RBACAuthorizer.allows(
                account, create, roles: roles, bindings: [binding([.init(kind: "User", name: "system:admin")])]))
        #expect(
            !RBACAuthorizer.allows(
                account, create, roles: [], bindings: [binding([.init(kind: "Group", name: "system:authenticated")])]))
        #expect(
            RBACAuthorizer.allows(
                .admin, RequestAttributes(verb: "delete", group: "", resource: "namespaces"), roles: [], bindings: []))
    }

    @Test("a denial reads as the API server's, naming user, verb, resource, group and namespace")
    func forbiddenMessage() {
        let status = RequestAttributes(verb: "create", group: "batch", resource: "jobs", namespace: "premium-service")
            .forbidden(user: "system:serviceaccount:free-service:free-tier")
        #expect(status.code == 403)
        #expect(
            status.message
                == "jobs.batch is forbidden: User \"system:serviceaccount:free-service:free-tier\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"premium-service\""
        )
        let log = RequestAttributes(
            verb: "get", group: "", resource: "pods", subresource: "log", namespace: "ns", name: "p"
        )
        .forbidden(user: "u")
        #expect(
            log.message
                == "pods \"p\" is forbidden: User \"u\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"ns\""
        )
    }
}
