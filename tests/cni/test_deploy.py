#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The Kubernetes manifest, checked without a cluster: it parses as YAML,
is a DaemonSet with what the node agent needs (host network, privileged,
the host's bpffs, CNI bin and conf dirs), sets only settings the agent
reads, and runs what the Dockerfile installs. Not a substitute for a
cluster: nothing here was applied to one."""
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed")
    sys.exit(77)

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
deploy = os.path.join(top, "deploy", "kubernetes")
fails = checks = 0


def check(name, cond):
    global fails, checks
    checks += 1
    if not cond:
        fails += 1
        print(f"FAIL: {name}")


with open(os.path.join(deploy, "xdpctl.yaml")) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
with open(os.path.join(deploy, "xdpctl-node.sh")) as f:
    agent = f.read()
with open(os.path.join(deploy, "Dockerfile")) as f:
    dockerfile = f.read()

ds = [d for d in docs if d.get("kind") == "DaemonSet"]
check("one DaemonSet", len(ds) == 1)
ds = ds[0]
check("apps/v1", ds.get("apiVersion") == "apps/v1")
spec = ds["spec"]
pod = spec["template"]["spec"]
check("selector matches the pod labels",
      spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items())
check("hostNetwork", pod.get("hostNetwork") is True)
check("every node (tolerates all taints)", {"operator": "Exists"} in pod.get("tolerations", []))
(c,) = pod["containers"]
check("privileged", c.get("securityContext", {}).get("privileged") is True)

vols = {v["name"]: v.get("hostPath", {}).get("path") for v in pod["volumes"]}
mounts = {m["name"]: m for m in c["volumeMounts"]}
for path, where in (("/sys/fs/bpf", "/sys/fs/bpf"), ("/opt/cni/bin", "/host/opt/cni/bin"),
                    ("/etc/cni/net.d", "/host/etc/cni/net.d")):
    names = [n for n, p in vols.items() if p == path]
    check(f"hostPath {path}", len(names) == 1)
    check(f"{path} mounted at {where}",
          bool(names) and mounts.get(names[0], {}).get("mountPath") == where)
bpf = [n for n, p in vols.items() if p == "/sys/fs/bpf"]
check("bpffs mount propagates (pins visible to the host)",
      bool(bpf) and mounts[bpf[0]].get("mountPropagation") == "Bidirectional")

env = {e["name"]: e.get("value") for e in c.get("env", [])}
for name in env:
    check(f"the agent reads {name}", re.search(r"\$\{" + name + r"[:}]", agent) is not None)
check("host root matches the mounts", env.get("XDPCTL_HOST_ROOT") == "/host")
check("max rules is a number", str(env.get("XDPCTL_MAX_RULES", "")).isdigit())

cmd = c.get("command", [None])[0]
check(f"the image installs {cmd}", cmd is not None and f"COPY deploy/kubernetes/xdpctl-node.sh {cmd}" in dockerfile)
check("the image has the plugin where the agent takes it",
      "/usr/local/bin/xdpctl-cni" in agent and re.search(r"COPY --from=build .*cni/xdpctl-cni /usr/local/bin/", dockerfile))
check("the plugin is built static", "-Dcni_static=enabled" in dockerfile)
check("the image tag in the manifest is the one the Dockerfile builds",
      f"-t {c['image']} " in dockerfile)
probe = c.get("readinessProbe", {}).get("exec", {}).get("command", [])
check("readiness looks at the agent's conflist", "/host/etc/cni/net.d/00-xdpctl.conflist" in probe
      and "00-xdpctl.conflist" in agent)

# The image keeps up with the build: every -dev package the build needs in
# the build stage, the package of every library xdpctl links in the other.
stages = re.split(r"^FROM ", dockerfile, flags=re.M)
check("the Dockerfile has a build and a run stage", len(stages) == 3)
build_stage, run_stage = (stages + ["", ""])[1:3]
with open(os.path.join(top, "scripts", "install-deps.sh")) as f:
    deps = f.read()
for pkg in sorted(set(re.findall(r"\b([a-z0-9.+-]+-dev)\b", deps))):
    check(f"the image's build stage installs {pkg}", re.search(r"\b" + re.escape(pkg) + r"\b", build_stage))
xdpctl = os.environ.get("XDPCTL")
if xdpctl:
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", xdpctl], capture_output=True, text=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", subprocess.run(["ldd", xdpctl], capture_output=True,
                                                                   text=True).stdout, re.M))
    for lib in needed:
        out = subprocess.run(["dpkg", "-S", os.path.realpath(paths.get(lib, lib))],
                             capture_output=True, text=True).stdout
        pkg = out.split(":")[0] if out else None
        if pkg in (None, "libc6") or re.match(r"lib(a|ub|l|t)san\d", pkg):
            continue  # libc, and the sanitizers' runtimes of a -Db_sanitize build
        check(f"the image installs {pkg} ({lib}, linked by xdpctl)",
              re.search(r"\b" + re.escape(pkg) + r"\b", run_stage))

if fails:
    print(f"{fails} of {checks} checks failed")
    sys.exit(1)
print(f"all {checks} checks passed")
