"""Checks of Manifests/ that need schemas only Python packages carry.

- every object `kubectl kustomize Manifests` renders, and each tier's Job template, validates against
  the Kubernetes OpenAPI schemas in strict mode (unknown fields rejected);
- the Envoy config parses into Envoy's v3 Bootstrap message, with every typed config it names;
- names agree across files: Envoy clusters point at Services that exist on the ports they expose,
  Services select pods that expose their target ports, the LoadBalancer reaches Envoy's listener;
- every pod runs as non-root with a read-only root filesystem, no privilege escalation, no
  capabilities and the RuntimeDefault seccomp profile; Job pods mount no service-account token;
- RBAC stays inside each tier's namespace.
"""

from __future__ import annotations

import copy
import importlib
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from google.protobuf import json_format

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "Manifests"
KUBERNETES_VERSION = "1.32.0"
JOB_TEMPLATES = {"free": MANIFESTS / "free-tier-job.yaml", "premium": MANIFESTS / "premium-tier-job.yaml"}


def rendered() -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render Manifests/ with kustomize; install the kubectl client"
    output = subprocess.run([kubectl, "kustomize", str(MANIFESTS)], check=True, capture_output=True, text=True)
    return [document for document in yaml.safe_load_all(output.stdout) if document]


OBJECTS = rendered()


def find(kind: str, name: str, namespace: str | None = None) -> dict:
    for item in OBJECTS:
        metadata = item["metadata"]
        if item["kind"] == kind and metadata["name"] == name and metadata.get("namespace") == namespace:
            return item
    raise AssertionError(f"no {kind} {namespace}/{name} in Manifests/")


def envoy_config() -> dict:
    return yaml.safe_load((MANIFESTS / "envoy" / "envoy.yaml").read_text())


def job_template(tier: str) -> dict:
    return yaml.safe_load(JOB_TEMPLATES[tier].read_text())


@pytest.mark.parametrize("item", OBJECTS, ids=lambda item: f"{item['kind']}/{item['metadata']['name']}")
def test_objects_validate_strictly(item: dict) -> None:
    kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("tier", sorted(JOB_TEMPLATES))
def test_job_templates_validate_strictly(tier: str) -> None:
    job = job_template(tier)
    assert job["metadata"]["generateName"] == f"{tier}-job-"
    named = copy.deepcopy(job)
    # The API server turns generateName into a name; the validator wants one.
    named["metadata"]["name"] = f"{tier}-job-abcde"
    kubernetes_validate.validate(named, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_an_unknown_field() -> None:
    job = job_template("free")
    job["metadata"]["name"] = "free-job-abcde"
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)


