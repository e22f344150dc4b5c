"""Helm chart checks, offline: strict lint, render with each values file, validate every manifest
against Kubernetes 1.32 schemas, and check the chart against the service's settings."""
import os
import pathlib
import subprocess

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "helm"
VALUES = {"default": None, "app-only": CHART / "values-app-only.yaml", "full-stack": CHART / "values-dev-port9797.yaml"}
INFRASTRUCTURE = {"postgres", "redis", "qdrant", "kafka"}


def service_settings():
    """Every name the service and its registered backends read, as `soma config --names` lists them
    (the Swift tests keep that complete); SOMA_BINARY overrides .build/debug/soma."""
    binary = os.environ.get("SOMA_BINARY", str(ROOT / ".build/debug/soma"))
    names = subprocess.run([binary, "config", "--names"], check=True, capture_output=True, text=True).stdout.split()
    assert len(names) > 50, names
    return set(names)


def render(values_file, overrides=None):
    chart = helm.Chart.load(str(CHART))
    values = helm.values_from_yaml(values_file.read_text()) if values_file else {}
    for key, value in (overrides or {}).items():
        values.setdefault(key.split(".")[0], {})[key.split(".")[1]] = value
    manifests = chart.render(values, name="soma-memory", namespace="soma-memory", is_install=True)
    documents = []
    for path, text in manifests.items():
        if path.endswith("NOTES.txt"):
            continue
        documents += [doc for doc in yaml.safe_load_all(text) if doc]
    return documents


def of_kind(documents, *kinds):
    return [doc for doc in documents if doc["kind"] in kinds]


def component(doc):
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


