#!/usr/bin/env python3
"""Checks what the Kubernetes schemas cannot: that the rendered objects fit together.

- every Service and PodDisruptionBudget selector matches a workload's pod labels;
- every Service targetPort names a container port of the pods it selects;
- the ServiceMonitor (a Prometheus Operator CRD, which kubernetes-validate has no schema for)
  selects Services that have the port it scrapes;
- the coordinator's termination grace exceeds both the longest long-poll (30 s) and its
  --shutdown-grace (the larger of the two, not their sum: SIGTERM ends waiting long-polls at once,
  and the process stops within --shutdown-grace);
- probes hit /readyz and /healthz; every container runs as non-root without privilege escalation;
- every Secret a pod references is one the README tells operators to create.

    python3 check_consistency.py rendered.yaml README.md
"""

import re
import sys

import yaml

LONG_POLL_SECONDS = 30


def main(rendered: str, readme: str) -> None:
    documents = [d for d in yaml.safe_load_all(open(rendered)) if d]
    readme_text = open(readme).read()
    workloads = [d for d in documents if d["kind"] in ("Deployment", "StatefulSet")]
    problems = []

    def pods_matching(selector):
        return [w for w in workloads if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]

    def container_ports(workload):
        return {p["name"]: p["containerPort"] for c in workload["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}

    services = [d for d in documents if d["kind"] == "Service"]
    for service in services:
        matched = pods_matching(service["spec"]["selector"])
        if not matched:
            problems.append(f"Service {service['metadata']['name']} selects no pods")
        for port in service["spec"]["ports"]:
            for workload in matched:
                if port["targetPort"] not in container_ports(workload):
                    problems.append(f"Service {service['metadata']['name']}: targetPort {port['targetPort']} is not a port of {workload['metadata']['name']}")
    for pdb in (d for d in documents if d["kind"] == "PodDisruptionBudget"):
        if not pods_matching(pdb["spec"]["selector"]["matchLabels"]):
            problems.append(f"PodDisruptionBudget {pdb['metadata']['name']} selects no pods")

    monitors = [d for d in documents if d["kind"] == "ServiceMonitor"]
    if not monitors:
        problems.append("no ServiceMonitor")
    for monitor in monitors:
        if monitor["apiVersion"] != "monitoring.coreos.com/v1":
            problems.append(f"ServiceMonitor {monitor['metadata']['name']}: apiVersion {monitor['apiVersion']}")
        selected = [s for s in services if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"].get("labels", {}).items()]
        names = {s["metadata"]["name"] for s in selected}
        if names != {"reprogrid-coordinator", "reprogrid-worker"}:
            problems.append(f"ServiceMonitor selects {sorted(names)}, not the coordinator and worker Services")
        for endpoint in monitor["spec"]["endpoints"]:
            for service in selected:
                if endpoint["port"] not in {p["name"] for p in service["spec"]["ports"]}:
                    problems.append(f"ServiceMonitor port {endpoint['port']} is not a port of Service {service['metadata']['name']}")

    for workload in workloads:
        spec = workload["spec"]["template"]["spec"]
        name = workload["metadata"]["name"]
        if spec.get("securityContext", {}).get("runAsNonRoot") is not True:
            problems.append(f"{name}: pod securityContext.runAsNonRoot is not true")
        for container in spec.get("initContainers", []) + spec["containers"]:
            if container.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}/{container['name']}: allowPrivilegeEscalation is not false")
            if "resources" not in container:
                problems.append(f"{name}/{container['name']}: no resources")
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and not re.search(rf"\b{re.escape(ref['name'])}\b.*\b{re.escape(ref['key'])}\b", readme_text):
                    problems.append(f"{name}: Secret {ref['name']}/{ref['key']} is not documented in the README")
        if workload["kind"] == "Deployment":
            container = spec["containers"][0]
            if container["readinessProbe"]["httpGet"]["path"] != "/readyz" or container["livenessProbe"]["httpGet"]["path"] != "/healthz":
                problems.append(f"{name}: probes must be /readyz (readiness) and /healthz (liveness)")
            grace = next((float(a.split("=", 1)[1]) for a in container["args"] if a.startswith("--shutdown-grace=")), 15.0)
            if spec["terminationGracePeriodSeconds"] <= max(LONG_POLL_SECONDS, grace):
                problems.append(f"{name}: terminationGracePeriodSeconds {spec['terminationGracePeriodSeconds']} is not longer than the long-poll and --shutdown-grace")
        if workload["kind"] == "StatefulSet":
            claims = {c["metadata"]["name"] for c in workload["spec"].get("volumeClaimTemplates", [])}
            mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0].get("volumeMounts", [])}
            work = next((a.split("=", 1)[1] for a in spec["containers"][0]["args"] if a.startswith("--work-dir=")), None)
            if not any(mounts.get(c) == work for c in claims):
                problems.append(f"{name}: the work directory {work} is not on a per-replica volume claim")

    if problems:
        print("\n".join(f"error: {p}" for p in problems), file=sys.stderr)
        raise SystemExit(1)
    print(f"{len(documents)} objects consistent")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
