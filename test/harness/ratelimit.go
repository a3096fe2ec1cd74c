package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RateLimit is a running envoyproxy/ratelimit service and the Redis it
// counts in.
type RateLimit struct {
	*Process
	Redis *Process
	// GRPCAddress is where Envoy asks (rukou serve
	// --global-rate-limit-service); ConfigDir where its configuration is
	// read from (--global-rate-limit-config-dir).
	GRPCAddress string
	ConfigDir   string
	debugPort   int
}

// StartRateLimit runs Debian's redis-server and bin/ratelimit on
// 127.0.0.1, the service reading its configuration from a directory of
// its own, and waits until it answers its health check. A missing tool
// fails the test with the command that installs it.
func StartRateLimit(t testing.TB) *RateLimit {
	t.Helper()
	bin := filepath.Join(Root(t), "bin", "ratelimit")
	if _, err := os.Stat(bin); err != nil {
		t.Fatal("bin/ratelimit is missing: run `make tools` (test/tools/install.sh ratelimit builds envoyproxy/ratelimit)")
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is missing: run `make tools` as root (test/tools/install.sh ratelimit: apt-get install redis-server)")
	}
	redisPort := FreePort(t)
	redis := Start(t, "redis-server", exec.Command(redisBin, "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes"), 5*time.Second)

	// ratelimit exits when Redis refuses its first connection.
	Eventually(t, 10*time.Second, "redis-server accepts connections", func() error {
		if redis.Exited() {
			t.Fatalf("redis-server exited:\n%s", redis.Log())
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(redisPort), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	root := t.TempDir()
	r := &RateLimit{Redis: redis, GRPCAddress: Addr(t), ConfigDir: filepath.Join(root, "ratelimit", "config"), debugPort: FreePort(t)}
	if err := os.MkdirAll(r.ConfigDir, 0o755); err != nil {
		t.Fatal(err)
	}
	httpPort := FreePort(t)
	_, grpcPort, _ := strings.Cut(r.GRPCAddress, ":")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"USE_STATSD=false", "LOG_LEVEL=info", "BACKEND_TYPE=redis",
		"REDIS_SOCKET_TYPE=tcp", "REDIS_URL=127.0.0.1:"+strconv.Itoa(redisPort),
		"HOST=127.0.0.1", "PORT="+strconv.Itoa(httpPort),
		"GRPC_HOST=127.0.0.1", "GRPC_PORT="+grpcPort,
		"DEBUG_HOST=127.0.0.1", "DEBUG_PORT="+strconv.Itoa(r.debugPort),
		"RUNTIME_ROOT="+root, "RUNTIME_SUBDIRECTORY=ratelimit", "RUNTIME_APPDIRECTORY=config",
		"RUNTIME_WATCH_ROOT=false", "RUNTIME_IGNOREDOTFILES=true",
	)
	r.Process = Start(t, "ratelimit", cmd, 5*time.Second)
	Eventually(t, 20*time.Second, "ratelimit answers its health check", func() error {
		if r.Exited() {
			t.Fatalf("ratelimit exited:\n%s", r.Log())
		}
		_, err := GetOK(fmt.Sprintf("http://127.0.0.1:%d/healthcheck", httpPort))
		return err
	})
	return r
}

// AwaitConfig waits until the service has loaded a configuration that
// holds want (its /rlconfig page).
func (r *RateLimit) AwaitConfig(t testing.TB, want string) {
	t.Helper()
	Eventually(t, 20*time.Second, fmt.Sprintf("ratelimit's configuration holds %q", want), func() error {
		page, err := GetOK(fmt.Sprintf("http://127.0.0.1:%d/rlconfig", r.debugPort))
		if err != nil {
			return err
		}
		if !strings.Contains(page, want) {
			return fmt.Errorf("not yet: %.300s", page)
		}
		return nil
	})
}
