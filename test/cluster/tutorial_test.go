package cluster_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTutorial runs docs/install.md on the one-node cluster, step by step
// as the page shows them, then what only a real cluster shows: rollouts
// under load, leader failover, endpoint changes, RBAC and the admin API's
// reach. The steps share the cluster, so they run in order and stop at
// the first that fails.
func TestTutorial(t *testing.T) {
	manifest := filepath.Join(root, "deploy", "rukou.yaml")
	hello := filepath.Join(root, "examples", "tutorial", "hello.yaml")
	helloTLS := filepath.Join(root, "examples", "tutorial", "hello-tls.yaml")
	// A cluster left from an earlier run: start from an empty one.
	_, _ = kubectlErr("delete", "--ignore-not-found", "--wait", "--timeout=120s", "-f", hello)
	_, _ = kubectlErr("delete", "--ignore-not-found", "--wait", "--timeout=120s", "-f", manifest)

	nodeIP := strings.TrimSpace(kubectl(t, "get", "nodes", "-o", `jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}`))
	if net.ParseIP(nodeIP) == nil {
		t.Fatalf("the node's InternalIP is %q", nodeIP)
	}
	httpURL := "http://" + net.JoinHostPort(nodeIP, "30080") + "/"
	httpsURL := "https://" + net.JoinHostPort(nodeIP, "30443") + "/"
	plain := client(nil)
	const ns = "rukou-system"

	step(t, "1_apply_the_manifest", func(t *testing.T) {
		start := time.Now()
		out := kubectl(t, "apply", "-f", manifest)
		if !strings.Contains(out, "daemonset.apps/rukou-envoy created") {
			t.Errorf("kubectl apply -f deploy/rukou.yaml:\n%s", out)
		}
		kubectl(t, "-n", ns, "wait", "--for=condition=complete", "job/rukou-certgen", "--timeout=120s")
		t.Logf("certgen done %v after apply", time.Since(start).Round(time.Second))
		kubectl(t, "-n", ns, "rollout", "status", "deployment/rukou", "--timeout=120s")
		kubectl(t, "-n", ns, "rollout", "status", "daemonset/rukou-envoy", "--timeout=120s")
		t.Logf("every pod Ready %v after apply", time.Since(start).Round(time.Second))
	})

	step(t, "2_pods_services_and_secrets", func(t *testing.T) {
		pods := kubectl(t, "-n", ns, "get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		var running, completed int
		for _, line := range strings.Split(strings.TrimSpace(pods), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && strings.HasPrefix(f[0], "rukou-certgen-") && f[1] == "Succeeded":
				completed++
			case len(f) == 3 && f[1] == "Running" && f[2] == "True":
				running++
			default:
				t.Errorf("pod %q: neither Running and Ready nor a completed certgen", line)
			}
		}
		if running != 3 || completed != 1 {
			t.Errorf("pods:\n%s\nwant two rukou and one rukou-envoy Running and Ready, and certgen Completed", pods)
		}
		svc := kubectl(t, "-n", ns, "get", "svc", "rukou-envoy", "-o", `jsonpath={.spec.type} {.spec.ports[*].nodePort}`)
		if svc != "NodePort 30080 30443" {
			t.Errorf("service rukou-envoy: %q, want NodePort 30080 30443", svc)
		}
		secrets := kubectl(t, "-n", ns, "get", "secrets", "-o", "name")
		for _, s := range []string{"secret/rukou-xds-ca", "secret/rukou-xds-server", "secret/rukou-xds-client"} {
			if !strings.Contains(secrets, s) {
				t.Errorf("certgen did not create %s; secrets: %s", s, secrets)
			}
		}
	})

	step(t, "4_first_ingress_and_its_status", func(t *testing.T) {
		kubectl(t, "apply", "-f", hello)
		kubectl(t, "-n", "demo", "rollout", "status", "deployment/hello", "--timeout=120s")
		d := eventually(t, 30*time.Second, "Ingress demo/hello's status.loadBalancer", func() error {
			got := kubectl(t, "-n", "demo", "get", "ingress", "hello", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")
			if got != nodeIP {
				return fmt.Errorf("status.loadBalancer.ingress IPs %q, want the node's %s", got, nodeIP)
			}
			return nil
		})
		t.Logf("status shows %s after %v", nodeIP, d.Round(10*time.Millisecond))
		events := kubectl(t, "-n", "demo", "get", "events", "--field-selector", "involvedObject.kind=Ingress,involvedObject.name=hello", "-o", "jsonpath={.items[*].reason}")
		if !strings.Contains(events, "Accepted") {
			t.Errorf("Ingress demo/hello's events: %q, want Accepted", events)
		}
	})

	step(t, "5_curl_it_through_the_node", func(t *testing.T) {
		eventually(t, 30*time.Second, "GET "+httpURL+" with Host hello.example", func() error {
			a, err := get(plain, httpURL, "hello.example")
			if err != nil {
				return err
			}
			if a.status != http.StatusOK || !strings.HasPrefix(a.echo.Backend, "hello-") || a.echo.Host != "hello.example" {
				return fmt.Errorf("status %d from backend %q (host %q), want 200 from a hello pod", a.status, a.echo.Backend, a.echo.Host)
			}
			return nil
		})
		if a, err := get(plain, httpURL, "nowhere.example"); err != nil || a.status != http.StatusNotFound {
			t.Errorf("a host no Ingress names: %d, %v; want 404", a.status, err)
		}
	})

	step(t, "6_https_with_the_ingress_secret", func(t *testing.T) {
		certFile, keyFile, pool := selfSigned(t, "hello.example")
		kubectl(t, "-n", "demo", "create", "secret", "tls", "hello-tls", "--cert="+certFile, "--key="+keyFile)
		kubectl(t, "apply", "-f", helloTLS)
		c := client(&tls.Config{RootCAs: pool, ServerName: "hello.example"})
		eventually(t, 30*time.Second, "GET "+httpsURL+" with SNI hello.example", func() error {
			a, err := get(c, httpsURL, "hello.example")
			if err != nil {
				return err
			}
			if a.status != http.StatusOK || !strings.HasPrefix(a.echo.Backend, "hello-") {
				return fmt.Errorf("status %d from %q", a.status, a.echo.Backend)
			}
			return nil
		})
		eventually(t, 10*time.Second, "plain HTTP redirected to HTTPS", func() error {
			a, err := get(plain, httpURL, "hello.example")
			if err != nil {
				return err
			}
			if a.status != http.StatusPermanentRedirect || !strings.HasPrefix(a.location, "https://hello.example") {
				return fmt.Errorf("status %d, Location %q; want 308 to https://hello.example", a.status, a.location)
			}
			return nil
		})
	})

	step(t, "rbac_matches_docs_rbac_md", func(t *testing.T) {
		checkRBAC(t)
	})

	envoyPod := func(t *testing.T) string {
		return strings.TrimSpace(kubectl(t, "-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=envoy",
			"--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}"))
	}

	step(t, "envoy_admin_only_through_port_forward", func(t *testing.T) {
		pod := envoyPod(t)
		podIP := strings.TrimSpace(kubectl(t, "-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.podIP}"))
		if _, err := net.DialTimeout("tcp", net.JoinHostPort(podIP, "9901"), 2*time.Second); err == nil {
			t.Errorf("Envoy's admin API answers on the pod's address %s:9901; it must listen on 127.0.0.1 only", podIP)
		}
		for path, want := range map[string]int{"/ready": 200, "/stats": 404, "/config_dump": 404} {
			resp, err := http.Get("http://" + net.JoinHostPort(podIP, "9902") + path)
			if err != nil {
				t.Errorf("readiness listener %s: %v", path, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s:9902%s: %d, want %d (only /ready passes)", podIP, path, resp.StatusCode, want)
			}
		}
		admin := portForward(t, ns, pod, 9901)
		resp, err := http.Get("http://" + admin + "/server_info")
		if err != nil {
			t.Fatalf("the admin API through kubectl port-forward: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/server_info through port-forward: %d", resp.StatusCode)
		}
	})

	step(t, "a_pod_failing_readiness_gets_no_traffic", func(t *testing.T) {
		kubectl(t, "-n", "demo", "run", "hello-unready", "--image=rukou.test/backend:v1", "--image-pull-policy=IfNotPresent",
			"--labels=app=hello", "--overrides", unreadyOverrides)
		t.Cleanup(func() { _, _ = kubectlErr("-n", "demo", "delete", "pod", "hello-unready", "--wait=false") })
		eventually(t, 60*time.Second, "pod hello-unready running", func() error {
			phase := kubectl(t, "-n", "demo", "get", "pod", "hello-unready", "-o", "jsonpath={.status.phase}")
			if phase != "Running" {
				return fmt.Errorf("phase %s", phase)
			}
			return nil
		})
		podIP := strings.TrimSpace(kubectl(t, "-n", "demo", "get", "pod", "hello-unready", "-o", "jsonpath={.status.podIP}"))
		// The pod serves (its probe looks at a closed port), so a request
		// routed to it would be answered, by name.
		eventually(t, 30*time.Second, "the unready pod in the EndpointSlice, not ready", func() error {
			out := kubectl(t, "-n", "demo", "get", "endpointslices", "-l", "kubernetes.io/service-name=hello", "-o",
				`jsonpath={range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready}{"\n"}{end}`)
			if !strings.Contains(out, podIP+" false") {
				return fmt.Errorf("endpoints %q", out)
			}
			return nil
		})
		admin := portForward(t, ns, envoyPod(t), 9901)
		c := client(&tls.Config{InsecureSkipVerify: true, ServerName: "hello.example"})
		for i := range 40 {
			a, err := get(c, httpsURL, "hello.example")
			if err != nil || a.status != http.StatusOK {
				t.Fatalf("request %d: %d, %v", i, a.status, err)
			}
			if a.echo.Backend == "hello-unready" {
				t.Fatalf("request %d was answered by hello-unready, a pod that is not Ready", i)
			}
		}
		hosts, err := envoyHosts(admin, "demo/hello/80")
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(hosts, podIP) {
			t.Errorf("Envoy's healthy hosts %v include the unready pod %s", hosts, podIP)
		}
	})

	step(t, "scaling_changes_envoy_endpoints_within_a_second", func(t *testing.T) {
		admin := portForward(t, ns, envoyPod(t), 9901)
		for _, replicas := range []int{3, 2} {
			kubectl(t, "-n", "demo", "scale", "deployment/hello", "--replicas="+strconv.Itoa(replicas))
			// From the moment the EndpointSlice lists the ready
			// addresses to the moment Envoy has them.
			var ready []string
			eventually(t, 90*time.Second, fmt.Sprintf("%d ready endpoints of demo/hello", replicas), func() error {
				out := kubectl(t, "-n", "demo", "get", "endpointslices", "-l", "kubernetes.io/service-name=hello", "-o",
					`jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}`)
				ready = strings.Fields(out)
				if len(ready) != replicas {
					return fmt.Errorf("ready endpoints %v", ready)
				}
				return nil
			})
			slices.Sort(ready)
			d := eventually(t, 10*time.Second, fmt.Sprintf("Envoy's hosts of demo/hello/80 = %v", ready), func() error {
				hosts, err := envoyHosts(admin, "demo/hello/80")
				if err != nil {
					return err
				}
				slices.Sort(hosts)
				if !slices.Equal(hosts, ready) {
					return fmt.Errorf("Envoy has %v", hosts)
				}
				return nil
			})
			t.Logf("scaled to %d: Envoy's endpoints followed the EndpointSlice within %v", replicas, d.Round(time.Millisecond))
			// The EndpointSlice is read by polling kubectl (about 100 ms a
			// look), so this bound includes that lag.
			if d > time.Second {
				t.Errorf("scaled to %d: Envoy's endpoints changed %v after the EndpointSlice, want within 1 s", replicas, d)
			}
		}
	})

	for _, target := range []string{"daemonset/rukou-envoy", "deployment/rukou"} {
		step(t, "rollout_restart_"+strings.Split(target, "/")[0]+"_under_load_fails_nothing", func(t *testing.T) {
			before := strings.Fields(kubectl(t, "-n", ns, "get", "pods", "-l", selectorOf(target), "-o", "jsonpath={.items[*].metadata.name}"))
			// HTTPS: plain HTTP answers 308 since step 6.
			c := client(&tls.Config{InsecureSkipVerify: true, ServerName: "hello.example"})
			l := startLoad(c, httpsURL, "hello.example", 20*time.Millisecond, 10000, 3*time.Minute)
			time.Sleep(time.Second)
			start := time.Now()
			kubectl(t, "-n", ns, "rollout", "restart", target)
			kubectl(t, "-n", ns, "rollout", "status", target, "--timeout=150s")
			// Until the old pods are gone: an Envoy drains after its
			// replacement is Ready.
			eventually(t, 90*time.Second, "the old pods of "+target+" gone", func() error {
				now := kubectl(t, "-n", ns, "get", "pods", "-o", "jsonpath={.items[*].metadata.name}")
				for _, p := range before {
					if slices.Contains(strings.Fields(now), p) {
						return fmt.Errorf("%s still there", p)
					}
				}
				return nil
			})
			time.Sleep(time.Second)
			ok, failures := l.finish()
			t.Logf("%s restarted in %v; %d requests served, %d failed", target, time.Since(start).Round(time.Second), ok, len(failures))
			if len(failures) > 0 {
				t.Errorf("%d of %d requests failed during the rollout restart of %s: %s", len(failures), ok+len(failures), target, strings.Join(failures[:min(len(failures), 10)], "; "))
			}
			if ok < 100 {
				t.Errorf("only %d requests served during the rollout: the load loop did not run", ok)
			}
		})
	}

	step(t, "leader_failover", func(t *testing.T) {
		// The Lease's duration is read while a replica holds it: a released
		// Lease says 1 s (client-go writes that when it lets go), which is
		// not the duration the replicas were started with.
		leaseDuration := 15 * time.Second
		holder := func() string {
			out, _ := kubectlErr("-n", ns, "get", "lease", "rukou-leader", "-o", "jsonpath={.spec.holderIdentity}")
			return strings.TrimSpace(out)
		}
		// After the rollout above, the Lease may still name a replica that
		// is gone (until it expires, when stops do not release it): wait
		// for a running replica to hold it.
		var old, leaderPod string
		eventually(t, leaseDuration+15*time.Second, "a running replica holding the Lease", func() error {
			old = holder()
			leaderPod, _, _ = strings.Cut(old, "_")
			running := kubectl(t, "-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=controller", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
			if leaderPod == "" || !slices.Contains(strings.Fields(running), leaderPod) {
				return fmt.Errorf("holder %q, running replicas %q", old, running)
			}
			s := kubectl(t, "-n", ns, "get", "lease", "rukou-leader", "-o", "jsonpath={.spec.holderIdentity} {.spec.leaseDurationSeconds}")
			h, secs, _ := strings.Cut(strings.TrimSpace(s), " ")
			n, err := strconv.Atoi(secs)
			if h != old || err != nil || n <= 0 {
				return fmt.Errorf("Lease %q changed while it was read", s)
			}
			leaseDuration = time.Duration(n) * time.Second
			return nil
		})
		start := time.Now()
		kubectl(t, "-n", ns, "delete", "pod", leaderPod, "--wait=false")
		var released time.Duration
		taken := eventually(t, leaseDuration+10*time.Second, "another replica holding the Lease", func() error {
			h := holder()
			if h != old && released == 0 {
				released = time.Since(start)
			}
			if h == "" || h == old {
				return fmt.Errorf("holder %q", h)
			}
			return nil
		})
		t.Logf("leader %s deleted: Lease released after %v, taken by %s after %v (lease duration %v)", leaderPod, released.Round(10*time.Millisecond), holder(), taken.Round(10*time.Millisecond), leaseDuration)
		if taken > leaseDuration {
			t.Errorf("the other replica took the Lease %v after the leader was deleted, want within the lease duration %v", taken, leaseDuration)
		}
		// A graceful stop (SIGTERM) releases the Lease at once: the other
		// replica, which retries every 2 s, takes it within that.
		if released > 3*time.Second {
			t.Errorf("a gracefully stopped leader released the Lease after %v, want at once (the other replica took it within its retry period, not after the lease ran out)", released)
		}
		// Status updates continue under the new leader.
		kubectl(t, "-n", "demo", "create", "ingress", "after-failover", "--class=rukou", "--rule=after.example/*=hello:80")
		d := eventually(t, 30*time.Second, "status of an Ingress created after the failover", func() error {
			got := kubectl(t, "-n", "demo", "get", "ingress", "after-failover", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")
			if got != nodeIP {
				return fmt.Errorf("status.loadBalancer IPs %q", got)
			}
			return nil
		})
		t.Logf("the new leader wrote the status of a new Ingress %v after its creation", d.Round(10*time.Millisecond))
		kubectl(t, "-n", ns, "rollout", "status", "deployment/rukou", "--timeout=120s")
	})
}

// unreadyOverrides makes `kubectl run hello-unready` a backend pod that
// serves on 8080 but whose readiness probe looks at a closed port.
const unreadyOverrides = `{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":65532},"containers":[{"name":"hello-unready","image":"rukou.test/backend:v1","args":["-name=hello-unready","-listen=:8080"],"readinessProbe":{"tcpSocket":{"port":9},"periodSeconds":2}}]}}`

func selectorOf(target string) string {
	if strings.HasPrefix(target, "daemonset/") {
		return "app.kubernetes.io/component=envoy"
	}
	return "app.kubernetes.io/component=controller"
}

// step runs one step of the tutorial; a failed step stops the test, since
// the next ones build on it.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// selfSigned writes a certificate and key for host, as `openssl req -x509`
// would, and returns their files and a pool that trusts the certificate.
func selfSigned(t *testing.T, host string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "hello.crt"), filepath.Join(dir, "hello.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
