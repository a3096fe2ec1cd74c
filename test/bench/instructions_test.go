package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rukou/rukou/test/harness"
)

// instructionRequests is how many requests one count takes the instructions
// of; instructionWarmup requests go first on the same connection, counted
// by nothing, so that what is counted is the steady state of a keep-alive
// connection. rukou's listener closes a connection after 1,000 requests
// (ingress-nginx's keep-alive-requests), so both stay below that.
const (
	instructionRequests = 500
	instructionWarmup   = 50
)

// BenchmarkDataPlaneInstructions counts the machine instructions Envoy
// executes per request, under valgrind's callgrind, for the same Envoys and
// Ingresses as BenchmarkDataPlane: the minimal static Envoy, and rukou's
// Envoy with one Ingress per case. The count does not depend on what else
// the machine is doing, so a difference of one per cent is a difference of
// the configuration, where BenchmarkDataPlane's CPU time moves by ten per
// cent between runs on a busy machine. It counts user space only (the
// kernel's work on the sockets is the same for both Envoys) and every
// thread of the process (the worker, and whatever the main thread does
// meanwhile: a stats flush, an xDS keep-alive).
//
// Each count turns callgrind's instrumentation on, sends the warm-up and
// then instructionRequests GETs one after the other on one keep-alive
// connection, each answer read whole and checked, and reads the count
// from the dump callgrind writes. ratio is the static Envoy's instructions
// per request divided by rukou's: 1 would mean that rukou's configuration
// costs nothing more than the minimal one.
//
//	bash test/tools/install.sh valgrind    # Debian's valgrind, as root
//	go test -run '^$' -bench 'DataPlaneInstructions' -benchtime 1x -timeout 20m ./test/bench/
func BenchmarkDataPlaneInstructions(b *testing.B) {
	cg, backendPort, staticPer := countStatic(b)
	manifest, hosts := dataPlaneManifest(b, backendPort)
	rukouUnder, rukouOut := cg.under(b)
	rukouPort, rukouEnvoy := startStackWith(b, manifest, harness.EnvoyOptions{EnvoyArgs: []string{"--concurrency", "1"}, Under: rukouUnder}, hosts...)
	for _, c := range dataPlaneCases {
		b.Run("feature="+c.name, func(b *testing.B) {
			var sum float64
			for range b.N {
				sum += cg.perRequest(b, rukouEnvoy.PID(), rukouOut, rukouPort, c.name+".bench")
			}
			rukouPer := sum / float64(b.N)
			b.ReportMetric(staticPer, "static-instr/req")
			b.ReportMetric(rukouPer, "rukou-instr/req")
			b.ReportMetric(staticPer/rukouPer, "ratio")
		})
	}
}

// countStatic builds the binaries, finds callgrind, starts the echo
// backend and counts the minimal static Envoy's instructions per request
// in front of it.
func countStatic(b *testing.B) (cg callgrind, backendPort int, perRequest float64) {
	b.Helper()
	binaries(b)
	cg = findCallgrind(b)
	backendPort = harness.StartBackend(b, "echo")
	under, out := cg.under(b)
	static := startStaticEnvoy(b, backendPort, under...)
	return cg, backendPort, cg.perRequest(b, static.pid, out, static.port, static.host)
}

// callgrind is valgrind's callgrind tool and the command that controls a
// running one.
type callgrind struct {
	valgrind, control string
}

// findCallgrind finds valgrind and callgrind_control, failing with how to
// install them when they are missing.
func findCallgrind(b *testing.B) callgrind {
	b.Helper()
	var c callgrind
	for _, tool := range []struct {
		name string
		path *string
	}{{"valgrind", &c.valgrind}, {"callgrind_control", &c.control}} {
		p, err := exec.LookPath(tool.name)
		if err != nil {
			b.Fatalf("%s not found: install Debian's valgrind package (bash test/tools/install.sh valgrind, as root)", tool.name)
		}
		*tool.path = p
	}
	return c
}

// under is the command line that runs a program under callgrind with its
// instrumentation off until perRequest turns it on, and the prefix of the
// files its dumps go to.
func (c callgrind) under(b *testing.B) ([]string, string) {
	out := filepath.Join(b.TempDir(), "callgrind.out")
	return []string{c.valgrind, "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + out}, out
}

// perRequest counts the instructions process pid executes for
// instructionRequests requests to host on port, and returns the count per
// request.
func (c callgrind) perRequest(b *testing.B, pid int, out string, port int, host string) float64 {
	b.Helper()
	ctl := func(args ...string) {
		b.Helper()
		cmd := exec.Command(c.control, append(args, strconv.Itoa(pid))...)
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("callgrind_control %s: %v\n%s", strings.Join(args, " "), err, o)
		}
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	send := func(n int) {
		b.Helper()
		for range n {
			if err := keepAliveGet(conn, r, host); err != nil {
				b.Fatalf("%s: %v", host, err)
			}
		}
	}
	before := dumps(b, out)
	ctl("--instr=on")
	send(instructionWarmup)
	ctl("--zero")
	send(instructionRequests)
	ctl("--dump")
	ctl("--instr=off")
	total := awaitDump(b, out, before)
	return float64(total) / instructionRequests
}

// keepAliveGet sends one GET for / to host on conn and reads the whole
// answer, which must be a 200 that keeps the connection open.
func keepAliveGet(conn net.Conn, r *bufio.Reader, host string) error {
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case resp.Close:
		return fmt.Errorf("Envoy closed the connection")
	}
	return nil
}

// dumps returns the dump files callgrind has written to out.N so far.
func dumps(b *testing.B, out string) map[string]bool {
	b.Helper()
	files, err := filepath.Glob(out + ".*")
	if err != nil {
		b.Fatal(err)
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f] = true
	}
	return seen
}

// awaitDump waits for the one dump file not in before to be written whole,
// and returns the instructions it counts (its "totals:" line).
func awaitDump(b *testing.B, out string, before map[string]bool) int64 {
	b.Helper()
	var total int64
	harness.Eventually(b, 30*time.Second, "callgrind's dump", func() error {
		for f := range dumps(b, out) {
			if before[f] {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			for line := range strings.Lines(string(data)) {
				if v, ok := strings.CutPrefix(line, "totals: "); ok {
					total, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					return err
				}
			}
			return fmt.Errorf("%s has no totals line yet", f)
		}
		return fmt.Errorf("no new dump next to %s", out)
	})
	return total
}
