package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/rukou/rukou/limiter"
	"github.com/rukou/rukou/selfsigned"
	"github.com/rukou/rukou/translator"
	"github.com/rukou/rukou/watcher"
	"github.com/rukou/rukou/xds"
)

// translationFlags registers the flags that shape translation; serve and
// translate share them so that both see the same routing. Their defaults
// are those already in opts (translator.DefaultOptions).
func translationFlags(fs *pflag.FlagSet, opts *translator.Options) {
	fs.StringVar(&opts.IngressClass, "ingress-class", opts.IngressClass, "value of the legacy kubernetes.io/ingress.class annotation that selects rukou")
	fs.StringVar(&opts.ControllerName, "controller-name", opts.ControllerName, "spec.controller of the IngressClasses rukou serves")
	fs.BoolVar(&opts.WatchIngressWithoutClass, "watch-ingress-without-class", opts.WatchIngressWithoutClass, "also serve Ingresses that name no class")
	fs.StringVar(&opts.ListenAddress, "envoy-listen-address", opts.ListenAddress, "address Envoy's listeners bind to")
	fs.Var(portValue{&opts.HTTPPort}, "envoy-http-port", "port of Envoy's HTTP listener")
	fs.Var(portValue{&opts.HTTPSPort}, "envoy-https-port", "port of Envoy's HTTPS listener")
	fs.Var(portValue{&opts.HTTPSRedirectPort}, "https-redirect-port", "port in the redirects from HTTP to HTTPS: where clients reach the HTTPS listener")
	fs.BoolVar(&opts.DisableExternalName, "disable-svc-external-name", opts.DisableExternalName, "refuse Ingress backends on ExternalName Services (their paths answer 503), as ingress-nginx's flag of that name")
	fs.Var(namespacedName{&opts.ConfigMap}, "configmap", "NAMESPACE/NAME of the ConfigMap with ingress-nginx's controller settings (docs/configmap.md); in file mode, a ConfigMap of that name among the manifests")
	fs.Var(namespacedName{&opts.TCPServices}, "tcp-services-configmap", `NAMESPACE/NAME of the ConfigMap of TCP services: "PORT": "namespace/service:port[:PROXY][:PROXY]" (docs/tcp-udp.md)`)
	fs.Var(namespacedName{&opts.UDPServices}, "udp-services-configmap", `NAMESPACE/NAME of the ConfigMap of UDP services: "PORT": "namespace/service:port" (docs/tcp-udp.md)`)
	fs.Var(namespacedName{&opts.DefaultSSLCertificate}, "default-ssl-certificate", "NAMESPACE/NAME of the kubernetes.io/tls Secret served to HTTPS clients whose SNI names no host with a certificate, and to TLS hosts whose Secret cannot be used (default: a self-signed certificate made at start)")
	fs.BoolVar(&opts.EnableSSLPassthrough, "enable-ssl-passthrough", opts.EnableSSLPassthrough, "pass the TLS connections of hosts whose Ingress sets ssl-passthrough to their backend unopened, chosen by SNI, as ingress-nginx's flag of that name")
	fs.Var(hostPort{&opts.GlobalRateLimitService}, "global-rate-limit-service", "HOST:PORT of the rate limit service (envoyproxy/ratelimit's gRPC) that counts global-rate-limit for every Envoy (docs/ratelimit.md); without it such Ingresses are served unlimited, reported")
	fs.Var(namespacedName{&opts.DefaultBackendService}, "default-backend-service", "NAMESPACE/NAME of the Service whose first port serves the requests no rule and no Ingress defaultBackend serve (default: 404)")
}

// generateCertificate gives opts the self-signed default certificate,
// made anew at each start and held in memory only, as ingress-nginx makes
// its own. It is served when --default-ssl-certificate names none that can
// be used.
func generateCertificate(opts *translator.Options) error {
	chain, key, err := selfsigned.Fake(time.Now())
	if err != nil {
		return fmt.Errorf("default certificate: %w", err)
	}
	opts.GeneratedCertificate = &translator.KeyPair{Chain: chain, Key: key}
	return nil
}

// generateInternalSecret gives opts the secret that admits Envoy's
// internal requests (custom-http-errors) to their routes, made at each
// start and never shown to clients. rukou translate keeps the fixed one:
// its output is for reading, and stays the same from run to run.
func generateInternalSecret(opts *translator.Options) error {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("internal secret: %w", err)
	}
	opts.InternalSecret = hex.EncodeToString(secret)
	return nil
}

