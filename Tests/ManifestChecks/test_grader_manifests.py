"""Checks of the grader's deployment files under Grader/.

- every object in Grader/manifests/*.yaml validates against the Kubernetes 1.32 OpenAPI schemas in
  strict mode (unknown fields rejected);
- the grader's RBAC is read-only and namespaced: a Role in each tier namespace granting only get, list
  and watch on jobs, pods, pods/log and resourcequotas, bound to the grader's service account, and no
  ClusterRole or ClusterRoleBinding;
- its pod runs locked down like the tier services, and its Service reaches the container's port;
- the in-cluster configuration names the same tiers as Grader/grader.yaml;
- the Dockerfile builds a static Swift binary and runs it as the pods' user; the systemd unit runs as
  a dedicated user with a read-only system and writes only its state directory.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GRADER = ROOT / "Grader"
KUBERNETES_VERSION = "1.32.0"
TIER_NAMESPACES = {"free-service", "premium-service"}
READ_VERBS = {"get", "list", "watch"}


def load_objects() -> list[dict]:
    objects = []
    for path in sorted((GRADER / "manifests").glob("*.yaml")):
        objects += [document for document in yaml.safe_load_all(path.read_text()) if document]
    return objects


OBJECTS = load_objects()


def of_kind(kind: str) -> list[dict]:
    return [item for item in OBJECTS if item["kind"] == kind]


def only(kind: str) -> dict:
    items = of_kind(kind)
    assert len(items) == 1, f"expected one {kind} in Grader/manifests, found {len(items)}"
    return items[0]


@pytest.mark.parametrize("item", OBJECTS, ids=lambda item: f"{item['kind']}/{item['metadata']['name']}")
def test_objects_validate_strictly(item: dict) -> None:
    kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_an_unknown_field() -> None:
    deployment = yaml.safe_load_all((GRADER / "manifests" / "grader.yaml").read_text())
    broken = next(item for item in deployment if item["kind"] == "Deployment")
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_rbac_is_namespaced() -> None:
    assert not of_kind("ClusterRole") and not of_kind("ClusterRoleBinding")
    assert {role["metadata"]["namespace"] for role in of_kind("Role")} == TIER_NAMESPACES
    assert {binding["metadata"]["namespace"] for binding in of_kind("RoleBinding")} == TIER_NAMESPACES


@pytest.mark.parametrize("role", of_kind("Role"), ids=lambda role: role["metadata"]["namespace"])
def test_roles_are_read_only(role: dict) -> None:
    granted = set()
    for rule in role["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, "no resourceNames or nonResourceURLs"
        assert set(rule["verbs"]) <= READ_VERBS, f"write verbs granted: {set(rule['verbs']) - READ_VERBS}"
        assert "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted |= {(group, resource, verb) for verb in rule["verbs"]}
    resources = {(group, resource) for group, resource, _ in granted}
    assert resources == {("batch", "jobs"), ("", "pods"), ("", "pods/log"), ("", "resourcequotas")}
    # What the grader calls: list Jobs and Pods, get a quota and a pod's log.
    assert {("batch", "jobs", "list"), ("", "pods", "list"), ("", "pods/log", "get"), ("", "resourcequotas", "get")} <= granted


@pytest.mark.parametrize("binding", of_kind("RoleBinding"), ids=lambda binding: binding["metadata"]["namespace"])
def test_bindings_name_the_grader_account_and_a_role(binding: dict) -> None:
    account = only("ServiceAccount")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "grader-read"}
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]


def test_the_pod_runs_locked_down_as_the_grader_account() -> None:
    deployment = only("Deployment")
    spec = deployment["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == only("ServiceAccount")["metadata"]["name"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    # One writer for the SQLite audit trail, on a volume that outlives the pod.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claims = [volume["persistentVolumeClaim"]["claimName"] for volume in spec["volumes"] if "persistentVolumeClaim" in volume]
    assert claims == [only("PersistentVolumeClaim")["metadata"]["name"]]


def test_the_service_reaches_the_container_on_5000() -> None:
    service = only("Service")
    deployment = only("Deployment")
    assert [(port["port"], port["targetPort"]) for port in service["spec"]["ports"]] == [(5000, "http")]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels.items() >= service["spec"]["selector"].items()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "http", "containerPort": 5000} in container["ports"]


def test_in_cluster_configuration_names_the_same_tiers() -> None:
    in_cluster = yaml.safe_load(only("ConfigMap")["data"]["grader.yaml"])
    default = yaml.safe_load((GRADER / "grader.yaml").read_text())
    assert in_cluster["tiers"] == default["tiers"] == {
        "free": {"namespace": "free-service", "quota": "free-tier-quota"},
        "premium": {"namespace": "premium-service", "quota": "premium-tier-quota"},
    }
    assert default["listen"].startswith("127.0.0.1:"), "outside a pod the grader listens on loopback by default"
    assert in_cluster["auditDatabase"].startswith("/var/lib/grader/")


def test_dockerfile_builds_static_swift_and_runs_as_the_pods_user() -> None:
    import dockerfile

    commands = dockerfile.parse_file(str(GRADER / "Dockerfile"))
    stages = [command for command in commands if command.cmd == "FROM"]
    assert stages[0].value[0] == "swift:6.3-bookworm"
    assert stages[-1].value[0] == "debian:bookworm-slim"
    builds = [command.value[0] for command in commands if command.cmd == "RUN" and "swift build" in command.value[0]]
    assert builds and all(
        "-c release" in build and "--static-swift-stdlib" in build and "--product grader" in build for build in builds
    )
    final = commands[commands.index(stages[-1]):]
    assert [command.value[0] for command in final if command.cmd == "USER"] == ["10001:10001"]
    for command in commands:
        if command.cmd == "COPY" and not any(flag.startswith("--from=") for flag in command.flags):
            for source in command.value[:-1]:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which the repository lacks"


def test_systemd_unit_runs_confined_as_a_dedicated_user() -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string((GRADER / "tierserve-grader.service").read_text())
    service = parser["Service"]
    assert service["User"] not in ("", "root") and service["Group"] not in ("", "root")
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "tierserve-grader"
    assert service["ReadWritePaths"] == "/var/lib/tierserve-grader"
    assert service["WorkingDirectory"] == "/var/lib/tierserve-grader"
    assert service["Restart"] == "on-failure"
    assert service["CapabilityBoundingSet"] == ""
    assert "grader serve --config" in service["ExecStart"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"
