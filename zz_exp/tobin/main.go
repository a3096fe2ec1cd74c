package main

import (
	"os"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func main() {
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var bs bootstrapv3.Bootstrap
		if err := protojson.Unmarshal(b, &bs); err != nil {
			panic(err)
		}
		out, err := proto.Marshal(&bs)
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(f[:len(f)-5]+".pb", out, 0o644); err != nil {
			panic(err)
		}
	}
}
