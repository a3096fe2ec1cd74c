package limiter

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	envoy_service_ext_proc_v3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/rukou/rukou/limiter/wire"
)

// request is one HTTP request as Envoy's filter presents it: a stream whose
// first message is the request headers, which stays open until end is
// closed.
type request struct {
	grpc.ServerStream
	ctx   context.Context
	first *envoy_service_ext_proc_v3.ProcessingRequest
	sent  chan *envoy_service_ext_proc_v3.ProcessingResponse
	more  chan *envoy_service_ext_proc_v3.ProcessingRequest
	end   chan struct{}
	// endErr is what Recv returns once end is closed: io.EOF for a request
	// that is done, another error for one that was reset.
	endErr error
	done   chan struct{}
}

func newRequest(envoy, client string, md ...string) *request {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(md...))
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP(envoy), Port: 40000}})
	attrs, _ := structpb.NewStruct(map[string]any{wire.ClientAddressAttribute: client + ":51234"})
	return &request{
		ctx: ctx,
		first: &envoy_service_ext_proc_v3.ProcessingRequest{
			Request:    &envoy_service_ext_proc_v3.ProcessingRequest_RequestHeaders{RequestHeaders: &envoy_service_ext_proc_v3.HttpHeaders{}},
			Attributes: map[string]*structpb.Struct{filterName: attrs},
		},
		sent:   make(chan *envoy_service_ext_proc_v3.ProcessingResponse, 4),
		more:   make(chan *envoy_service_ext_proc_v3.ProcessingRequest),
		end:    make(chan struct{}),
		endErr: io.EOF,
		done:   make(chan struct{}),
	}
}

func (r *request) Context() context.Context { return r.ctx }
func (r *request) Send(m *envoy_service_ext_proc_v3.ProcessingResponse) error {
	r.sent <- m
	return nil
}

func (r *request) Recv() (*envoy_service_ext_proc_v3.ProcessingRequest, error) {
	if m := r.first; m != nil {
		r.first = nil
		return m, nil
	}
	select {
	case m := <-r.more:
		return m, nil
	case <-r.end:
		return nil, r.endErr
	}
}

// start runs the request through l and returns whether it may go on.
func (r *request) start(t *testing.T, l *Limiter) bool {
	t.Helper()
	go func() {
		defer close(r.done)
		if err := l.Process(r); err != nil {
			t.Errorf("Process: %v", err)
		}
	}()
	select {
	case m := <-r.sent:
		if ir := m.GetImmediateResponse(); ir != nil {
			if ir.GetStatus().GetCode() != 503 {
				t.Errorf("refused with %v, want 503", ir.GetStatus().GetCode())
			}
			return false
		}
		if m.GetRequestHeaders() == nil {
			t.Errorf("answer %v, want a request headers answer", m)
		}
		return true
	case <-time.After(5 * time.Second):
		t.Fatal("the limiter did not answer")
		return false
	}
}

// finish ends the request and waits for the limiter to let go of it.
func (r *request) finish() {
	select {
	case <-r.done: // refused: the limiter is done with it already
	default:
		close(r.end)
		<-r.done
	}
}

func limited(n, scope string, extra ...string) []string {
	return append([]string{wire.LimitConnectionsKey, n, wire.LimitScopeKey, scope}, extra...)
}

func TestLimiterCountsRequestsInFlight(t *testing.T) {
	l := New(slog.New(slog.DiscardHandler))
	md := limited("2", "shop/web")
	a, b := newRequest("10.0.0.1", "192.0.2.7", md...), newRequest("10.0.0.1", "192.0.2.7", md...)
	if !a.start(t, l) || !b.start(t, l) {
		t.Fatal("the first 2 requests of a client were refused with a limit of 2")
	}
	over := newRequest("10.0.0.1", "192.0.2.7", md...)
	if over.start(t, l) {
		t.Error("a third request in flight was let through with a limit of 2")
	}
	over.finish()
	t.Run("other_client_envoy_and_ingress_count_apart", func(t *testing.T) {
		for _, r := range []*request{
			newRequest("10.0.0.1", "192.0.2.8", md...),
			newRequest("10.0.0.2", "192.0.2.7", md...),
			newRequest("10.0.0.1", "192.0.2.7", limited("2", "shop/api")...),
		} {
			if !r.start(t, l) {
				t.Error("a request counted apart was refused")
			}
			r.finish()
		}
	})
	a.finish()
	next := newRequest("10.0.0.1", "192.0.2.7", md...)
	if !next.start(t, l) {
		t.Error("a request was refused after one of the client's two had ended")
	}
	b.finish()
	next.finish()
	if n := l.InFlight(); n != 0 {
		t.Errorf("%d requests counted in flight after all ended", n)
	}
}

func TestLimiterLetsUncountedRequestsThrough(t *testing.T) {
	l := New(slog.New(slog.DiscardHandler))
	for name, md := range map[string][]string{
		"exempt_client":    limited("1", "shop/web", wire.LimitExemptKey, "192.0.2.0/24,2001:db8::/32"),
		"no_limit_given":   {wire.LimitScopeKey, "shop/web"},
		"unreadable_limit": limited("many", "shop/web"),
	} {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				if !newRequest("10.0.0.1", "192.0.2.7", md...).start(t, l) {
					t.Fatal("refused")
				}
			}
			if n := l.InFlight(); n != 0 {
				t.Errorf("%d requests counted", n)
			}
		})
	}
}

// TestLimiterAnswersResponseHeadersAndReleasesOnReset: Envoy's response
// headers get the answer of their own type (any other would be a protocol
// error that Envoy lets through unseen), and a request that is reset no
// longer counts.
func TestLimiterAnswersResponseHeadersAndReleasesOnReset(t *testing.T) {
	l := New(slog.New(slog.DiscardHandler))
	r := newRequest("10.0.0.1", "192.0.2.7", limited("1", "shop/web")...)
	if !r.start(t, l) {
		t.Fatal("the first request was refused")
	}
	r.more <- &envoy_service_ext_proc_v3.ProcessingRequest{
		Request: &envoy_service_ext_proc_v3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &envoy_service_ext_proc_v3.HttpHeaders{}},
	}
	if m := <-r.sent; m.GetResponseHeaders() == nil {
		t.Errorf("answer to the response headers: %v, want a response headers answer", m)
	}
	if n := l.InFlight(); n != 1 {
		t.Errorf("%d requests in flight while the response is on its way, want 1", n)
	}
	r.endErr = context.Canceled
	r.finish()
	if n := l.InFlight(); n != 0 {
		t.Errorf("%d requests in flight after a reset, want 0", n)
	}
	if !newRequest("10.0.0.1", "192.0.2.7", limited("1", "shop/web")...).start(t, l) {
		t.Error("the client was refused after its only request was reset")
	}
}

// TestStatusOfRefusals: limit-conn-status-code reaches the limiter as
// metadata; a status Envoy cannot send, or none, gives 503.
func TestStatusOfRefusals(t *testing.T) {
	for v, want := range map[string]int32{"": 503, "429": 429, "503": 503, "599": 503, "302": 503, "418": 503, "x": 503, "404": 404} {
		if got := int32(statusOf(v)); got != want {
			t.Errorf("statusOf(%q) = %d, want %d", v, got, want)
		}
	}
}
