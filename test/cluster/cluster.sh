#!/usr/bin/env bash
# A real one-node Kubernetes cluster on this machine, for rukou's tests and
# for trying deploy/rukou.yaml by hand (docs/development.md).
#
#   cluster.sh up        build the images, start etcd, kube-apiserver,
#                        kube-controller-manager, kube-scheduler, containerd,
#                        kubelet, kube-proxy and CoreDNS; print the kubeconfig
#   cluster.sh down      stop all of it and undo what it changed on the host
#   cluster.sh images    only build the image archives
#   cluster.sh archives DIR [NAME]
#                        write rukou.tar and envoy.tar (make image without Docker)
#
# Needs root (containers, iptables, mounts) and the tools that
# `test/tools/install.sh cluster` installs (make cluster-tools). Everything it
# keeps is under $RUKOU_CLUSTER_DIR (default bin/cluster): pki/ (certificates
# and a kubeconfig per component; pki/admin.kubeconfig is yours), etc/
# (configs), logs/<component>.log, pids/, images/, and the etcd, containerd
# and kubelet state. Sockets are under /run/rukou-cluster.
set -euo pipefail
# Debian installs iptables, runc, conntrack and ip under sbin, which a
# non-login shell's PATH may lack; the daemons started here inherit it.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/bin"
state="${RUKOU_CLUSTER_DIR:-$bin/cluster}"
run=/run/rukou-cluster
sock="$run/containerd.sock"
node_ip="${NODE_IP:-$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}"
node_name="${NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}"
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/16
dns_ip=10.96.0.10
bridge=rukou0
# etcd's ports: far from etcd's defaults (2379/2380) and below the
# ephemeral range where the e2e harness picks its own.
etcd_client=12379 etcd_peer=12380 etcd_metrics=12381
apiserver_port=6443
# Sysctls that kubelet, kube-proxy and the CNI bridge change: saved at up,
# put back at down.
sysctls=(net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
	net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
	vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
	kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

log() { printf 'cluster: [%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "$*"
	exit 1
}
kubectl() { "$bin/kubectl" --kubeconfig "$state/pki/admin.kubeconfig" "$@"; }
ctr() { command ctr --address "$sock" -n k8s.io "$@"; }

# wait_for SECONDS WHAT COMMAND...: run COMMAND every half second until it
# succeeds; fail after SECONDS, pointing at the logs.
wait_for() {
	local n=$(($1 * 2)) what=$2 t0=$SECONDS
	shift 2
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			log "$what after $((SECONDS - t0)) s"
			return 0
		fi
		sleep 0.5
	done
	die "timed out waiting for $what; see $state/logs/"
}

# start NAME COMMAND...: run a daemon in its own session, log to
# logs/NAME.log, record its pid. Each daemon on its own line: `cd x && y &`
# would put the cd in the background too.
start() {
	local name=$1
	shift
	setsid "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$state/pids/$name"
	log "started $name (pid $!)"
}

# stop NAME: SIGTERM the recorded pid if it is still that program, wait up
# to 20 s (kube-apiserver is slow to exit), then SIGKILL.
stop() {
	local f="$state/pids/$1" pid exe
	[[ -f $f ]] || return 0
	pid=$(<"$f")
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
	if [[ -n $exe && $(basename "$exe") == "$1"* ]]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 40); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			log "killed $1 ($pid): it did not stop within 20 s"
		else
			log "stopped $1 ($pid)"
		fi
	fi
	rm -f "$f"
}

