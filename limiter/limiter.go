// Package limiter is the helper Envoy asks about requests: it counts, for
// limit-connections, the requests each client has in flight through an
// Envoy, and refuses those over a route's limit (Limiter, over ext_proc);
// and it asks a route's auth service about each request, for auth-url
// (Auth, over ext_authz's gRPC protocol; see auth.go).
//
// Envoy's external processing filter opens one gRPC stream per request of a
// limited route. It sends the request headers, then the response headers,
// and ends the stream once it has nothing more to send: Envoy 1.40 closes it
// after the answer to the response headers (its runtime feature
// ext_proc_stream_close_optimization, on by default), or when the request
// is reset. The stream's metadata carries the route's limit (see
// wire.LimitConnectionsKey); its first message carries the client
// address. The limiter counts a request from its first message to the end
// of its stream, per Envoy (the stream's peer address), Ingress and client
// address, as nginx's limit_conn counts per nginx, zone and client address.
//
// It may import gRPC, the Envoy ext_proc and ext_authz protos, Prometheus and
// limiter/wire; never the translator.
package limiter

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"

	envoy_service_ext_proc_v3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	envoy_type_v3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/rukou/rukou/limiter/wire"
)

// filterName is the key of the attributes Envoy's filter sends.
const filterName = "envoy.filters.http.ext_proc"

// key is what one count is kept for.
type key struct {
	envoy  netip.Addr
	scope  string
	client netip.Addr
}

// Limiter is the external processing service that counts.
type Limiter struct {
	envoy_service_ext_proc_v3.UnimplementedExternalProcessorServer

	log *slog.Logger

	mu       sync.Mutex
	inFlight map[key]uint32

	requests *prometheus.CounterVec
	active   prometheus.GaugeFunc
}

// New returns a Limiter with nothing counted.
func New(log *slog.Logger) *Limiter {
	l := &Limiter{
		log:      log,
		inFlight: map[key]uint32{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rukou_limit_connections_requests_total",
			Help: "Requests of routes with limit-connections that the limiter decided, by result (counted, rejected, exempt, unknown).",
		}, []string{"result"}),
	}
	// Every result at 0 from the start, for dashboards and alerts.
	for _, result := range []string{"counted", "rejected", "exempt", "unknown"} {
		l.requests.WithLabelValues(result)
	}
	l.active = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rukou_limit_connections_in_flight",
		Help: "Requests the limiter counts as in flight now, over all Envoys, Ingresses and clients.",
	}, func() float64 { return float64(l.InFlight()) })
	return l
}

// Register adds the service to a gRPC server.
func (l *Limiter) Register(s grpc.ServiceRegistrar) {
	envoy_service_ext_proc_v3.RegisterExternalProcessorServer(s, l)
}

// Collectors returns the limiter's metrics, for a Prometheus registry.
func (l *Limiter) Collectors() []prometheus.Collector {
	return []prometheus.Collector{l.requests, l.active}
}

// InFlight is the number of requests counted now.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.inFlight {
		n += int(c)
	}
	return n
}

// Process decides one request. A request the limiter cannot place (no
// limit in the metadata, no client address) goes on uncounted: the limit
// is protection, and a request is never refused for want of it.
func (l *Limiter) Process(stream envoy_service_ext_proc_v3.ExternalProcessor_ProcessServer) error {
	first, err := stream.Recv()
	if err != nil {
		return nil // Envoy gave up on the request before asking
	}
	k, limit, status, ok := l.place(stream, first)
	switch {
	case !ok:
		l.requests.WithLabelValues("unknown").Inc()
		return proceed(stream, first)
	case limit == 0:
		l.requests.WithLabelValues("exempt").Inc()
		return proceed(stream, first)
	}
	if !l.take(k, limit) {
		l.requests.WithLabelValues("rejected").Inc()
		return stream.Send(&envoy_service_ext_proc_v3.ProcessingResponse{
			Response: &envoy_service_ext_proc_v3.ProcessingResponse_ImmediateResponse{ImmediateResponse: &envoy_service_ext_proc_v3.ImmediateResponse{
				Status:  &envoy_type_v3.HttpStatus{Code: status},
				Details: "rukou_limit_connections",
			}},
		})
	}
	l.requests.WithLabelValues("counted").Inc()
	defer l.release(k)
	if err := stream.Send(continueWith(first)); err != nil {
		return nil
	}
	// The request is in flight until Envoy ends the stream, when it is
	// done or reset. Anything else Envoy sends goes on unchanged.
	for {
		msg, err := stream.Recv()
		if err != nil {
			return nil
		}
		if err := stream.Send(continueWith(msg)); err != nil {
			return nil
		}
	}
}