def containers(doc):
    spec = doc["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def test_strict_lint_passes():
    for name, values_file in VALUES.items():
        values = helm.values_from_yaml(values_file.read_text()) if values_file else None
        report = helm.lint(str(CHART), values, strict=True, kube_version="v1.32.0")
        problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
        assert not problems, f"{name}: {problems}"


@pytest.mark.parametrize("mode", VALUES)
def test_every_manifest_validates_against_kubernetes_1_32(mode):
    documents = render(VALUES[mode])
    assert documents
    for doc in documents:
        if doc["kind"] == "ServiceMonitor":
            continue  # a CRD, not in the core schemas
        kubernetes_validate.validate(doc, "1.32", strict=True)


def test_optional_objects_render_and_validate():
    documents = render(VALUES["default"])
    chart = helm.Chart.load(str(CHART))
    values = {"autoscaling": {"enabled": True}, "podDisruptionBudget": {"enabled": True}, "networkPolicy": {"enabled": True},
              "ingress": {"enabled": True, "className": "nginx"}, "serviceMonitor": {"enabled": True}}
    manifests = chart.render(values, name="soma-memory", namespace="soma-memory", is_install=True)
    documents = [doc for path, text in manifests.items() if not path.endswith(".txt") for doc in yaml.safe_load_all(text) if doc]
    kinds = {doc["kind"] for doc in documents}
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress", "ServiceMonitor"} <= kinds
    assert len(of_kind(documents, "ServiceMonitor")) == 2, "API and consumer"
    for doc in documents:
        if doc["kind"] != "ServiceMonitor":
            kubernetes_validate.validate(doc, "1.32", strict=True)


def test_app_only_renders_exactly_the_api_and_consumer():
    documents = render(VALUES["app-only"])
    workloads = of_kind(documents, "Deployment", "StatefulSet", "DaemonSet", "Job")
    assert sorted((doc["kind"], component(doc)) for doc in workloads) == [("Deployment", "api"), ("Deployment", "consumer")]
    assert not of_kind(documents, "PersistentVolumeClaim")
    assert not any(component(doc) in INFRASTRUCTURE for doc in documents)
    config = of_kind(documents, "ConfigMap")[0]["data"]
    secret = of_kind(documents, "Secret")[0]["stringData"]
    assert config["REDIS_HOST"] == "shared-redis.infra.svc.cluster.local"
    assert config["QDRANT_HOST"] == "shared-qdrant.infra.svc.cluster.local"
    assert config["KAFKA_BOOTSTRAP_SERVERS"].startswith("shared-kafka")
    assert config["EVENTING_ENABLED"] == "true"
    assert secret["POSTGRES_URL"].startswith("postgresql://") and "shared-postgres" in secret["POSTGRES_URL"]


def test_full_stack_renders_app_and_infrastructure_with_storage_and_node_port():
    documents = render(VALUES["full-stack"])
    statefulsets = {component(doc): doc for doc in of_kind(documents, "StatefulSet")}
    assert set(statefulsets) == INFRASTRUCTURE
    for doc in statefulsets.values():
        assert doc["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    deployments = {component(doc) for doc in of_kind(documents, "Deployment")}
    assert deployments == {"api", "consumer"}
    api_service = next(doc for doc in of_kind(documents, "Service") if component(doc) == "api")
    assert api_service["spec"]["type"] == "NodePort"
    assert api_service["spec"]["ports"][0]["nodePort"] == 30797 and api_service["spec"]["ports"][0]["port"] == 9797
    config = of_kind(documents, "ConfigMap")[0]["data"]
    assert config["SOMA_PORT"] == "9797"
    assert config["REDIS_HOST"] == "soma-memory-somafractalmemory-redis"
    assert config["QDRANT_HOST"] == "soma-memory-somafractalmemory-qdrant"
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == "soma-memory-somafractalmemory-kafka:9092"
    secret = next(doc for doc in of_kind(documents, "Secret") if component(doc) == "secret")["stringData"]
    assert "@soma-memory-somafractalmemory-postgres:5432/" in secret["POSTGRES_URL"]
    without_kafka = render(VALUES["default"])
    assert {component(doc) for doc in of_kind(without_kafka, "StatefulSet")} == {"postgres", "redis", "qdrant"}


@pytest.mark.parametrize("mode", VALUES)
def test_chart_sets_only_settings_the_service_reads_and_every_required_one(mode):
    known = service_settings()
    documents = render(VALUES[mode])
    config = of_kind(documents, "ConfigMap")[0]["data"]
    app_secret = next(doc for doc in of_kind(documents, "Secret") if component(doc) == "secret")["stringData"]
    set_names = set(config) | set(app_secret)
    for doc in of_kind(documents, "Deployment"):
        for container in containers(doc):
            set_names |= {env["name"] for env in container.get("env", [])}
    unknown = set_names - known
    assert not unknown, f"the chart sets names the service does not read: {sorted(unknown)}"
    required = {"SOMA_HOST", "SOMA_PORT", "SOMA_API_TOKEN", "SOMA_DATA_DIR", "SOMA_MEMORY_NAMESPACE", "EVENTING_ENABLED", "POSTGRES_URL",
                "REDIS_HOST", "QDRANT_HOST"}
    if mode != "default":  # Kafka is optional in the default full stack
        required |= {"KAFKA_BOOTSTRAP_SERVERS"}
    assert required <= set_names, f"missing: {sorted(required - set_names)}"
    assert config["SOMA_HOST"] == "0.0.0.0" and app_secret["SOMA_API_TOKEN"], "off loopback the service needs a token"
    api = next(doc for doc in of_kind(documents, "Deployment") if component(doc) == "api")
    port = api["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert str(port) == config["SOMA_PORT"]


@pytest.mark.parametrize("mode", VALUES)
def test_pods_are_locked_down(mode):
    for doc in of_kind(render(VALUES[mode]), "Deployment"):
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
        for container in containers(doc):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"/tmp", "/data"} <= {mount["mountPath"] for mount in container["volumeMounts"]}
        probes = pod["containers"][0]
        assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz" and probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
        if component(doc) == "api":
            assert pod["initContainers"][0]["args"] == ["migrate"], "migrations run before the API starts"


@pytest.mark.parametrize("bad", [{"service": {"port": "ninety"}}, {"postgres": {"enabled": "yes"}}, {"service": {"type": "Public"}},
                                 {"env": {"LOG_LEVEL": 3}}, {"redis": {"storage": "lots"}}])
def test_schema_rejects_wrong_values_with_a_clear_message(bad):
    chart = helm.Chart.load(str(CHART))
    with pytest.raises(Exception) as error:
        chart.validate_schema(bad)
    assert "at '/" in str(error.value)


def test_existing_secret_is_used_instead_of_rendering_one():
    documents = render(VALUES["app-only"], {"secret.existingSecret": "managed-soma"})
    assert not [doc for doc in of_kind(documents, "Secret") if component(doc) == "secret"]
    api = next(doc for doc in of_kind(documents, "Deployment") if component(doc) == "api")
    refs = [source["secretRef"]["name"] for source in api["spec"]["template"]["spec"]["containers"][0]["envFrom"] if "secretRef" in source]
    assert refs == ["managed-soma"]


# The original service's values files (copies in Tests/compat/original), installed unchanged.
ORIGINAL = {name: ROOT / "Tests/compat/original" / f"helm_values{suffix}.yaml"
            for name, suffix in (("original-default", ""), ("original-app-only", "-app-only"), ("original-dev-port9797", "-dev-port9797"))}
# The original chart's pods for each: API and consumer replicas plus its enabled infrastructure.
ORIGINAL_PODS = {"original-default": 6, "original-app-only": 2, "original-dev-port9797": 4}


def pods(documents):
    return sum(doc["spec"]["replicas"] for doc in of_kind(documents, "Deployment", "StatefulSet"))


@pytest.mark.parametrize("name", ORIGINAL)
def test_the_originals_values_files_install_unchanged(name):
    values = helm.values_from_yaml(ORIGINAL[name].read_text())
    report = helm.lint(str(CHART), values, strict=True, kube_version="v1.32.0")
    assert not [m for m in report["messages"] if m["severity"] >= 2] + report["errors"], report
    documents = render(ORIGINAL[name])
    for doc in documents:
        if doc["kind"] != "ServiceMonitor":
            kubernetes_validate.validate(doc, "1.32", strict=True)
    assert pods(documents) == ORIGINAL_PODS[name]
    for doc in of_kind(documents, "Deployment"):
        pod = doc["spec"]["template"]["spec"]
        assert "enabled" not in pod.get("securityContext", {}), "the original's switch is not a pod spec field"
        for container in containers(doc):
            assert "enabled" not in container["securityContext"]


def test_original_keys_map_onto_the_chart():
    documents = render(ORIGINAL["original-default"])
    api = next(doc for doc in of_kind(documents, "Deployment") if component(doc) == "api")
    consumer = next(doc for doc in of_kind(documents, "Deployment") if component(doc) == "consumer")
    assert api["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] == "2Gi", "resources -> api.resources"
    liveness = api["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert liveness["initialDelaySeconds"] == 20 and liveness["timeoutSeconds"] == 5, "probe.* timings"
    consumer_container = consumer["spec"]["template"]["spec"]["containers"][0]
    assert {env["name"] for env in consumer_container["env"]} >= {"REDIS_HOST", "QDRANT_HOST"}, "consumer.env"
    assert consumer_container["image"] == "somafractalmemory-runtime:local", "consumer.image"
    kafka = next(doc for doc in of_kind(documents, "StatefulSet") if component(doc) == "kafka")
    assert "volumeClaimTemplates" not in kafka["spec"], "redpanda.persistence.enabled false: no claim"
    config = of_kind(documents, "ConfigMap")[0]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == "soma-memory-somafractalmemory-kafka:9092"
    secret = next(doc for doc in of_kind(documents, "Secret") if component(doc) == "secret")["stringData"]
    assert secret["POSTGRES_URL"].startswith("postgresql://postgres:postgres@"), "postgres.username -> postgres.user"


@pytest.mark.parametrize("misspelt", [{"replicaCont": 2}, {"consumer": {"replicas": 1, "enabeld": True}}, {"service": {"type": "ClusterIP", "port": 9595, "prot": 1}}])
def test_a_misspelt_key_is_rejected_by_name(misspelt):
    chart = helm.Chart.load(str(CHART))
    with pytest.raises(Exception) as error:
        chart.validate_schema(misspelt)
    wrong = next(key for part in [misspelt] + list(misspelt.values()) if isinstance(part, dict) for key in part if key not in ("consumer", "service", "replicas", "type", "port"))
    assert wrong in str(error.value), str(error.value)


@pytest.mark.parametrize("feature, replacement", [({"backup": {"postgres": {"enabled": True}}}, "backup.postgres.enabled"),
                                                  ({"externalSecret": {"enabled": True}}, "externalSecret.enabled"),
                                                  ({"hpa": {"consumer": {"enabled": True}}}, "hpa.consumer.enabled")])
def test_an_original_feature_this_chart_lacks_is_refused_by_name(feature, replacement):
    chart = helm.Chart.load(str(CHART))
    with pytest.raises(Exception) as error:
        chart.render(feature, name="soma-memory", namespace="soma-memory", is_install=True)
    assert replacement in str(error.value) and "not supported by this chart" in str(error.value), str(error.value)


def test_doctor_runs_as_an_init_container_after_the_migrations():
    documents = render(VALUES["app-only"], {"doctor.enabled": True})
    api = next(doc for doc in of_kind(documents, "Deployment") if component(doc) == "api")
    init = api["spec"]["template"]["spec"]["initContainers"]
    assert [container["name"] for container in init] == ["migrate", "doctor"] and init[1]["args"] == ["doctor"]
    kubernetes_validate.validate(api, "1.32", strict=True)
    default = next(doc for doc in of_kind(render(VALUES["app-only"]), "Deployment") if component(doc) == "api")
    assert [container["name"] for container in default["spec"]["template"]["spec"]["initContainers"]] == ["migrate"]