need_tools() {
	local missing=() t
	for t in etcd kube-apiserver kubectl kubelet kube-proxy kube-controller-manager kube-scheduler coredns envoy; do
		[[ -x $bin/$t ]] || missing+=("bin/$t")
	done
	for t in containerd ctr runc iptables ip6tables conntrack; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	for t in bridge host-local portmap loopback; do
		[[ -x /usr/lib/cni/$t ]] || missing+=("/usr/lib/cni/$t")
	done
	((${#missing[@]} == 0)) || die "missing: ${missing[*]}; run make cluster-tools (test/tools/install.sh cluster)"
	[[ $(id -u) == 0 ]] || die "needs root (containers, iptables, mounts)"
	[[ -n $node_ip ]] || die "cannot find this machine's address (ip -4 route get 1.1.1.1); set NODE_IP"
}

build_go() { # output package: a static binary as the Dockerfile builds rukou's
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION:-dev}" -o "$1" "$2")
}

clustertool() {
	(cd "$root" && go build -o "$state/build/clustertool" ./test/cluster/clustertool)
	"$state/build/clustertool" "$@"
}

# archives DIR [NAME]: rukou.tar (named NAME, default the manifest's) and
# envoy.tar, for `make image` without Docker.
archives() {
	local dir=$1 name=${2:-}
	mkdir -p "$dir" "$state/build"
	build_go "$state/build/rukou" ./cmd/rukou
	clustertool image -o "$dir/rukou.tar" ${name:+-name "$name"} rukou "$state/build/rukou"
	clustertool image -o "$dir/envoy.tar" envoy "$bin/envoy"
}

images() {
	local d="$state/images" t0=$SECONDS
	mkdir -p "$d" "$state/build"
	build_go "$state/build/rukou" ./cmd/rukou
	build_go "$state/build/backend" ./examples/backend
	build_go "$state/build/pause" ./test/cluster/pause
	clustertool image -o "$d/rukou.tar" rukou "$state/build/rukou" >/dev/null
	clustertool image -o "$d/backend.tar" backend "$state/build/backend" >/dev/null
	clustertool image -o "$d/pause.tar" pause "$state/build/pause" >/dev/null
	# Pinned binaries: their archives are written again only when the
	# binary or the image code changed.
	fresh() { [[ $1 -nt $2 && $1 -nt $root/test/cluster/image/image.go && $1 -nt $root/test/cluster/image/specs.go ]]; }
	fresh "$d/envoy.tar" "$bin/envoy" || clustertool image -o "$d/envoy.tar" envoy "$bin/envoy" >/dev/null
	fresh "$d/coredns.tar" "$bin/coredns" || clustertool image -o "$d/coredns.tar" coredns "$bin/coredns" >/dev/null
	log "images built in $((SECONDS - t0)) s: $(cd "$d" && echo *.tar)"
}

configs() {
	local e="$state/etc" p="$state/pki"
	mkdir -p "$e/cni" "$state/cni"
	cat >"$e/containerd.toml" <<EOF
version = 2
root = "$state/containerd"
state = "$run/containerd"
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  # No registry: the sandbox image is one cluster.sh imports.
  sandbox_image = "rukou.test/pause:v1"
  # This machine lacks CAP_SYS_RESOURCE, so runc cannot set the
  # oom_score_adj of -998 the CRI asks for each sandbox; every sandbox then
  # fails with "can't get final child's PID from pipe: EOF". Never ask for
  # less than containerd's own score.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$e/cni"
EOF
	# containerd adds the loopback itself.
	cat >"$e/cni/10-rukou-cluster.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "rukou-cluster",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {"type": "host-local", "dataDir": "$state/cni", "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
	cat >"$e/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1, which kubelet 1.35+ refuses unless told, and
# no systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$sock
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $p/kubelet-serving.crt
tlsPrivateKeyFile: $p/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $p/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: ["$dns_ip"]
resolvConf: /etc/resolv.conf
podCIDR: $pod_cidr
failSwapOn: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
# The imported images cannot be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
	cat >"$e/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
# iptables mode serves NodePorts on 127.0.0.1 too; nftables mode would not.
mode: iptables
clusterCIDR: 10.244.0.0/16
hostnameOverride: $node_name
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clientConnection: {kubeconfig: $p/kube-proxy.kubeconfig}
# Leave the host's conntrack table size and timeouts alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

save_host() {
	[[ -f $state/host-sysctls ]] && return
	local s
	for s in "${sysctls[@]}"; do
		sysctl -n "$s" >/dev/null 2>&1 && echo "$s=$(sysctl -n "$s")"
	done >"$state/host-sysctls"
	[[ -d /var/lib/cni ]] && echo keep >"$state/host-var-lib-cni" || echo remove >"$state/host-var-lib-cni"
	[[ -d /run/containerd ]] && echo keep >"$state/host-run-containerd" || echo remove >"$state/host-run-containerd"
}

up() {
	need_tools
	if [[ -f $state/pids/kube-apiserver ]] && kill -0 "$(<"$state/pids/kube-apiserver")" 2>/dev/null; then
		die "already running (pids in $state/pids); make cluster-down first"
	fi
	local t0=$SECONDS p="$state/pki"
	mkdir -p "$state"/{logs,pids,etc,build} "$run"
	save_host
	images
	clustertool pki -dir "$p" -node-name "$node_name" -node-ip "$node_ip" -port "$apiserver_port"
	configs
	# A fresh cluster each time: no objects or pods of an earlier run.
	rm -rf "$state/etcd" "$state/kubelet"

	start containerd containerd --config "$state/etc/containerd.toml"
	wait_for 30 containerd ctr version
	local t
	for t in "$state"/images/*.tar; do
		ctr images import "$t" >/dev/null || die "ctr images import $t failed"
	done
	log "images imported"

	start etcd "$bin/etcd" --name rukou-cluster --data-dir "$state/etcd" \
		--listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
		--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
		--initial-cluster "rukou-cluster=http://127.0.0.1:$etcd_peer" --listen-metrics-urls "http://127.0.0.1:$etcd_metrics"
	start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_client" \
		--bind-address "$node_ip" --secure-port "$apiserver_port" --advertise-address "$node_ip" \
		--tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
		--kubelet-client-certificate "$p/apiserver-kubelet-client.crt" --kubelet-client-key "$p/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority "$p/ca.crt" --kubelet-preferred-address-types InternalIP \
		--service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-cluster-ip-range "$service_cidr" --authorization-mode Node,RBAC \
		--enable-admission-plugins NodeRestriction --allow-privileged=true
	wait_for 90 "kube-apiserver ready" kubectl get --raw /readyz
	# The API server's client certificate may use the kubelet API (logs,
	# exec, port-forward) and nothing else.
	kubectl create clusterrolebinding rukou-cluster:apiserver-kubelet \
		--clusterrole system:kubelet-api-admin --user kube-apiserver-kubelet-client >/dev/null
	start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$p/kube-controller-manager.kubeconfig" \
		--authentication-kubeconfig "$p/kube-controller-manager.kubeconfig" --authorization-kubeconfig "$p/kube-controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 --use-service-account-credentials \
		--service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
		--cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
		--service-cluster-ip-range "$service_cidr" --leader-elect=false
	start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$p/kube-scheduler.kubeconfig" \
		--authentication-kubeconfig "$p/kube-scheduler.kubeconfig" --authorization-kubeconfig "$p/kube-scheduler.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false
	start kubelet "$bin/kubelet" --config "$state/etc/kubelet.yaml" --kubeconfig "$p/kubelet.kubeconfig" \
		--root-dir "$state/kubelet" --node-ip "$node_ip" --hostname-override "$node_name" --v=1
	start kube-proxy "$bin/kube-proxy" --config "$state/etc/kube-proxy.yaml" --v=1
	wait_for 120 "node $node_name Ready" kubectl wait --for=condition=Ready "node/$node_name" --timeout=1s
	wait_for 60 "the default ServiceAccount" kubectl get serviceaccount default
	kubectl apply -f "$root/test/cluster/coredns.yaml" >/dev/null
	wait_for 120 "CoreDNS available" kubectl -n kube-system wait --for=condition=Available deployment/coredns --timeout=1s
	ln -sfn pki/admin.kubeconfig "$state/kubeconfig"
	log "up in $((SECONDS - t0)) s; logs in $state/logs/"
	echo "$state/kubeconfig"
}

# iptables_clean TOOL: remove the KUBE-* and CNI-* chains (kubelet,
# kube-proxy, the CNI bridge plugin) and the jumps to them.
iptables_clean() {
	local ipt=$1 t c rule
	command -v "$ipt" >/dev/null || return 0
	for t in filter nat mangle; do
		"$ipt" -t "$t" -S 2>/dev/null | grep -E -- '^-A [A-Z-]+ .*-j (KUBE|CNI)-' | grep -Ev '^-A (KUBE|CNI)-' |
			while read -r rule; do
				# shellcheck disable=SC2086 # the rule's words are the arguments
				"$ipt" -t "$t" -D ${rule#-A } 2>/dev/null || true
			done
		for c in $("$ipt" -t "$t" -S 2>/dev/null | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
			"$ipt" -t "$t" -F "$c" 2>/dev/null || true
		done
		for c in $("$ipt" -t "$t" -S 2>/dev/null | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
			"$ipt" -t "$t" -X "$c" 2>/dev/null || true
		done
	done
}

down() {
	# Best effort throughout: a step with nothing to undo is no failure,
	# and one that fails must not keep the others from running.
	set +e +o pipefail
	local t0=$SECONDS
	mkdir -p "$state/pids"
	stop kube-controller-manager
	stop kube-scheduler
	# Pods go through the kubelet, so that CNI DEL runs and their volumes
	# are unmounted.
	if [[ -f $state/pids/kubelet ]] && kubectl get --raw /readyz >/dev/null 2>&1; then
		log "deleting every pod through the kubelet"
		kubectl delete daemonsets,deployments,replicasets,jobs --all -A --wait=false >/dev/null 2>&1 || true
		kubectl delete pods --all -A --grace-period=1 --timeout=60s >/dev/null 2>&1 || true
		for _ in $(seq 60); do
			[[ -z $(ctr tasks ls -q 2>/dev/null) ]] && break
			sleep 1
		done
	fi
	stop kubelet
	stop kube-proxy
	[[ -x $bin/kube-proxy ]] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
	if [[ -S $sock ]]; then
		local id
		for id in $(ctr tasks ls -q 2>/dev/null); do
			ctr tasks kill -s KILL "$id" >/dev/null 2>&1 || true
			sleep 0.2
			ctr tasks delete "$id" >/dev/null 2>&1 || true
		done
	fi
	stop kube-apiserver
	stop etcd
	stop containerd
	# Mounts left under the cluster's directories (secret and
	# service-account volumes, overlay rootfs, shm, netns).
	{ grep -oE " ($state|$run|/run/netns/cni-)[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	local n
	for n in /run/netns/cni-*; do
		[[ -e $n ]] && ip netns delete "${n##*/}" 2>/dev/null || true
	done
	ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge" && log "deleted $bridge"
	iptables_clean iptables
	iptables_clean ip6tables
	# The kubelet's cgroups (cgroupfs driver).
	local cg
	for cg in /sys/fs/cgroup/*/kubepods*; do
		[[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	rm -f /var/lib/cni/results/rukou-cluster-* 2>/dev/null || true
	if [[ $(cat "$state/host-var-lib-cni" 2>/dev/null) == remove ]]; then rm -rf /var/lib/cni; fi
	if [[ $(cat "$state/host-run-containerd" 2>/dev/null) == remove ]]; then rm -rf /run/containerd; fi
	rm -rf "$run" "$state/cni"
	if [[ -f $state/host-sysctls ]]; then
		while IFS== read -r k v; do sysctl -qw "$k=$v" 2>/dev/null || log "could not reset $k to $v"; done <"$state/host-sysctls"
		rm -f "$state/host-sysctls" "$state/host-var-lib-cni" "$state/host-run-containerd"
	fi
	log "down in $((SECONDS - t0)) s"
}

case "${1:-}" in
up) up ;;
down) down ;;
images) images ;;
archives) archives "${2:?usage: cluster.sh archives DIR [NAME]}" "${3:-}" ;;
*)
	echo "usage: $0 up|down|images|archives DIR [NAME]" >&2
	exit 2
	;;
esac
