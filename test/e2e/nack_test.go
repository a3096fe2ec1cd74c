package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
	"github.com/rukou/rukou/xds"
)

// envoyListenersVersion is the version of the last listeners update Envoy
// accepted, from its config dump.
func envoyListenersVersion(t *testing.T, e *harness.Envoy) string {
	t.Helper()
	body, err := harness.GetOK("http://" + e.Admin.Address + "/config_dump")
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Configs []struct {
			Type        string `json:"@type"`
			VersionInfo string `json:"version_info"`
		} `json:"configs"`
	}
	if err := json.Unmarshal([]byte(body), &dump); err != nil {
		t.Fatal(err)
	}
	for _, c := range dump.Configs {
		if c.Type == "type.googleapis.com/envoy.admin.v3.ListenersConfigDump" {
			return c.VersionInfo
		}
	}
	t.Fatal("Envoy's config dump has no listeners")
	return ""
}

// holdPort listens on a free port of 127.0.0.1 until the test ends, so that
// an Envoy listener rukou puts there cannot bind.
func holdPort(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// rukouStatus reads rukou's /debug/xds.
func rukouStatus(t *testing.T, r *harness.Rukou) xds.Status {
	t.Helper()
	st, err := r.XDSStatus()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestXDSNACKKeepsServing makes Envoy reject listeners: the HTTPS listener,
// there from the first configuration as ingress-nginx always listens on
// 443, is on a port the test holds, as another program could on a node.
// Envoy must keep what it accepted (the plain HTTP listener) and keep
// getting its routes; a change while the port is taken is rejected too,
// and rukou must not send the rejected listeners again and again; once the
// port is free the next change, even one that leaves the listeners as they
// were, must bring a working HTTPS listener, default certificate included.
func TestXDSNACKKeepsServing(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			busy := holdPort(t)
			httpsPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
			s := &stack{dir: t.TempDir()}
			ca := newTestCA(t)
			s.apply(t, "web", join(backend(t, "web"), objs(ingress("web", rule("web.example", path(prefix, "/", "web")))))...)
			s.rukou = harness.StartRukou(t, "--watch-dir", s.dir, "--envoy-https-port", httpsPort, "--https-redirect-port", httpsPort)
			s.rukou.HTTPSPort = busy.Addr().(*net.TCPAddr).Port
			// Envoy's first configuration is the whole one, so that each
			// change below is one listeners update.
			harness.Eventually(t, 10*time.Second, "rukou serves web's routes", func() error {
				if st := rukouStatus(t, s.rukou); !st.RoutesCurrent || st.Types["clusters"].Resources != 1 {
					return fmt.Errorf("routes current %v, %d clusters", st.RoutesCurrent, st.Types["clusters"].Resources)
				}
				return nil
			})
			s.envoy = harness.StartEnvoy(t, s.rukou.XDSAddress, mode)
			// rejectedNow waits until Envoy has rejected the listeners rukou
			// serves now.
			rejectedNow := func() {
				t.Helper()
				harness.Eventually(t, 20*time.Second, "Envoy rejects the listeners rukou serves", func() error {
					st := rukouStatus(t, s.rukou)
					if !st.RoutesCurrent {
						return fmt.Errorf("routes not current yet")
					}
					if len(st.Nodes) != 1 || st.Nodes[0].LastNACK == nil || st.Nodes[0].LastNACK.Version != st.Types["listeners"].Version {
						return fmt.Errorf("listeners %s not rejected: %+v", st.Types["listeners"].Version, st.Nodes)
					}
					return nil
				})
			}

			t.Log("the first configuration: Envoy rejects the HTTPS listener, keeps the plain one and gets its routes")
			rejectedNow()
			s.expect(t, "web.example", "/", http.StatusOK, "web")
			kept := envoyListenersVersion(t, s.envoy)

			t.Log("a TLS Ingress while the port is taken: the new listeners are rejected, the accepted ones serve on")
			s.apply(t, "secure", join(backend(t, "secure"), objs(tlsIngress("secure", "secure.example", "secure"), ca.secret(t, "secure", 1, "secure.example")))...)
			harness.Eventually(t, 10*time.Second, "rukou serves the secure Ingress", func() error {
				if st := rukouStatus(t, s.rukou); !st.RoutesCurrent || st.Types["clusters"].Resources != 2 {
					return fmt.Errorf("routes current %v, %d clusters", st.RoutesCurrent, st.Types["clusters"].Resources)
				}
				return nil
			})
			rejectedNow()
			if r, err := harness.Get(s.rukou.HTTPPort, "web.example", "/"); err != nil || r.Status != http.StatusOK || r.Backend != "web" {
				t.Errorf("after the NACK web.example answers %d from %q (%v); want the last good configuration, 200 from web", r.Status, r.Backend, err)
			}
			if v := envoyListenersVersion(t, s.envoy); v != kept {
				t.Errorf("Envoy's listeners are version %q after the NACK, want the last accepted %q", v, kept)
			}

			t.Log("the port is freed, and the next change, of a plain HTTP Ingress, brings a working HTTPS listener")
			busy.Close()
			s.apply(t, "plain", join(backend(t, "plain"), objs(ingress("plain", rule("plain.example", path(prefix, "/", "plain")))))...)
			s.expect(t, "plain.example", "/", http.StatusOK, "plain")
			expectTLS(t, s, ca, "secure.example", "secure", 1)
			// The default chain's certificate was sent while Envoy had
			// rejected the only listener that named it: it must still reach
			// the HTTPS listener, which would otherwise stay warming.
			harness.Eventually(t, 5*time.Second, "an unknown SNI gets the default certificate", func() error {
				cert, err := handshake(s, "unknown.example", nil)
				if err != nil {
					return err
				}
				if got := cert.Subject.String(); got != fakeSubject {
					return fmt.Errorf("certificate %q", got)
				}
				return nil
			})

			t.Log("another TLS Ingress goes through")
			s.apply(t, "secure2", join(backend(t, "secure2"), objs(tlsIngress("secure2", "secure2.example", "secure2"), ca.secret(t, "secure2", 2, "secure2.example")))...)
			expectTLS(t, s, ca, "secure2.example", "secure2", 2)
			expectTLS(t, s, ca, "secure.example", "secure", 1)
			s.expect(t, "web.example", "/", http.StatusOK, "web")
			harness.Eventually(t, 10*time.Second, "Envoy holds the listeners rukou serves", func() error {
				if v, want := envoyListenersVersion(t, s.envoy), rukouStatus(t, s.rukou).Types["listeners"].Version; v != want {
					return fmt.Errorf("Envoy has listeners %q, rukou serves %q", v, want)
				}
				return nil
			})

			// A resend loop answers each NACK at once with the same
			// listeners: by now Envoy would have rejected them many times.
			if n := envoyStats(t, s.envoy)["listener_manager.lds.update_rejected"]; n != 2 {
				t.Errorf("Envoy rejected %d LDS updates, want 2 (the first configuration and the change while the port was taken): more means the rejected listeners were sent again and again", n)
			}
			if n := rukouMetrics(t, s.rukou).Sum("rukou_xds_nacks_total", "type", "listeners"); n != 2 {
				t.Errorf("rukou counted %v listener NACKs, want 2", n)
			}
		})
	}
}
