#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bypass add --container: from a process id (its netns, then the host veth
# whose peer lives there, by rtnetlink) and from a Docker name or id (the
# Engine API on a unix socket). The API is served from a socket of this
# test (DOCKER_HOST) with an inspect answer in Docker's shape that points at
# a real process in a real container netns: a real dockerd's containers are
# not ours to put rules on.
source "$(dirname "$0")/lib.sh"
need_root

lab_up || { echo "FAIL: lab setup"; exit 1; }
ok "attach" -n "$H" attach "${P}up" --engine tc --fast-path skip-firewall || finish
mac_c2=$(ip -n "${P}c2" -j link show dev eth0 | jq -r '.[0].address')
mac_c1=$(ip -n "${P}c1" -j link show dev eth0 | jq -r '.[0].address')

# A process in container 2's namespace.
nsenter --net="/run/netns/${P}c2" -- sleep 120 </dev/null >/dev/null 2>&1 &
pid2=$!
CLEANUP_EXTRA+=("kill $pid2")
for _ in $(seq 50); do [[ $(readlink "/proc/$pid2/ns/net") == "$(in_ns "${P}c2" readlink /proc/self/ns/net)" ]] && break; sleep 0.1; done

# ---- by process id ----
ok "bypass add --container PID" -n "$H" -j bypass add 198.19.0.3 --container "$pid2" &&
	jcheck "found container 2's veth and MAC" ".dev == \"${P}v2\" and .mac == \"$mac_c2\""
check "the rule forwards" in_ns "${P}cl" ping -q -c2 -i0.2 -W2 198.19.0.3 >/dev/null
ok "rule listed" -n "$H" -j bypass list && jcheck "rule on the veth" ".[0].dev == \"${P}v2\" and .[0].in_packets >= 2"
x -n "$H" -v bypass add 2001:db8:19::3 --container "$pid2"
check "-v: added" test "$RC" -eq 0
check "-v note" grep -q "^Note: container $pid2: pid $pid2, veth ${P}v2, mac $mac_c2, addresses 198.19.0.3 2001:db8:19::3" <<<"$ERR"
ok "bypass del" -n "$H" bypass del 2001:db8:19::3
ok "bypass del" -n "$H" bypass del 198.19.0.3
snapshot before
bad "pid in this namespace" "^Error: no veth in ${P}h leads to $$: is it on a bridge network here\?" -n "$H" bypass add 198.19.0.4 --container $$
bad "no such process" "^Error: no such process: 1073741000$" -n "$H" bypass add 198.19.0.4 --container 1073741000
bad "not a pid" "^Error: '99999999999' is not a process id$" -n "$H" bypass add 198.19.0.4 --container 99999999999
bad "not a name" "is not a container name, id or process id" -n "$H" bypass add 198.19.0.4 --container 'a/b'
unchanged before "--container errors"

# ---- Docker Engine API ----
sock=$TMPD/docker.sock
export DOCKER_HOST=unix://$sock
bad "no daemon" "^Error: cannot resolve container web1: Docker does not answer on $sock: start dockerd, or give the container's process id$" \
	-n "$H" bypass add 198.19.0.4 --container web1
DOCKER_HOST=tcp://127.0.0.1:2375
bad "DOCKER_HOST not unix" "^Error: cannot resolve container web1: DOCKER_HOST=tcp://127.0.0.1:2375: only unix:// sockets are supported: use unix://PATH, or unset DOCKER_HOST$" \
	-n "$H" bypass add 198.19.0.4 --container web1
DOCKER_HOST=unix://$sock

