// Command etcd runs the etcd server from go.etcd.io/etcd/server/v3, pinned by
// this module, for rukou's end-to-end tests.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
