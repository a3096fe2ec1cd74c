package harness

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ServiceAccountKubeconfig asks the API server for a token of the
// ServiceAccount namespace/name (the TokenRequest API, as the kubelet does
// for a pod) and writes a kubeconfig that authenticates with it, against
// server (the API server itself when empty).
func (c *Cluster) ServiceAccountKubeconfig(t testing.TB, namespace, name, server string) string {
	t.Helper()
	tok, err := c.Client.CoreV1().ServiceAccounts(namespace).CreateToken(Context(t), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for ServiceAccount %s/%s: %v", namespace, name, err)
	}
	if server == "" {
		server = c.Config.Host
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: strings.HasPrefix(server, "https:")}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: name}
	kc.CurrentContext = "e2e"
	path := filepath.Join(t.TempDir(), namespace+"-"+name+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptrTo[T any](v T) *T { return &v }

// Kubectl runs bin/kubectl with the kubeconfig and returns its combined
// output.
func Kubectl(t testing.TB, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(Tool(t, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// APIRequest is one request that went through an APIRecorder.
type APIRequest struct {
	Method string
	// Path and Query are the request's URL path and query string.
	Path  string
	Query url.Values
}

// APIRecorder is a reverse proxy to the API server on 127.0.0.1 that keeps
// every request it passes: the way to see what a client really asks for.
type APIRecorder struct {
	// URL is the proxy's address, for a kubeconfig's server.
	URL  string
	mu   sync.Mutex
	reqs []APIRequest
}

// StartAPIRecorder serves the proxy until the test ends. Clients talk TLS to
// it (with a certificate of its own: client-go sends no token over plain
// HTTP); it talks TLS to the API server and forwards their credentials
// unchanged.
func (c *Cluster) StartAPIRecorder(t testing.TB) *APIRecorder {
	t.Helper()
	target, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	r := &APIRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	proxy.FlushInterval = -1 // watches stream
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, APIRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query()})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Requests returns the requests so far.
func (r *APIRecorder) Requests() []APIRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]APIRequest(nil), r.reqs...)
}
