package xds

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// The node book keeps, for every open ADS stream, what was sent on it and
// what its Envoy acknowledged or rejected. Make-before-break reads it to know
// when every Envoy has taken a step; /debug/xds and the metrics show it.

// streamKey names one ADS stream. go-control-plane numbers delta and
// state-of-the-world streams separately, so the flavour is part of the key.
type streamKey struct {
	delta bool
	id    int64
}

func (k streamKey) mode() string {
	if k.delta {
		return "delta"
	}
	return "sotw"
}

type stream struct {
	node   string // empty until the first request names it
	opened time.Time
	kinds  [numKinds]streamKind
}

type streamKind struct {
	// inflight are the responses sent and not yet answered, oldest first.
	inflight []sent
	// everSent is set once a response of this kind went out on the stream.
	everSent bool
	// acked is the last version the Envoy acknowledged.
	acked string
	// warm holds the warming clusters whose endpoints this delta stream
	// has acknowledged (see book.warming).
	warm map[string]bool
}

// sent is one response on a stream.
type sent struct {
	nonce, version string
	// names are the warming clusters the response carried endpoints for.
	names []string
}

// maxInflight bounds the responses remembered per stream and type. Envoy
// answers each response, so more than a handful means answers were lost.
const maxInflight = 16

// recentVersions bounds how many served versions per type keep their
// generation; an older version counts as generation 0, which only makes
// make-before-break wait for its time bound.
const recentVersions = 64

type versionGen struct {
	version string
	gen     uint64
}

type nodeRecord struct {
	nacks    int
	lastNACK *NACK
}

// NACK is one configuration an Envoy rejected.
type NACK struct {
	// Type is the resource type: listeners, routes, clusters, endpoints or secrets.
	Type string `json:"type"`
	// Version is the version that was rejected.
	Version string `json:"version"`
	// Nonce is the nonce of the rejected response.
	Nonce string `json:"nonce"`
	// Message is Envoy's error_detail.
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// NodeStatus is what /debug/xds shows for one connected Envoy node.
type NodeStatus struct {
	ID      string         `json:"id"`
	Streams []StreamStatus `json:"streams"`
	// Acked is the version of each type the node last acknowledged, on its
	// newest stream.
	Acked    map[string]string `json:"acked"`
	NACKs    int               `json:"nacks"`
	LastNACK *NACK             `json:"lastNack,omitempty"`
}

// StreamStatus is one open ADS stream of a node.
type StreamStatus struct {
	ID     int64     `json:"id"`
	Mode   string    `json:"mode"`
	Opened time.Time `json:"opened"`
}

// book is the per-stream and per-node bookkeeping. Its lock is never held
// while a snapshot is set: go-control-plane calls the callbacks that feed the
// book from the stream goroutines that SetSnapshot may wait for.
type book struct {
	mu      sync.Mutex
	streams map[streamKey]*stream
	nodes   map[string]*nodeRecord
	// warming are the clusters the cache waits to see warm on every Envoy
	// before routes may use them; delta responses are checked against it.
	warming map[string]bool
	// recent maps the versions served lately to the last generation that
	// served them, per type.
	recent [numKinds][]versionGen
}

func newBook() *book {
	return &book{streams: map[streamKey]*stream{}, nodes: map[string]*nodeRecord{}, warming: map[string]bool{}}
}

func (b *book) open(key streamKey, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.streams[key] = &stream{opened: now}
}

func (b *book) close(key streamKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.streams[key]
	delete(b.streams, key)
	if st == nil || st.node == "" {
		return
	}
	for _, other := range b.streams {
		if other.node == st.node {
			return
		}
	}
	delete(b.nodes, st.node)
}

// counts returns the open streams and the distinct nodes behind them.
func (b *book) counts() (streams, nodes int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.streams), len(b.nodes)
}

// answer is what one request from an Envoy meant.
type answer struct {
	ack  bool
	nack *NACK
	// node is the stream's node id.
	node string
}

// request records a request on a stream: an ACK of a response (nonce set,
// no error), a NACK (error set), or a first request or subscription change.
// version is the request's version_info (state of the world only).
func (b *book) request(key streamKey, nodeID string, k kind, version, nonce, errMsg string, now time.Time) answer {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.streams[key]
	if st == nil {
		return answer{}
	}
	if st.node == "" && nodeID != "" {
		st.node = nodeID
		if b.nodes[nodeID] == nil {
			b.nodes[nodeID] = &nodeRecord{}
		}
	}
	sk := &st.kinds[k]
	var answered *sent
	if nonce != "" {
		for i := range sk.inflight {
			if sk.inflight[i].nonce == nonce {
				a := sk.inflight[i]
				answered = &a
				sk.inflight = sk.inflight[i+1:]
				break
			}
		}
	}
	if errMsg != "" {
		n := &NACK{Type: k.String(), Nonce: nonce, Message: errMsg, Time: now}
		if answered != nil {
			n.Version = answered.version
		}
		if rec := b.nodes[st.node]; rec != nil {
			rec.nacks++
			rec.lastNACK = n
		}
		return answer{nack: n, node: st.node}
	}
	switch {
	case !key.delta && version != "":
		// State of the world names the version it holds, also on the first
		// request after a reconnect.
		sk.acked = version
	case key.delta && answered != nil:
		sk.acked = answered.version
	default:
		return answer{node: st.node}
	}
	if answered != nil {
		for _, name := range answered.names {
			if sk.warm == nil {
				sk.warm = map[string]bool{}
			}
			sk.warm[name] = true
		}
	}
	return answer{ack: answered != nil || !key.delta, node: st.node}
}