// place reads the count a request belongs to, the route's limit and the
// status of requests over it; limit zero means the client is exempt.
func (l *Limiter) place(stream grpc.ServerStream, first *envoy_service_ext_proc_v3.ProcessingRequest) (k key, limit uint32, status envoy_type_v3.StatusCode, ok bool) {
	md, _ := metadata.FromIncomingContext(stream.Context())
	one := func(name string) string {
		if v := md.Get(name); len(v) == 1 {
			return v[0]
		}
		return ""
	}
	n, err := strconv.ParseUint(one(wire.LimitConnectionsKey), 10, 32)
	if err != nil || n == 0 {
		return key{}, 0, 0, false
	}
	k.scope = one(wire.LimitScopeKey)
	client := first.GetAttributes()[filterName].GetFields()[wire.ClientAddressAttribute].GetStringValue()
	if k.client, ok = hostOf(client); !ok {
		return key{}, 0, 0, false
	}
	if p, found := peer.FromContext(stream.Context()); found && p.Addr != nil {
		k.envoy, _ = hostOf(p.Addr.String())
	}
	exempt, err := wire.ParsePrefixes(one(wire.LimitExemptKey))
	if err != nil {
		l.log.Warn("limit-connections: exempt ranges unreadable; counting the client", "scope", k.scope, "error", err)
	}
	for _, p := range exempt {
		if p.Contains(k.client) {
			return k, 0, 0, true
		}
	}
	return k, uint32(n), statusOf(one(wire.LimitStatusKey)), true
}

// statusOf reads the status of refused requests: an HTTP error status
// that Envoy's enumeration has, else 503.
func statusOf(v string) envoy_type_v3.StatusCode {
	n, err := strconv.ParseInt(v, 10, 32)
	if _, defined := envoy_type_v3.StatusCode_name[int32(n)]; err != nil || n < 400 || n > 599 || !defined {
		return envoy_type_v3.StatusCode_ServiceUnavailable
	}
	return envoy_type_v3.StatusCode(n)
}

// hostOf is the address of "host:port", or of a bare address.
func hostOf(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// take counts one more request for k unless k is at its limit.
func (l *Limiter) take(k key, limit uint32) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[k] >= limit {
		return false
	}
	l.inFlight[k]++
	return true
}

// release counts one request of k done; a client with none in flight is
// forgotten, so the map holds only clients with requests in flight.
func (l *Limiter) release(k key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[k] <= 1 {
		delete(l.inFlight, k)
		return
	}
	l.inFlight[k]--
}

// proceed lets an uncounted request go on; returning then closes the
// stream, which tells Envoy to ask nothing more.
func proceed(stream envoy_service_ext_proc_v3.ExternalProcessor_ProcessServer, first *envoy_service_ext_proc_v3.ProcessingRequest) error {
	stream.Send(continueWith(first)) //nolint:errcheck // Envoy gave up on the request
	return nil
}

// continueWith answers a message of Envoy's with "go on unchanged".
func continueWith(req *envoy_service_ext_proc_v3.ProcessingRequest) *envoy_service_ext_proc_v3.ProcessingResponse {
	cont := &envoy_service_ext_proc_v3.CommonResponse{}
	switch req.Request.(type) {
	case *envoy_service_ext_proc_v3.ProcessingRequest_RequestHeaders:
		return &envoy_service_ext_proc_v3.ProcessingResponse{Response: &envoy_service_ext_proc_v3.ProcessingResponse_RequestHeaders{
			RequestHeaders: &envoy_service_ext_proc_v3.HeadersResponse{Response: cont}}}
	case *envoy_service_ext_proc_v3.ProcessingRequest_ResponseHeaders:
		return &envoy_service_ext_proc_v3.ProcessingResponse{Response: &envoy_service_ext_proc_v3.ProcessingResponse_ResponseHeaders{
			ResponseHeaders: &envoy_service_ext_proc_v3.HeadersResponse{Response: cont}}}
	case *envoy_service_ext_proc_v3.ProcessingRequest_RequestBody:
		return &envoy_service_ext_proc_v3.ProcessingResponse{Response: &envoy_service_ext_proc_v3.ProcessingResponse_RequestBody{
			RequestBody: &envoy_service_ext_proc_v3.BodyResponse{Response: cont}}}
	case *envoy_service_ext_proc_v3.ProcessingRequest_ResponseBody:
		return &envoy_service_ext_proc_v3.ProcessingResponse{Response: &envoy_service_ext_proc_v3.ProcessingResponse_ResponseBody{
			ResponseBody: &envoy_service_ext_proc_v3.BodyResponse{Response: cont}}}
	case *envoy_service_ext_proc_v3.ProcessingRequest_RequestTrailers:
		return &envoy_service_ext_proc_v3.ProcessingResponse{Response: &envoy_service_ext_proc_v3.ProcessingResponse_RequestTrailers{
			RequestTrailers: &envoy_service_ext_proc_v3.TrailersResponse{}}}
	default:
		return &envoy_service_ext_proc_v3.ProcessingResponse{Response: &envoy_service_ext_proc_v3.ProcessingResponse_ResponseTrailers{
			ResponseTrailers: &envoy_service_ext_proc_v3.TrailersResponse{}}}
	}
}
