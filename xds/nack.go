package xds

import (
	"slices"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
)

// nackCache is go-control-plane's snapshot cache, made to wait for a new
// snapshot after a state-of-the-world NACK instead of answering it.
//
// A NACK carries in version_info the version Envoy still holds, not the one
// it rejected. The snapshot cache answers every watch whose version differs
// from the snapshot's at once, so it would send the very configuration just
// rejected, Envoy would reject it again, and so on for ever. Each watch a
// NACK opens is therefore created as though Envoy held the rejected
// version: the cache then answers only once the snapshot moves on.
//
// Delta watches go to the cache unchanged: the delta server counts the
// rejected resources as delivered already, so the cache sends them again
// only when they change. Rejected listeners get new versions with the next
// change that is not only of endpoints (resendListeners), in both modes.
//
// A state-of-the-world request that names nothing, for a type Envoy asks for
// only by name (routes, secrets, endpoints), gets no watch either: Envoy
// watches nothing of that type, as after it rejected the only listener with
// TLS. The cache would answer it with every resource of the type, Envoy
// would ignore them ("Ignoring unwatched type URL") and ask again at once,
// a loop as fast as the stream goes. Once a listener names a secret again,
// Envoy asks for it and gets it.
type nackCache struct {
	cachev3.SnapshotCache
}

// CreateWatch opens a state-of-the-world watch; for a NACK, on the version
// Envoy rejected (see nackCache). The server's request is never modified: it
// belongs to go-control-plane, which may still read it.
func (c nackCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	if len(req.GetResourceNames()) == 0 && !sub.IsWildcard() && slices.Contains(namedTypes, req.GetTypeUrl()) {
		return func() {}, nil
	}
	if v, ok := rejectedVersion(req, sub); ok && v != req.GetVersionInfo() {
		claim := proto.Clone(req).(*cachev3.Request)
		claim.VersionInfo = v
		req = claim
	}
	return c.SnapshotCache.CreateWatch(req, sub, out)
}

// rejectedVersion is the version of the response that req rejects, when req
// is a NACK. go-control-plane's server drops requests whose nonce is not
// that of the last response on the stream before it opens a watch, so a
// NACK that reaches the cache rejects that last response; and the
// subscription's returned resources are those of that response, each with
// the response's version. ok is false when req is no NACK, or when no single
// version can be told (no resource was returned), and the cache then
// decides as it would without rukou.
func rejectedVersion(req *cachev3.Request, sub cachev3.Subscription) (version string, ok bool) {
	if req.GetErrorDetail() == nil || sub == nil {
		return "", false
	}
	for _, v := range sub.ReturnedResources() {
		switch {
		case version == "":
			version = v
		case v != version:
			return "", false
		}
	}
	return version, version != ""
}