// response records a response sent on a stream. names are the resources of
// a delta response; only warming clusters among them are kept.
func (b *book) response(key streamKey, k kind, nonce, version string, names []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.streams[key]
	if st == nil {
		return
	}
	s := sent{nonce: nonce, version: version}
	if k == endpoints && len(b.warming) > 0 {
		for _, name := range names {
			if b.warming[name] {
				s.names = append(s.names, name)
			}
		}
	}
	sk := &st.kinds[k]
	sk.everSent = true
	if len(sk.inflight) == maxInflight {
		sk.inflight = slices.Delete(sk.inflight, 0, 1)
	}
	sk.inflight = append(sk.inflight, s)
}

// served records that generation gen serves versions.
func (b *book) served(gen uint64, versions [numKinds]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range versions {
		r := slices.DeleteFunc(b.recent[k], func(e versionGen) bool { return e.version == v })
		if len(r) == recentVersions {
			r = slices.Delete(r, 0, 1)
		}
		b.recent[k] = append(r, versionGen{v, gen})
	}
}

// genOf returns the last generation that served version v of kind k, or 0.
// Call with b.mu held.
func (b *book) genOf(k kind, v string) uint64 {
	for _, e := range b.recent[k] {
		if e.version == v {
			return e.gen
		}
	}
	return 0
}

// setWarming replaces the set of warming clusters. Names that left it are
// forgotten by every stream.
func (b *book) setWarming(names map[string]step) {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.warming)
	for name := range names {
		b.warming[name] = true
	}
	for _, st := range b.streams {
		for name := range st.kinds[endpoints].warm {
			if !b.warming[name] {
				delete(st.kinds[endpoints].warm, name)
			}
		}
	}
}

// secretsOnly says the stream was only ever sent secrets: rukou
// limiter's SDS stream, as an Envoy asks for secrets only once it has the
// listeners that name them.
func (st *stream) secretsOnly() bool {
	for k := range numKinds {
		if sent := st.kinds[k].everSent || st.kinds[k].acked != ""; sent != (k == secrets) {
			return false
		}
	}
	return true
}

// warm reports whether every Envoy has acknowledged the endpoints of
// cluster name, first served in generation added, so that its cluster has
// left warming and routes may send traffic to it.
func (b *book) warm(name string, added uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, st := range b.streams {
		if st.node == "" {
			continue // it asks for everything once it speaks
		}
		if st.secretsOnly() {
			continue // rukou limiter's SDS stream: no cluster to warm
		}
		ek := &st.kinds[endpoints]
		if key.delta {
			if !ek.warm[name] {
				return false
			}
			continue
		}
		// A state-of-the-world endpoints response goes out only when the
		// Envoy asked for every assignment in the snapshot, so an ACK of a
		// version served since the cluster was added covers it.
		if b.genOf(endpoints, ek.acked) < added {
			return false
		}
	}
	return true
}

// routesSince reports whether every Envoy that has routes has acknowledged
// a route version served in generation gen or later, and likewise for
// listeners, whose TCP and UDP proxies name clusters too. A version that
// did not change is served again by every generation, so only the kinds
// that changed wait.
func (b *book) routesSince(gen uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range b.streams {
		for _, k := range []kind{listeners, routes} {
			sk := &st.kinds[k]
			if !sk.everSent && sk.acked == "" {
				continue // none, so none that use an old cluster
			}
			if b.genOf(k, sk.acked) < gen {
				return false
			}
		}
	}
	return true
}

// status lists the connected nodes for /debug/xds.
func (b *book) status() []NodeStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	byID := map[string]*NodeStatus{}
	newest := map[string]time.Time{}
	for key, st := range b.streams {
		if st.node == "" {
			continue
		}
		ns := byID[st.node]
		if ns == nil {
			ns = &NodeStatus{ID: st.node, Acked: map[string]string{}}
			if rec := b.nodes[st.node]; rec != nil {
				ns.NACKs, ns.LastNACK = rec.nacks, rec.lastNACK
			}
			byID[st.node] = ns
		}
		ns.Streams = append(ns.Streams, StreamStatus{ID: key.id, Mode: key.mode(), Opened: st.opened})
		if st.opened.After(newest[st.node]) || len(ns.Streams) == 1 {
			newest[st.node] = st.opened
			clear(ns.Acked)
			for k := range numKinds {
				if v := st.kinds[k].acked; v != "" {
					ns.Acked[k.String()] = v
				}
			}
		}
	}
	out := make([]NodeStatus, 0, len(byID))
	for _, ns := range byID {
		slices.SortFunc(ns.Streams, func(x, y StreamStatus) int { return x.Opened.Compare(y.Opened) })
		out = append(out, *ns)
	}
	slices.SortFunc(out, func(x, y NodeStatus) int { return cmp.Compare(x.ID, y.ID) })
	return out
}
