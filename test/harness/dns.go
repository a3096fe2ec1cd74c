package harness

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is a name server on 127.0.0.1 (UDP) that answers A queries from a
// table the test sets, so that Envoy can resolve test names without this
// machine's resolver (it has none) or /etc/hosts. Other names get
// NXDOMAIN; known names have no AAAA records.
type DNS struct {
	// Address is 127.0.0.1:PORT, for `rukou bootstrap --dns-resolvers`.
	Address string
	// TTL is the time to live of every answer, in seconds.
	TTL uint32

	mu      sync.Mutex
	records map[string]netip.Addr
	queries map[string]int
}

// StartDNS serves DNS until the test ends.
func StartDNS(t testing.TB) *DNS {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{Address: conn.LocalAddr().String(), TTL: 1, records: map[string]netip.Addr{}, queries: map[string]int{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.serve(conn)
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return d
}

// Set makes name (without the final dot) resolve to addr.
func (d *DNS) Set(name string, addr netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records[strings.ToLower(name)] = addr
}

// Queries returns how many queries (of any type) asked for name.
func (d *DNS) Queries(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[strings.ToLower(name)]
}

func (d *DNS) serve(conn net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return // closed at the test's end
		}
		if answer, ok := d.answer(buf[:n]); ok {
			_, _ = conn.WriteTo(answer, from)
		}
	}
}

// answer builds the response to one query message; ok is false for what
// cannot be parsed, which is dropped as a real server would.
func (d *DNS) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	d.mu.Lock()
	addr, known := d.records[name]
	d.queries[name]++
	d.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if known && q.Type == dnsmessage.TypeA && addr.Is4() {
		rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: d.TTL}
		if b.AResource(rr, dnsmessage.AResource{A: addr.As4()}) != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
