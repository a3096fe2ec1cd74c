// Package e2e holds rukou's end-to-end tests: a real rukou, a real Envoy
// 1.40, a real kube-apiserver and etcd where a cluster is needed, and real
// HTTP traffic on 127.0.0.1 (and to network namespaces the tests create).
package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/rukou/rukou/test/harness"
)

func TestMain(m *testing.M) {
	if err := harness.BuildBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// modes are the two ADS flavours every routing test runs in.
var modes = []string{"delta", "sotw"}
