//go:build tools

// Package tools pins the Kubernetes commands that the end-to-end tests run.
// `make tools` builds them with `go build` from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
