import Kubernetes

/// Decides requests as the Kubernetes RBAC authorizer does, from the Roles and RoleBindings of the request's
/// namespace: allowed when some binding names the user (or one of its groups, or its service account) and
/// its role has a rule covering the verb, API group, resource (with subresource) and name.
///
/// ClusterRoles and ClusterRoleBindings are not emulated; the `system:masters` group is allowed everything,
/// as the real server's bootstrap binding allows it.
enum RBACAuthorizer {
    /// True when `user` may do `attributes`, given the namespace's `roles` and `bindings`.
    static func allows(
        _ user: UserInfo, _ attributes: RequestAttributes, roles: [Role], bindings: [RoleBinding]
    ) -> Bool {
        if user.groups.contains("system:masters") { return true }
        guard !attributes.namespace.isEmpty else { return false }
        for binding in bindings where binding.subjects?.contains(where: { applies($0, to: user, in: binding) }) ?? false
        {
            guard binding.roleRef.kind == "Role",
                let role = roles.first(where: { $0.metadata.name == binding.roleRef.name })
            else { continue }
            if (role.rules ?? []).contains(where: { ruleAllows($0, attributes) }) { return true }
        }
        return false
    }

    /// True when `subject` of `binding` is `user`.
    static func applies(_ subject: RoleBinding.Subject, to user: UserInfo, in binding: RoleBinding) -> Bool {
        switch subject.kind {
        case "ServiceAccount":
            // A service account subject without a namespace means the binding's own namespace.
            let namespace = subject.namespace ?? binding.metadata.namespace ?? ""
            return user.name == "system:serviceaccount:\(namespace):\(subject.name)"
        case "User":
            return user.name == subject.name
        case "Group":
            return user.groups.contains(subject.name)
        default:
            return false
        }
    }

    /// True when `rule` covers `attributes`: verb, group, resource and, when the rule names resources,
    /// the object's name. `*` matches any verb, group or resource; `pods/log` and `*/log` match the log
    /// subresource, and `pods` alone does not.
    static func ruleAllows(_ rule: PolicyRule, _ attributes: RequestAttributes) -> Bool {
        guard rule.verbs.contains(where: { $0 == "*" || $0 == attributes.verb }) else { return false }
        guard (rule.apiGroups ?? []).contains(where: { $0 == "*" || $0 == attributes.group }) else { return false }
        let combined =
            attributes.subresource.isEmpty
            ? attributes.resource : "\(attributes.resource)/\(attributes.subresource)"
        let resourceMatches = (rule.resources ?? []).contains { resource in
            resource == "*" || resource == combined
                || (!attributes.subresource.isEmpty && resource == "*/\(attributes.subresource)")
        }
        guard resourceMatches else { return false }
        guard let names = rule.resourceNames, !names.isEmpty else { return true }
        return !attributes.name.isEmpty && names.contains(attributes.name)
    }
}
