package harness

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Cluster is a real etcd and kube-apiserver on loopback. Nothing else of a
// cluster runs: no controller-manager, so tests create EndpointSlices and
// ServiceAccounts themselves.
type Cluster struct {
	Etcd, APIServer *Process
	t               testing.TB
	apiBin          string
	apiArgs         []string
	// Kubeconfig is a kubeconfig file for a cluster admin.
	Kubeconfig string
	Client     kubernetes.Interface
	Config     *rest.Config
}

const adminToken = "rukou-e2e-admin-token"

// StartCluster starts etcd and kube-apiserver and waits until the API server
// is ready.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	etcdBin, apiBin := Tool(t, "etcd"), Tool(t, "kube-apiserver")
	dir := t.TempDir()
	c := &Cluster{}

	client, peer := FreePort(t), FreePort(t)
	clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	c.Etcd = Start(t, "etcd", exec.Command(etcdBin,
		"--name", "e2e",
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "e2e="+peerURL,
		"--log-level", "warn",
	), 10*time.Second)
	Eventually(t, 30*time.Second, "etcd is healthy", func() error {
		resp, err := http.Get(clientURL + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("etcd /health: %s", resp.Status)
		}
		return nil
	})

	saKey := filepath.Join(dir, "sa.key")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, []byte(adminToken+",admin,admin,system:masters\n"))

	port := FreePort(t)
	c.t, c.apiBin = t, apiBin
	c.apiArgs = []string{
		"--etcd-servers", clientURL,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port),
		"--cert-dir", filepath.Join(dir, "certs"),
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", saKey,
		"--service-account-signing-key-file", saKey,
		"--service-cluster-ip-range", "10.96.0.0/16",
		// No kube-controller-manager or nodes here: nothing would keep the
		// "kubernetes" Service's endpoints, and loopback is refused there.
		"--endpoint-reconciler-type", "none",
	}
	c.StartAPIServer()

	server := "https://127.0.0.1:" + strconv.Itoa(port)
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: adminToken}
	kc.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "admin"}
	kc.CurrentContext = "e2e"
	if err := clientcmd.WriteToFile(*kc, c.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c.Client = kubernetes.NewForConfigOrDie(c.Config)
	c.WaitReady()
	return c
}

// StartAPIServer starts kube-apiserver (again, after StopAPIServer) on the
// same port and etcd.
func (c *Cluster) StartAPIServer() {
	// kube-apiserver can take more than 10 s to exit on SIGTERM.
	c.APIServer = Start(c.t, "kube-apiserver", exec.Command(c.apiBin, c.apiArgs...), 20*time.Second)
}

// StopAPIServer stops kube-apiserver, as an outage would.
func (c *Cluster) StopAPIServer() {
	c.APIServer.Stop(20 * time.Second)
}

// WaitReady waits until kube-apiserver answers /readyz.
func (c *Cluster) WaitReady() {
	t := c.t
	Eventually(t, 90*time.Second, "kube-apiserver is ready", func() error {
		if c.APIServer.Exited() {
			t.Fatalf("kube-apiserver exited:\n%s", c.APIServer.Log())
		}
		body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(Context(t))
		if err != nil {
			return fmt.Errorf("%v: %s", err, body)
		}
		return nil
	})
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