def typed_config_types(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "@type" in node:
            found.add(node["@type"].split("/", 1)[1])
        for value in node.values():
            found |= typed_config_types(value)
    elif isinstance(node, list):
        for value in node:
            found |= typed_config_types(value)
    return found


def test_envoy_config_parses_as_a_v3_bootstrap() -> None:
    # Importing each typed config's module registers its message, so Any fields can be resolved.
    for type_name in typed_config_types(envoy_config()):
        package, _, message = type_name.rpartition(".")
        module = importlib.import_module(f"{package}.{snake(message)}_pb2")
        assert hasattr(module, message), f"{module.__name__} has no {message}"
    from envoy.config.bootstrap.v3 import bootstrap_pb2

    bootstrap = json_format.ParseDict(envoy_config(), bootstrap_pb2.Bootstrap(), ignore_unknown_fields=False)
    assert [listener.name for listener in bootstrap.static_resources.listeners] == ["public"]


@pytest.mark.parametrize("where", ["cluster", "typed config"])
def test_envoy_config_with_a_misspelt_field_is_refused(where: str) -> None:
    from envoy.config.bootstrap.v3 import bootstrap_pb2

    config = envoy_config()
    if where == "cluster":
        config["static_resources"]["clusters"][0]["conect_timeout"] = "1s"
    else:
        manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        manager["route_confg"] = manager.pop("route_config")
    with pytest.raises(json_format.ParseError):
        json_format.ParseDict(config, bootstrap_pb2.Bootstrap(), ignore_unknown_fields=False)


def snake(name: str) -> str:
    # Envoy's modules are named after the proto file: HttpConnectionManager lives in http_connection_manager_pb2.
    out = ""
    for index, character in enumerate(name):
        if character.isupper() and index:
            out += "_"
        out += character.lower()
    return out


def test_routes_match_whole_path_segments() -> None:
    http_manager = envoy_config()["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    routes = http_manager["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    tier_routes = {route["match"].get("path_separated_prefix"): route["route"]["cluster"] for route in routes if "route" in route}
    assert tier_routes == {"/free": "free_tier", "/premium": "premium_tier"}
    assert not any("prefix" in route["match"] for route in routes), "a plain prefix also matches /freebie"


def test_envoy_clusters_reach_services_that_exist() -> None:
    for cluster in envoy_config()["static_resources"]["clusters"]:
        endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
        service_name, namespace, *rest = endpoint["address"].split(".")
        assert rest == ["svc", "cluster", "local"], endpoint["address"]
        service = find("Service", service_name, namespace)
        ports = {port["port"]: port["targetPort"] for port in service["spec"]["ports"]}
        assert endpoint["port_value"] in ports, f"{service_name} does not expose {endpoint['port_value']}"
        assert endpoint["port_value"] == 5000

        deployment = next(
            item for item in OBJECTS
            if item["kind"] == "Deployment" and item["metadata"]["namespace"] == namespace
            and item["spec"]["template"]["metadata"]["labels"].items() >= service["spec"]["selector"].items()
        )
        container_ports = {port["name"] for container in deployment["spec"]["template"]["spec"]["containers"] for port in container["ports"]}
        assert ports[endpoint["port_value"]] in container_ports


def test_load_balancer_maps_port_80_to_envoy_on_8080() -> None:
    service = find("Service", "gateway", "web-tier")
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(port["port"], port["targetPort"]) for port in service["spec"]["ports"]] == [(80, "http")]
    container = find("Deployment", "gateway", "web-tier")["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    listener = envoy_config()["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener["port_value"] == 8080


def pod_specs() -> list[tuple[str, dict]]:
    specs = [(f"Deployment/{item['metadata']['name']}", item["spec"]["template"]["spec"]) for item in OBJECTS if item["kind"] == "Deployment"]
    specs += [(f"Job template/{tier}", job_template(tier)["spec"]["template"]["spec"]) for tier in sorted(JOB_TEMPLATES)]
    return specs


@pytest.mark.parametrize("name,spec", pod_specs(), ids=[name for name, _ in pod_specs()])
def test_pods_run_locked_down(name: str, spec: dict) -> None:
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys()


@pytest.mark.parametrize("tier", sorted(JOB_TEMPLATES))
def test_job_pods_mount_no_token_and_fit_the_quota(tier: str) -> None:
    job = job_template(tier)
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    # The tier quotas are scoped to Terminating pods: a Job pod must carry a deadline to be counted.
    assert pod["activeDeadlineSeconds"] > 0
    quota = find("ResourceQuota", f"{tier}-tier-quota", f"{tier}-service")
    assert quota["spec"]["scopes"] == ["Terminating"]


def test_free_quota_is_two_cpu_and_two_pods() -> None:
    quota = find("ResourceQuota", "free-tier-quota", "free-service")
    assert quota["spec"]["hard"] == {"pods": "2", "requests.cpu": "2", "limits.cpu": "2"}


def test_rbac_stays_inside_each_tier_namespace() -> None:
    assert not [item for item in OBJECTS if item["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    for tier in ("free", "premium"):
        namespace = f"{tier}-service"
        role = find("Role", f"{tier}-tier-jobs", namespace)
        assert role["rules"] == [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}]
        binding = find("RoleBinding", f"{tier}-tier-jobs", namespace)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{tier}-tier", "namespace": namespace}]
        deployment = find("Deployment", f"{tier}-tier", namespace)
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == f"{tier}-tier"


IMAGES = sorted((MANIFESTS / "images").glob("*.Dockerfile"))


@pytest.mark.parametrize("path", IMAGES, ids=lambda path: path.name)
def test_dockerfiles_build_static_swift_and_run_as_the_pods_user(path: Path) -> None:
    import dockerfile

    # The parser is BuildKit's own, so a syntax error here is one `docker build` would report.
    commands = dockerfile.parse_file(str(path))
    stages = [command for command in commands if command.cmd == "FROM"]
    assert len(stages) >= 2, "multi-stage: a Swift build stage and a slim runtime"
    assert stages[0].value[0].startswith("swift:"), "the build stage starts from the official Swift image"
    final = commands[commands.index(stages[-1]):]
    builds = [command.value[0] for command in commands if command.cmd == "RUN" and "swift build" in command.value[0]]
    assert builds and all("--static-swift-stdlib" in build and "-c release" in build for build in builds)
    users = [command.value[0] for command in final if command.cmd == "USER"]
    assert users == ["10001:10001"], "the runtime stage ends as the non-root user the pods run as"
    for command in final:
        if command.cmd == "COPY" and not any(flag.startswith("--from=") for flag in command.flags):
            for source in command.value[:-1]:
                assert (ROOT / source).exists(), f"{path.name} copies {source}, which the repository lacks"
    assert any(command.cmd == "ENTRYPOINT" for command in final)


def test_every_image_the_manifests_name_has_a_dockerfile() -> None:
    images = {container["image"] for _, spec in pod_specs() for container in spec["containers"]}
    ours = {image.split(":")[0].removeprefix("tierserve/") for image in images if image.startswith("tierserve/")}
    assert ours == {path.name.removesuffix(".Dockerfile") for path in IMAGES}
