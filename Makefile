# rukou's developer entry points. `make help` lists them.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# The image deploy/rukou.yaml runs (a test keeps the two equal).
IMAGE   ?= ghcr.io/rukou/rukou:v0.1.0
DOCKER  ?= docker
KUBECTL ?= kubectl

.PHONY: help build tools test test-unit test-e2e bench run lint fmt clean image deploy golden

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/rukou and the demo backend bin/backend
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/rukou ./cmd/rukou
	$(GO) build -o bin/backend ./examples/backend

tools: ## install the pinned Envoy, kube-apiserver, kubectl and etcd into bin/ (skips what is there)
	bash test/tools/install.sh all

test: tools ## run every test, unit and end-to-end
	$(GO) vet ./...
	$(GO) test -count=1 ./...

test-unit: ## run the unit tests only (no tools needed)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test/)

test-e2e: tools ## run the end-to-end tests only
	$(GO) test -count=1 -v ./test/...

golden: ## rewrite the golden files (routing model, Envoy resources) and the annotations table; review the diff
	$(GO) test -count=1 ./translator/ingress -run TestGolden -update
	$(GO) test -count=1 ./translator/envoy -run TestGolden -update
	$(GO) test -count=1 ./translator/nginx -run TestDocsTable -update

bench: tools ## run the benchmarks, real Envoys included (results and commands: docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem ./translator/ ./xds/
	$(GO) test -run '^$$' -bench 'TranslateAndSnapshot' -benchmem -benchtime 5x -timeout 10m ./test/bench/
	$(GO) test -run '^$$' -bench 'Serve10k|Push10k' -benchtime 10x -timeout 15m ./test/bench/
	$(GO) test -run '^$$' -bench 'Cluster' -benchtime 1x -timeout 20m ./test/bench/
	$(GO) test -run '^$$' -bench 'LimitConnections' -benchtime 2000x -timeout 5m ./test/bench/

run: build ## the demo: two backends, rukou on examples/, and Envoy on 127.0.0.1:8080
	bash examples/run.sh

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...

fmt: ## format the code
	gofmt -w .

clean: ## remove built binaries (keeps the pinned tools)
	rm -f bin/rukou bin/backend

image: ## build the rukou image with Docker (IMAGE=ghcr.io/rukou/rukou:TAG to name it otherwise); push it yourself
	@command -v $(DOCKER) >/dev/null || { echo 'image: $(DOCKER) not found: install Docker (or set DOCKER=podman)'; exit 1; }
	$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

deploy: ## install rukou into the cluster of the current kubeconfig: kubectl apply -f deploy/rukou.yaml
	$(KUBECTL) apply -f deploy/rukou.yaml
