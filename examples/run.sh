#!/usr/bin/env bash
# `make run`: the demo. Two echo backends on 127.0.0.1:9081 and :9082, rukou
# serving the manifests in examples/, and Envoy on 127.0.0.1:8080 configured
# by `rukou bootstrap`. Runs until Ctrl-C, then stops everything it started.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash test/tools/install.sh envoy
[[ -x bin/rukou && -x bin/backend ]] || { echo "run: build first: make build" >&2; exit 1; }

run="$(mktemp -d)"
pids=()
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "run: stopping"
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT
# Ctrl-C is how the demo is meant to end: a stop, not an error.
trap 'exit 0' INT TERM

bin/backend --name hello --listen 127.0.0.1:9081 & pids+=($!)
bin/backend --name api --listen 127.0.0.1:9082 & pids+=($!)
bin/rukou serve --watch-dir examples --envoy-listen-address 127.0.0.1 \
	--xds-address 127.0.0.1:18000 --ops-address 127.0.0.1:18001 & pids+=($!)
bin/rukou bootstrap --xds-address 127.0.0.1:18000 --admin-address 127.0.0.1:9901 -o "$run/bootstrap.yaml"
bin/envoy -c "$run/bootstrap.yaml" --disable-hot-restart --log-level warn & pids+=($!)

for _ in $(seq 1 100); do
	if [[ "$(curl -s http://127.0.0.1:9901/ready 2>/dev/null)" == LIVE ]]; then
		break
	fi
	sleep 0.2
done

cat <<'MSG'

rukou is serving examples/*.yaml through Envoy on 127.0.0.1:8080. Try:

  curl -H 'Host: hello.local' http://127.0.0.1:8080/          # backend "hello"
  curl -H 'Host: hello.local' http://127.0.0.1:8080/api/users # backend "api"
  curl -H 'Host: hello.local' http://127.0.0.1:8080/apiary    # "hello": prefixes match whole path elements
  curl -i -H 'Host: nowhere.local' http://127.0.0.1:8080/     # 404: no Ingress for that host
  curl -H 'Host: rewrite.local' http://127.0.0.1:8080/something/new  # "hello" sees /new (rewrite-target /$2)
  for i in $(seq 8); do curl -s -o /dev/null -w '%{http_code} ' -H 'Host: limited.local' http://127.0.0.1:8080/; done  # about 6 x 200, then 503

Edit examples/hello.yaml or examples/rewrite.yaml and the routes follow within a second.
Envoy's admin UI:  http://127.0.0.1:9901/   (config_dump, clusters, stats)
rukou's view:      http://127.0.0.1:18002/debug/config   and http://127.0.0.1:18001/metrics

Press Ctrl-C to stop.
MSG

# Stop as soon as any of them exits (a busy port, say), or on Ctrl-C. Ctrl-C
# reaches every process of the group, and one that stops cleanly makes bash
# take the interrupt as handled: a clean exit is a stop, not a failure.
wait -n "${pids[@]}" && status=0 || status=$?
if ((status == 0)); then
	exit 0
fi
echo "run: a process exited with status $status; see its output above" >&2
exit 1
