// Command clustertool is the Go half of `make cluster-up` and `make image`
// (test/cluster/cluster.sh calls it):
//
//	clustertool pki -dir DIR -node-name NAME -node-ip IP
//	    the cluster's CA, certificates and kubeconfigs (package pki)
//	clustertool image -o FILE [-name REF] rukou BINARY
//	clustertool image -o FILE envoy BINARY
//	clustertool image -o FILE pause|backend|coredns BINARY
//	    an image archive for `ctr images import` and `docker load`
//	    (package image)
//
// It may import only the standard library and test/cluster's packages.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/rukou/rukou/test/cluster/image"
	"github.com/rukou/rukou/test/cluster/pki"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "pki":
		err = runPKI(os.Args[2:])
	case "image":
		err = runImage(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertool:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: clustertool pki -dir DIR -node-name NAME -node-ip IP\n       clustertool image -o FILE rukou|envoy|pause|backend|coredns BINARY")
	os.Exit(2)
}

func runPKI(args []string) error {
	fs := flag.NewFlagSet("pki", flag.ExitOnError)
	dir := fs.String("dir", "", "where to write the certificates and kubeconfigs")
	nodeName := fs.String("node-name", "", "the node's name")
	nodeIP := fs.String("node-ip", "", "the node's address (the API server listens there)")
	serviceIP := fs.String("service-ip", "10.96.0.1", "the kubernetes Service's ClusterIP")
	port := fs.Int("port", 6443, "the API server's secure port")
	_ = fs.Parse(args)
	ip, sip := net.ParseIP(*nodeIP), net.ParseIP(*serviceIP)
	if *dir == "" || *nodeName == "" || ip == nil || sip == nil {
		return fmt.Errorf("pki: -dir, -node-name, -node-ip (an IP address) are required")
	}
	return pki.Write(*dir, pki.Node{Name: *nodeName, IP: ip, ServiceIP: sip, Port: *port})
}

func runImage(args []string) error {
	fs := flag.NewFlagSet("image", flag.ExitOnError)
	out := fs.String("o", "", "the archive to write")
	ref := fs.String("name", "", "the image's name, fully qualified (default: the one deploy/rukou.yaml runs)")
	_ = fs.Parse(args)
	if *out == "" || fs.NArg() != 2 {
		usage()
	}
	kind, binary := fs.Arg(0), fs.Arg(1)
	var spec image.Spec
	switch kind {
	case "rukou":
		spec = image.Rukou(binary)
	case "envoy":
		var err error
		if spec, err = image.Envoy(binary); err != nil {
			return err
		}
	case "pause":
		spec = image.Static(image.PauseName, binary)
		spec.User = "65535:65535"
	case "backend":
		spec = image.Static(image.BackendName, binary)
		spec.User = "65532:65532"
	case "coredns":
		// As root: it binds port 53 in the pod.
		spec = image.Static(image.CoreDNSName, binary)
	default:
		return fmt.Errorf("image: unknown image %q", kind)
	}
	if *ref != "" {
		spec.Name = *ref
	}
	if err := image.WriteArchive(*out, spec); err != nil {
		return err
	}
	fmt.Printf("%s %s\n", spec.Name, *out)
	return nil
}
