// Package envoy is the Envoy backend: it renders the routing model of
// package ir into Envoy's xDS resources (listeners, route configurations,
// clusters, endpoint assignments, secrets), one file per resource or HTTP
// filter, and checks them with the Envoy API's own validation. It decides
// only how to say something in Envoy's terms (which proto field, which
// filter, which quirk to work around); what to say comes from the model.
//
// It may import package ir, the Envoy protos, protobuf and the limiter's
// wire constants; never the Kubernetes API nor a frontend.
package envoy
