// Command pause is the sandbox process of every pod in the one-node cluster
// (containerd's sandbox_image): it holds the pod's namespaces, reaps the
// orphans handed to it, and exits on SIGTERM or SIGINT.
//
// It may import only the standard library.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