// namespacedName is a flag value that must be NAMESPACE/NAME.
type namespacedName struct{ p *string }

func (v namespacedName) String() string { return *v.p }
func (v namespacedName) Type() string   { return "namespace/name" }

func (v namespacedName) Set(s string) error {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%q is not NAMESPACE/NAME", s)
	}
	*v.p = s
	return nil
}

type serveConfig struct {
	xdsAddress, opsAddress string
	debugAddress           string
	kubeconfig, watchDir   string
	namespace              string
	kubeQPS                float64
	kubeBurst              int
	logLevel, logFormat    string
	opts                   translator.Options
	cluster                clusterConfig
	xdsTLS                 xdsTLSConfig
	// rateLimitDir is where the rate limit service reads its
	// configuration (--global-rate-limit-config-dir).
	rateLimitDir string
}

// xdsTLSConfig are the files that put the xDS server behind TLS.
type xdsTLSConfig struct{ cert, key, ca string }

func xdsTLSFlags(fs *pflag.FlagSet, cfg *xdsTLSConfig) {
	fs.StringVar(&cfg.cert, "xds-tls-cert", "", "certificate file of the xDS server (serves xDS over TLS; with --xds-tls-key)")
	fs.StringVar(&cfg.key, "xds-tls-key", "", "private key file of --xds-tls-cert")
	fs.StringVar(&cfg.ca, "xds-tls-ca", "", "CA file; Envoys must present a client certificate it signed (mutual TLS)")
}

// serverOptions returns the gRPC options for the xDS server's TLS, none
// without a certificate.
func (c xdsTLSConfig) serverOptions() ([]grpc.ServerOption, error) {
	switch {
	case c.cert == "" && c.key == "" && c.ca == "":
		return nil, nil
	case c.cert == "" || c.key == "":
		return nil, fmt.Errorf("--xds-tls-cert and --xds-tls-key go together (--xds-tls-ca needs both)")
	}
	opt, err := xds.TLS(c.cert, c.key, c.ca)
	if err != nil {
		return nil, err
	}
	return []grpc.ServerOption{opt}, nil
}