# One container answer in the shape of 'docker inspect' (trimmed), and 404 otherwise.
timeout 120 python3 - "$sock" "$pid2" "$mac_c2" >"$TMPD/docker.log" 2>&1 <<'PY' &
import json, socketserver, sys
sock, pid, mac = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cid = "4f" * 32
web1 = {
    "Id": cid, "Created": "2024-01-01T00:00:00Z", "Path": "httpd", "Args": ["-f", "-p", "80"],
    "State": {"Status": "running", "Running": True, "Paused": False, "Pid": pid, "ExitCode": 0,
              "Error": "", "Health": None},
    "Name": "/web1", "RestartCount": 0, "Mounts": [],
    "Config": {"Hostname": "web1", "Env": ["PATH=/bin", "A=\"quoted\\\\\""], "Labels": {"x\u00e9": "{}[],:"}},
    "NetworkSettings": {
        "Bridge": "", "Ports": {}, "IPAddress": "", "GlobalIPv6Address": "", "MacAddress": "",
        "Networks": {
            "other": {"IPAMConfig": None, "Aliases": None, "IPAddress": "", "MacAddress": ""},
            "labnet": {"IPAMConfig": {"IPv4Address": "198.19.0.3"}, "Aliases": ["web1", "4f4f"],
                       "NetworkID": "n" * 64, "Gateway": "198.19.0.1", "IPAddress": "198.19.0.3",
                       "IPPrefixLen": 24, "IPv6Gateway": "2001:db8:19::1",
                       "GlobalIPv6Address": "2001:db8:19::3", "GlobalIPv6PrefixLen": 64,
                       "MacAddress": mac, "DriverOpts": None}}}}
stopped = dict(web1, Id="5e" * 32, Name="/stopped1", State={"Running": False, "Pid": 0})
class H(socketserver.StreamRequestHandler):
    def handle(self):
        req = self.rfile.readline().decode()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        parts = req.split()[1].split("/")
        if parts[1] != "v1.41":  # the API version is pinned in the path
            self.wfile.write(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        name = parts[3]
        body = {"web1": web1, cid: web1, "stopped1": stopped}.get(name)
        status = "200 OK" if body else "404 Not Found"
        data = json.dumps(body or {"message": "No such container: " + name}).encode()
        self.wfile.write(f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
socketserver.UnixStreamServer(sock, H).serve_forever()
PY
server=$!
CLEANUP_EXTRA+=("kill $server")
for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done

# A socket someone else owns could answer for the daemon: refused, naming it.
chown 65534 "$sock"
bad "socket not root's" "^Error: cannot resolve container web1: socket $sock is owned by uid 65534, not root: a socket not owned by root could answer for the daemon; point DOCKER_HOST at the root daemon's socket \(unix:///var/run/docker.sock\) or unset it$" \
	-n "$H" bypass add 198.19.0.3 --container web1
chown 0 "$sock"

ok "bypass add --container NAME" -n "$H" -j bypass add 198.19.0.3 --container web1 &&
	jcheck "bypass add JSON" ".dev == \"${P}v2\" and .mac == \"$mac_c2\""
ok "bypass del" -n "$H" bypass del 198.19.0.3
x -n "$H" -v bypass add 198.19.0.3 --container web1
check "-v: added" test "$RC" -eq 0
check "Docker name, pid, veth, MAC and addresses" grep -q "^Note: container web1: pid $pid2, veth ${P}v2, mac $mac_c2, addresses 198.19.0.3 2001:db8:19::3$" <<<"$ERR"
ok "rule on container 2's veth" -n "$H" -j bypass list && jcheck "veth and MAC" ".[0].dev == \"${P}v2\" and .[0].mac == \"$mac_c2\""
ok "bypass add --container ID" -n "$H" bypass add 2001:db8:19::3 --container "$(printf '4f%.0s' $(seq 32))"
ok "both rules" -n "$H" -j bypass list && jcheck "two rules on ${P}v2" "length == 2 and all(.[]; .dev == \"${P}v2\")"
snapshot before
bad "no such container" "^Error: no such container: nope \(see 'docker ps'\)$" -n "$H" bypass add 198.19.0.4 --container nope
bad "container not running" "^Error: container stopped1 is not running: start it first$" -n "$H" bypass add 198.19.0.4 --container stopped1
bad "address not in a URL" "is not a container name, id or process id" -n "$H" bypass add 198.19.0.4 --container 'web1/../x'
unchanged before "Docker errors"
CHECKS=$((CHECKS + 1))
x -n "$H" bypass add 198.19.0.45 --container web1
[[ $RC -eq 0 && $ERR == "Note: 198.19.0.45 is not an address of web1's eth0; adding the rule anyway" ]] ||
	fail_check "another address of the container: a note, not an error"

finish
