# rukou's developer entry points. `make help` lists them.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# The image deploy/rukou.yaml runs (a test keeps the two equal).
IMAGE   ?= ghcr.io/rukou/rukou:v0.1.0
DOCKER  ?= docker
KUBECTL ?= kubectl

.PHONY: help build tools cluster-tools cluster-up cluster-down test test-unit test-e2e test-cluster bench bench-fanout bench-peers run lint fmt clean image image-archives deploy golden

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/rukou and the demo backend bin/backend
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/rukou ./cmd/rukou
	$(GO) build -o bin/backend ./examples/backend

tools: ## install the pinned Envoy, kube-apiserver, kubectl, etcd, oauth2-proxy, ratelimit and otelcol into bin/ (skips what is there)
	bash test/tools/install.sh all

cluster-tools: ## install what the one-node cluster runs: kubelet & co., CoreDNS, containerd, runc, CNI (needs root)
	bash test/tools/install.sh cluster

cluster-up: cluster-tools ## start a one-node Kubernetes cluster on this machine (root); prints its kubeconfig
	bash test/cluster/cluster.sh up

cluster-down: ## stop the one-node cluster and undo its changes to the host
	bash test/cluster/cluster.sh down

# The cluster's tutorial test runs alone, after the others: it starts the
# cluster itself when none is up (and stops it after). RACE_PACKAGES run a
# second time under the race detector: the ones whose goroutines share
# state (the xDS cache's endpoints changed in place, the batcher, serve).
RACE_PACKAGES = ./xds/ ./watcher/ ./cmd/rukou/ ./status/
test: tools cluster-tools ## run every test: unit, end-to-end, and the tutorial on a one-node cluster
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test/cluster)
	$(GO) test -count=1 -race $(RACE_PACKAGES)
	$(GO) test -count=1 -timeout 20m ./test/cluster/...

test-cluster: cluster-tools ## run the tutorial test on the one-node cluster (starts one when none is up)
	$(GO) test -count=1 -timeout 20m -v ./test/cluster/...

test-unit: ## run the unit tests only (no tools needed)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test/)
	$(GO) test -count=1 -race $(RACE_PACKAGES)

test-e2e: tools ## run the end-to-end tests only
	$(GO) test -count=1 -v ./test/...

golden: ## rewrite the golden files (routing model, Envoy resources) and the annotations, ConfigMap and flag tables; review the diff
	$(GO) test -count=1 ./translator/ingress -run TestGolden -update
	$(GO) test -count=1 ./translator/envoy -run TestGolden -update
	$(GO) test -count=1 ./translator/nginx -run "TestDocsTable|TestConfigMapDocs|TestFlagDocs" -update

bench: tools ## run the benchmarks, real Envoys included (results and commands: docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem ./translator/ ./xds/ ./migrate/ ./watcher/
	$(GO) test -run '^$$' -bench 'TranslateAndSnapshot' -benchmem -benchtime 5x -timeout 10m ./test/bench/
	$(GO) test -run '^$$' -bench 'NewIngress' -benchmem -benchtime 10x -timeout 10m ./test/bench/
	$(GO) test -run '^$$' -bench 'EndpointChange' -benchtime 40x -timeout 10m ./test/bench/
	$(GO) test -run '^$$' -bench 'Serve10k|Push10k' -benchtime 10x -timeout 15m ./test/bench/
	$(GO) test -run '^$$' -bench 'Cluster' -benchtime 1x -timeout 20m ./test/bench/
	$(GO) test -run '^$$' -bench 'LimitConnections' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'ExternalAuth' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'BasicAuthEnvoy' -benchtime 200x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'ClientCertificate' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'Mirror' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'GlobalRateLimit' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'ResponseRewrite' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'Retries' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'Hashing' -benchtime 2000x -timeout 5m ./test/bench/
	$(GO) test -run '^$$' -bench 'DataPlane$$' -benchtime 8x -timeout 15m ./test/bench/
	bash test/tools/install.sh valgrind
	$(GO) test -run '^$$' -bench 'DataPlaneInstructions' -benchtime 1x -timeout 20m ./test/bench/
	$(GO) test -run '^$$' -bench 'DataPlaneBudget' -benchtime 1x -timeout 30m ./test/bench/

bench-fanout: tools ## one rukou, 50 real Envoys: how long a change takes to reach the last one, what each Envoy costs rukou (about a minute here; docs/benchmarks.md)
	$(GO) test -run '^$$' -bench 'FanOut' -benchtime 5x -timeout 60m ./test/bench/ -fanout-envoys 50

bench-peers: tools ## run rukou and Contour (pinned in test/tools/install.sh) on the same API server and Envoy, 1,000 and 10,000 Ingresses; prints the ratios
	bash test/tools/install.sh contour
	$(GO) test -run '^$$' -bench 'Peers' -benchtime 1x -timeout 60m ./test/bench/

run: build ## the demo: two backends, rukou on examples/, and Envoy on 127.0.0.1:8080
	bash examples/run.sh

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...

fmt: ## format the code
	gofmt -w .

clean: ## remove built binaries (keeps the pinned tools)
	rm -f bin/rukou bin/backend

image: ## build the rukou image: with Docker when its daemon answers, else as archives in bin/image/ (image-archives)
	@if $(DOCKER) info >/dev/null 2>&1; then \
		echo '$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE) .'; \
		$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE) .; \
	else \
		echo 'image: no Docker daemon; writing bin/image/rukou.tar and bin/image/envoy.tar instead'; \
		$(MAKE) --no-print-directory image-archives; \
	fi

image-archives: ## write bin/image/rukou.tar (named IMAGE) and bin/image/envoy.tar without Docker, for ctr images import or docker load
	@test -x bin/envoy || bash test/tools/install.sh envoy
	VERSION=$(VERSION) bash test/cluster/cluster.sh archives bin/image $(IMAGE)

deploy: ## install rukou into the cluster of the current kubeconfig: kubectl apply -f deploy/rukou.yaml
	$(KUBECTL) apply -f deploy/rukou.yaml