func newServeCmd() *cobra.Command {
	cfg := serveConfig{opts: translator.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane",
		Long: `Run the control plane: watch the cluster (--kubeconfig, else the in-cluster
config, else $KUBECONFIG) or a directory of manifests (--watch-dir), and serve
the Envoy configuration over xDS.`,
		Example: `  rukou serve --watch-dir examples
  rukou serve --kubeconfig ~/.kube/config --watch-namespace shop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), cfg.logLevel, cfg.logFormat)
			if err != nil {
				return err
			}
			setMemoryLimit(log)
			return serve(cmd.Context(), cfg, log)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.xdsAddress, "xds-address", defaultXDSAddress, "address of the xDS (gRPC ADS) server")
	fs.StringVar(&cfg.opsAddress, "ops-address", defaultOpsAddress, "address of /metrics, /healthz and /readyz")
	fs.StringVar(&cfg.debugAddress, "debug-address", defaultDebugAddress, "address of /debug/ (configuration, xDS state, pprof); loopback by default, empty turns it off")
	kubeconfigFlag(fs, &cfg.kubeconfig)
	fs.StringVar(&cfg.watchDir, "watch-dir", "", "serve the manifests in this directory instead of a cluster, and follow its changes")
	fs.StringVar(&cfg.namespace, "watch-namespace", "", "watch only this namespace (default: all)")
	fs.Float64Var(&cfg.kubeQPS, "kube-api-qps", 50, "requests per second rukou may send to the API server (status, Events)")
	fs.IntVar(&cfg.kubeBurst, "kube-api-burst", 100, "bursts of requests to the API server")
	logLevelFlag(fs, &cfg.logLevel)
	fs.StringVar(&cfg.logFormat, "log-format", "text", "text or json")
	translationFlags(fs, &cfg.opts)
	clusterFlags(fs, &cfg.cluster)
	xdsTLSFlags(fs, &cfg.xdsTLS)
	fs.StringVar(&cfg.rateLimitDir, "global-rate-limit-config-dir", "", "directory where rukou writes "+rateLimitFileName+", the rate limit service's configuration of the global rate limits: $RUNTIME_ROOT/$RUNTIME_SUBDIRECTORY/config of envoyproxy/ratelimit (docs/ratelimit.md)")
	return cmd
}

func serve(ctx context.Context, cfg serveConfig, log *slog.Logger) error {
	// Deferred calls run last first: cancel stops every goroutine below,
	// then wg.Wait waits for them. The other order would hang on any early
	// return once the servers run.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	xdsOpts, err := cfg.xdsTLS.serverOptions()
	if err != nil {
		return err
	}
	if err := generateInternalSecret(&cfg.opts); err != nil {
		return err
	}
	if err := generateCertificate(&cfg.opts); err != nil {
		return err
	}
	if cfg.opts.GlobalRateLimitService != "" && cfg.rateLimitDir == "" {
		log.Warn("--global-rate-limit-service without --global-rate-limit-config-dir: the rate limit service must get rukou's limits some other way")
	}
	lis, err := listen(cfg)
	if err != nil {
		return err
	}

	store := watcher.NewStore()
	// Envoys whose bootstrap names no limiter of their own ask rukou.
	// Its basic authentication reads the users from the snapshot served.
	var xdsServer *xds.Server
	lim, auth := limiter.New(log), limiter.NewAuth(log, limiter.CredentialsFunc(func(ctx context.Context, name string) ([]byte, error) {
		return xdsServer.Credentials(ctx, name)
	}))
	xdsServer = xds.New(log, xds.Options{Services: []xds.Service{lim, auth}})
	state := &state{log: log}
	ops := newOps(state, xdsServer, store, cfg.opts)
	ops.registry.MustRegister(lim.Collectors()...)
	ops.registry.MustRegister(auth.Collectors()...)

	errs := make(chan error, 4)
	wg.Go(func() { errs <- serveHTTP(ctx, lis.ops, ops.handler()) })
	if lis.debug != nil {
		wg.Go(func() { errs <- serveHTTP(ctx, lis.debug, ops.debugHandler()) })
	}
	wg.Go(func() { errs <- xdsServer.Serve(ctx, lis.xds, xdsOpts...) })

	if cfg.watchDir != "" {
		err = watchDir(ctx, &wg, cfg.watchDir, store, state, log)
	} else {
		err = watchCluster(ctx, &wg, cfg, store, state, ops, log, errs)
	}
	if err != nil {
		return err
	}

	rb := servingRebuilder(ctx, cfg, store, xdsServer, state, ops, log)
	rb.rebuild()
	log.Info("serving", lis.attrs()...)
	wg.Go(func() { rb.run(ctx, store.Changes()) })

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return nil
	case err := <-errs:
		cancel()
		return err
	}
}

// servingRebuilder translates the store's objects on each change and
// serves the result: the rate limit service's file first, then xDS; the
// debug pages and metrics follow what was served.
func servingRebuilder(ctx context.Context, cfg serveConfig, store *watcher.Store, xdsServer *xds.Server, state *state, ops *ops, log *slog.Logger) *rebuilder {
	limits := &rateLimitFile{dir: cfg.rateLimitDir, log: log}
	rb := newRebuilder(store, cfg.opts, func(res *translator.Result) error {
		if err := limits.write(res); err != nil {
			// The limits the service has keep counting; new ones count
			// nothing until a write succeeds.
			log.Error("global rate limits not written", "error", err)
		}
		return xdsServer.Update(ctx, res.Resources)
	})
	rb.done = func(r rebuild) {
		ops.observeRebuild(r.elapsed, r.err)
		if r.err != nil {
			log.Error("configuration not served; still serving the previous one", "error", r.err)
			return
		}
		state.set(r.res)
		log.Debug("configuration updated", "elapsed", r.elapsed, "clusters", len(r.res.Resources.Clusters), "endpointsOnly", r.endpointsOnly)
	}
	return rb
}

// listeners are serve's open ports; debug is nil when --debug-address is
// empty.
type listeners struct{ xds, ops, debug net.Listener }

// listen opens the xDS, ops and debug ports first, so that a busy port fails
// at once rather than after the caches have synced.
func listen(cfg serveConfig) (listeners, error) {
	var l listeners
	open := func(flag, addr string) (net.Listener, error) {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("--%s %s: %w", flag, addr, err)
		}
		return lis, nil
	}
	var err error
	if l.xds, err = open("xds-address", cfg.xdsAddress); err != nil {
		return listeners{}, err
	}
	if l.ops, err = open("ops-address", cfg.opsAddress); err != nil {
		return listeners{}, err
	}
	if cfg.debugAddress != "" {
		if l.debug, err = open("debug-address", cfg.debugAddress); err != nil {
			return listeners{}, err
		}
	}
	return l, nil
}

func (l listeners) close() {
	for _, lis := range []net.Listener{l.xds, l.ops, l.debug} {
		if lis != nil {
			lis.Close()
		}
	}
}

// attrs names the addresses for the log.
func (l listeners) attrs() []any {
	attrs := []any{"xds", l.xds.Addr().String(), "ops", l.ops.Addr().String()}
	if l.debug != nil {
		attrs = append(attrs, "debug", l.debug.Addr().String())
	}
	return attrs
}

// watchDir fills store from the manifests in dir and follows their changes.
func watchDir(ctx context.Context, wg *sync.WaitGroup, dir string, store *watcher.Store, st *state, log *slog.Logger) error {
	d := &watcher.Dir{Path: dir, Store: store, Log: log}
	if err := d.Scan(); err != nil {
		return fmt.Errorf("watch dir: %w", err)
	}
	st.sourceErrors = d.Errors
	wg.Go(func() { d.Run(ctx) })
	log.Info("watching manifests", "dir", dir)
	return nil
}

// watchCluster fills store from the cluster's informers, and writes Ingress
// status and Events back while this replica leads.
func watchCluster(ctx context.Context, wg *sync.WaitGroup, cfg serveConfig, store *watcher.Store, st *state, ops *ops, log *slog.Logger, errs chan<- error) error {
	rc, err := restConfig(cfg.kubeconfig)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = float32(cfg.kubeQPS), cfg.kubeBurst
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	kube := &watcher.Kube{
		Client: client, Namespace: cfg.namespace, ConfigMapNamespaces: cfg.opts.ConfigMapNamespaces(), Store: store, Log: log,
		DefaultSSLCertificate: cfg.opts.DefaultSSLCertificate, DefaultBackendService: cfg.opts.DefaultBackendService,
	}
	if err := kube.Start(ctx); err != nil {
		return err
	}
	log.Info("watching cluster", "host", rc.Host, "namespace", cfg.namespace)
	if _, err := cfg.cluster.addresses(client); err != nil {
		return err
	}
	wg.Go(func() {
		if err := runClusterWriter(ctx, client, cfg.cluster, store, st, ops.registry, log); err != nil {
			errs <- err
		}
	})
	return nil
}

// restConfig finds the cluster: --kubeconfig, else the in-cluster config,
// else $KUBECONFIG and ~/.kube/config as kubectl reads them.
func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		if rc, err := rest.InClusterConfig(); err == nil {
			return rc, nil
		} else if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("in-cluster config: %w", err)
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w (give --kubeconfig, run in a cluster, or set $KUBECONFIG)", err)
	}
	return rc, nil
}

// state is the outcome of the last translation, for logs, /debug and the
// status writer.
type state struct {
	log          *slog.Logger
	mu           sync.Mutex
	last         *translator.Result
	sourceErrors func() []error
	kick         chan struct{}
}

// kicks signals after each translation; signals coalesce.
func (s *state) kicks() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kick == nil {
		s.kick = make(chan struct{}, 1)
	}
	return s.kick
}

// set records res and logs the diagnostics that are new since the last
// translation, so a broken Ingress is reported once, not on every rebuild.
// The status writer is signalled unless res carries the very statuses and
// diagnostics of the last result, as an endpoint change's does: its work
// goes through every Ingress, which an endpoint change is not to pay for.
func (s *state) set(res *translator.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.last
	s.last = res
	if last != nil && sameSlice(res.Diagnostics, last.Diagnostics) && sameSlice(res.Ingresses, last.Ingresses) {
		return
	}
	var prev map[translator.Diagnostic]bool
	if last != nil {
		prev = make(map[translator.Diagnostic]bool, len(last.Diagnostics))
		for _, d := range last.Diagnostics {
			prev[d] = true
		}
	}
	for _, d := range res.Diagnostics {
		if !prev[d] {
			s.log.Warn("rule not served as written", "kind", d.Kind, "namespace", d.Namespace, "name", d.Name, "field", d.Field, "reason", d.Reason, "message", d.Message)
		}
	}
	s.pokeLocked()
}

// sameSlice reports whether a and b are the same elements of the same
// array: a result that shares them with another was not rebuilt there.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// poke signals the status writer without a new translation (its
// addresses changed, say).
func (s *state) poke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pokeLocked()
}

func (s *state) pokeLocked() {
	if s.kick != nil {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func (s *state) result() *translator.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
